"""What the robustness scans share: keyword checks, the prepared series and the batched effect fits."""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from spamits import its as its_pkg
from spamits.errors import ModelSpecError
from spamits.its import _covariance as cov_mod
from spamits.its import _design as design
from spamits.its import _estimate as est
from spamits.its import _inputs as inputs
from spamits.its import batch as bf

SIMULATED = "SIMULATED"
EFFECT_COLUMNS = ["estimate", "ci_low", "ci_high", "p_value", "ratio", "ratio_low", "ratio_high"]
HORIZON = 30  # periods of the relative effect reported by the sweeps
_FIT_KEYWORDS = tuple(p for p in inspect.signature(its_pkg.fit).parameters if p not in {"y", "events"})
_BATCH_KEYWORDS = {"family", "effect", "seasonality", "errors", "offset", "control", "control_mode", "alpha"}
BATCH_ERRORS = ("ar1-sandwich", "hac", "iid")  # error models of the batched refits (placebo and break scans)


def batched_kwargs(kwargs: dict) -> dict:
    """The fit keywords of a batched scan: ``errors="ar1"`` (its.fit's default, feasible GLS, which is not
    batched) becomes ``"ar1-sandwich"``: the independence estimates with the same AR(1)+white-noise sandwich.

    The real event's fit in a placebo scan uses the same keywords, so it is measured like the placebo dates.
    """
    errors = kwargs.get("errors", its_pkg.DEFAULT_ERRORS)
    return {**kwargs, "errors": "ar1-sandwich" if errors == "ar1" else errors}


# --- shared helpers -----------------------------------------------------------------------------------------


def _check_kwargs(fn: str, kwargs: dict, allowed: tuple | set = _FIT_KEYWORDS) -> None:
    bad = sorted(set(kwargs) - set(allowed))
    if bad:
        raise ModelSpecError(f"{fn}: unknown keyword(s) {bad}; pass the keywords of spamits.its.fit "
                             f"({', '.join(allowed)})")
    effect = kwargs.get("effect", "step")
    if not isinstance(effect, str):
        raise ModelSpecError(f"{fn}: effect={effect!r}: give one effect shape (a string) for the one event")
    if effect not in design.EFFECTS:
        raise ModelSpecError(f"effect={effect!r}: must be one of {', '.join(map(repr, design.EFFECTS))}")


def _event_date(event: object, fn: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """(date, earliest plausible date) of an Event, a catalog id or a date."""
    if isinstance(event, list | tuple):
        raise ModelSpecError(f"{fn}: event={event!r}: give one event (an Event, catalog id or date), not a list")
    if hasattr(event, "date"):
        return pd.Timestamp(event.date), pd.Timestamp(getattr(event, "date_lo", event.date))
    date = design.parse_date(event, f"{fn}: event")
    return date, date


def _label(table: pd.DataFrame, simulated: bool) -> pd.DataFrame:
    if simulated:
        table.columns.name = SIMULATED
    return table


def _effect_cells(est_: np.ndarray, se: np.ndarray, alpha: float) -> dict[str, np.ndarray]:
    """Wald interval, p-value and ratios (exp) of estimates with standard errors, as in ``ITSResult.effects``."""
    z = stats.norm.ppf(1 - alpha / 2)
    lo, hi = est_ - z * se, est_ + z * se
    with np.errstate(divide="ignore", invalid="ignore"):
        pval = np.where(se > 0, 2 * stats.norm.sf(np.abs(est_) / se), np.nan)
    return {"estimate": est_, "ci_low": lo, "ci_high": hi, "p_value": pval, "ratio": np.exp(est_),
            "ratio_low": np.exp(lo), "ratio_high": np.exp(hi)}


def _primary_term(effect: str) -> str:
    return "slope" if effect == "slope" else "level"


@dataclass(frozen=True)
class _Prepared:
    """A series made ready for batched refits: baseline of the kept rows, observed values, offset."""

    y: pd.Series
    B: np.ndarray  # (m, p0) baseline of the observed rows
    yv: np.ndarray  # (m,)
    off: np.ndarray  # (m,)
    obs: np.ndarray  # (n,) bool
    pos: np.ndarray  # (m,) positions of the observed rows
    kind: str


def _prepare(y: pd.Series, stop: int | None, kwargs: dict) -> _Prepared:
    """``y[:stop]`` with its baseline, offset and controls, checked as ``its.fit`` checks them."""
    y = y.iloc[:stop].copy() if stop is not None else y
    y.index.freq = y.index.freq or pd.infer_freq(y.index)
    kind = design.freq_kind(y.index)
    base = design.baseline(y.index, kwargs.get("seasonality"), kind)
    offset = kwargs.get("offset")
    if isinstance(offset, np.ndarray) and stop is not None:
        offset = offset[:stop]
    off = inputs.log_offset(offset, y.index, "offset")
    base, off, _ = inputs.add_control(base, off, kwargs.get("control"), kwargs.get("control_mode", "covariate"),
                                      y.index)
    family = kwargs.get("family", "negbin")
    y, _ = inputs.shares(y, family)
    obs = ~np.isnan(y.to_numpy())
    yv = y.to_numpy()[obs]
    est.check_family(family, yv)
    return _Prepared(y, base.to_numpy()[obs], yv, off[obs], obs, np.flatnonzero(obs), kind)


def _event_stack(n: int, starts: np.ndarray, effect: str, delta: float | None, obs: np.ndarray) -> np.ndarray:
    """Event columns (D, m, k) for an event starting at each position in ``starts`` (``design.event_columns``)."""
    k = np.arange(n, dtype=float)[None, :] - starts[:, None]
    after = k >= 0
    cols = []
    if effect in {"step", "step+slope"}:
        cols.append(after.astype(float))
    if effect in {"slope", "step+slope"}:
        cols.append(np.where(after, k, 0.0))
    if effect == "decay":
        cols.append(np.where(after, delta ** np.clip(k, 0, None), 0.0))
    return np.stack(cols, axis=2)[:, obs]


def _batch_effects(prep: _Prepared, starts: np.ndarray, kwargs: dict, delta: float | None = None,
                   model_based: bool = False) -> tuple[bf.BatchFit, np.ndarray, np.ndarray, np.ndarray | None]:
    """Batched fits at ``starts``: the fit, the primary term's estimate and standard error, and (with
    ``model_based``) its model-based (iid) standard error."""
    family = kwargs.get("family", "negbin")
    effect = kwargs.get("effect", "step")
    errors = batched_kwargs(kwargs)["errors"]
    if family not in est.FAMILIES:
        raise ModelSpecError(f"family={family!r}: must be one of {', '.join(repr(f) for f in est.FAMILIES)}")
    if errors not in BATCH_ERRORS:
        raise ModelSpecError(f"errors={errors!r}: must be one of {', '.join(map(repr, its_pkg.ERRORS))}")
    E = _event_stack(len(prep.obs), starts, effect, delta, prep.obs)
    fit = bf.fit_batch(family, prep.B, E, prep.yv, prep.off)
    p0 = prep.B.shape[1]
    if effect == "decay":  # the linearised decay-rate column, as its.fit adds it (coefficient 0)
        k = np.clip(np.arange(len(prep.obs))[None, :] - starts[:, None], 0, None)[:, prep.obs]
        deriv = np.where(E[:, :, 0] > 0, fit.beta[:, [p0]] * k * delta**k * (1 - delta), 0.0)
        E = np.concatenate([E, deriv[:, :, None]], axis=2)

    def std_err(errors: str) -> np.ndarray:  # of the first event column: level, or slope for effect="slope"
        kind = cov_mod.kind_of(errors)
        return np.sqrt(np.clip(bf.covariance(kind, prep.B, E, fit, prep.pos, keep=[p0])[:, 0, 0], 0, None))

    se = std_err(errors)
    if not model_based:
        return fit, fit.beta[:, p0], se, None
    return fit, fit.beta[:, p0], se, se if errors == "iid" else std_err("iid")


def default_min_periods(kind: str, seasonality: object, n_base: int) -> int:
    """Default periods needed on each side of a placebo or candidate date.

    ``max(2·P + n_base, 3·P)`` with P the natural period (7 days, 52 weeks, 12 months) and ``n_base`` the
    number of baseline terms: two seasonal cycles beyond the baseline's parameters, and never fewer than the
    three cycles below which ``its.fit`` warns that the baseline is weak.
    """
    period = design.NATURAL_PERIOD[kind]
    return max(2 * period + n_base, 3 * period)


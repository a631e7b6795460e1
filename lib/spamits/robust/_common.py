"""What the robustness scans share: keyword checks, event dates, the model of the scans and table cells."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
from scipy import stats

from spamits import its as its_pkg
from spamits._labels import mark_simulated
from spamits.errors import ModelSpecError

EFFECT_COLUMNS = ["estimate", "ci_low", "ci_high", "p_value", "ratio", "ratio_low", "ratio_high"]
HORIZON = 30  # periods of the relative effect reported by the sweeps
_FIT_KEYWORDS = tuple(p for p in inspect.signature(its_pkg.fit).parameters if p not in {"y", "events"})
_BATCH_KEYWORDS = {"family", "effect", "seasonality", "errors", "offset", "control", "control_mode", "alpha"}
BATCH_ERRORS = ("ar1-sandwich", "hac", "iid")  # error models of the batched refits (placebo and break scans)


def batched_kwargs(kwargs: dict) -> dict:
    """The fit keywords of a batched scan: ``errors="ar1"`` (its.fit's default, feasible GLS, which is not
    batched) becomes ``"ar1-sandwich"``: the independence estimates with the same AR(1)+white-noise sandwich.

    The real event's fit in a placebo scan uses the same keywords, so it is measured like the placebo dates: no
    pre-period break is added (``pre_break="none"``), as none is at the placebo dates.
    """
    errors = kwargs.get("errors", its_pkg.DEFAULT_ERRORS)
    batched = its_pkg.ERROR_MODELS[errors].batched if errors in its_pkg.ERROR_MODELS else errors
    return {**kwargs, "errors": batched, "pre_break": "none"}


# --- shared helpers -----------------------------------------------------------------------------------------


def _check_kwargs(fn: str, kwargs: dict, allowed: tuple | set = _FIT_KEYWORDS) -> None:
    bad = sorted(set(kwargs) - set(allowed))
    if bad:
        raise ModelSpecError(f"{fn}: unknown keyword(s) {bad}; pass the keywords of spamits.its.fit "
                             f"({', '.join(allowed)})")
    effect = kwargs.get("effect", "step")
    if not isinstance(effect, str):
        raise ModelSpecError(f"{fn}: effect={effect!r}: give one effect shape (a string) for the one event")
    if effect not in its_pkg.EFFECTS:
        raise ModelSpecError(f"effect={effect!r}: must be one of {', '.join(map(repr, its_pkg.EFFECTS))}")


def _event_date(event: object, fn: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """(date, earliest plausible date) of one event in any form ``its.fit`` takes (``its.as_event``)."""
    if isinstance(event, list | tuple):
        raise ModelSpecError(f"{fn}: event={event!r}: give one event (an Event, catalog id or date), not a list")
    ref = its_pkg.as_event(event, f"{fn}: event")
    return ref.date, ref.earliest


def stamp(when: object) -> str:
    """A date as text: ``2008-11-11`` at midnight, ``2008-11-11 21:00`` with its time otherwise (hourly data)."""
    when = pd.Timestamp(when)
    return when.date().isoformat() if when == when.normalize() else when.strftime("%Y-%m-%d %H:%M")


def _label(table: pd.DataFrame, simulated: bool) -> pd.DataFrame:
    return mark_simulated(table, simulated)


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


def _prepare(y: pd.Series, stop: int | None, kwargs: dict) -> its_pkg.ITSModel:
    """The model of ``y[:stop]`` (no event) with the fit keywords ``kwargs``, checked as ``its.fit`` checks
    them: what the batched scans fit (``ITSModel.fit_batch``)."""
    model = its_pkg.ITSModel(y, None, **kwargs)
    return model if stop is None else model.restricted(stop)


def default_min_periods(freq: str, seasonality: object, n_base: int) -> int:
    """Default periods needed on each side of a placebo or candidate date.

    ``max(2·P + n_base, 3·P)`` with P the natural period (24 hours, 7 days, 52 weeks, 12 months) and ``n_base`` the
    number of baseline terms: two seasonal cycles beyond the baseline's parameters, and never fewer than the
    three cycles below which ``its.fit`` warns that the baseline is weak.
    """
    period = its_pkg.NATURAL_PERIOD[freq]
    return max(2 * period + n_base, 3 * period)


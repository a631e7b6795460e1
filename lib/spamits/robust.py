"""Robustness of a takedown estimate: placebo dates, date and window sensitivity, and unknown break dates.

* :func:`placebo_in_time` — the same model refitted at every admissible date before the real event; where
  does the real estimate fall among estimates at dates with no event?  All refits are solved together
  (``spamits._batchfit``), so a 2-year daily series takes well under a second or two.
* :func:`date_sweep` / :func:`window_sweep` — refits over the catalog's date range (``date_lo``..``date_hi``)
  and over a grid of pre/post window lengths, as tidy tables.
* :func:`break_scan` — where does the data itself put a break?  A likelihood profile over candidate dates
  (sup-LR / sup-Wald scan) with a likelihood-ratio confidence set for the date.
* :func:`takedown_table` and :func:`cross_takedown_summary` — one row per event (immediate change and
  half-life with intervals, takedowns and pauses side by side, REAL fits beside SIMULATED ones) and a
  plain-language answer with its caveats.

Every function takes the keywords of :func:`spamits.its.fit` (``family``, ``effect``, ``seasonality``,
``errors``, ``alpha``, ``offset``, ``control``, ...).  Result objects are frozen dataclasses; their tables say
SIMULATED (``columns.name``) when the series is simulated.  No plotting here (see ``spamits.plots``).
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special, stats

from spamits import _batchfit as bf
from spamits import audit, data, events
from spamits import its as its_pkg
from spamits.errors import DataValidationError, ModelSpecError
from spamits.its import _covariance as cov_mod
from spamits.its import _design as design
from spamits.its import _estimate as est
from spamits.its import _inputs as inputs
from spamits.its._summary import clean

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


# --- placebo in time ----------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PlaceboResult:
    """Placebo-in-time refits.

    ``table``: one row per admissible placebo date (``date``, ``term``, ``estimate``, ``ci_low``, ``ci_high``,
    ``p_value``, ``ratio``, ``ratio_low``, ``ratio_high``); ``observed``: the real event's estimate of the
    same term (log scale); ``p_value``: empirical two-sided, ``(1 + #{|placebo| >= |observed|}) / (1 + N)``;
    ``dates``: the placebo dates; ``fit``: the real event's ``ITSResult``.
    """

    table: pd.DataFrame
    observed: float
    p_value: float
    dates: pd.DatetimeIndex
    event: str
    event_date: pd.Timestamp
    term: str
    spec: dict
    fit: object = field(repr=False)
    simulated: bool = False
    unit: str = "days"
    source: str = ""

    @property
    def n(self) -> int:
        return len(self.table)

    def summary(self) -> str:
        """A short fixed-format text summary."""
        head = f"{SIMULATED}: " if self.simulated else ""
        est_ = self.table["estimate"]
        lines = [
            f"{head}Placebo-in-time test of {self.event} ({self.event_date.date()}), term {self.term}",
            f"  model: {self.spec['family']} / {self.spec['effect']} / errors {self.spec['errors']}"
            + (f" / decay rate fixed at {self.spec['decay_rate']:.4g}" if self.spec.get("decay_rate") else ""),
            f"  placebo dates: {self.n} ({self.dates[0].date()} to {self.dates[-1].date()}), data up to "
            f"{self.spec['data_end']}",
            f"  observed estimate: {self.observed:.4g} (ratio {math.exp(self.observed):.4g})",
            f"  placebo estimates: median {est_.median():.4g}, 2.5%-97.5% {est_.quantile(0.025):.4g} to "
            f"{est_.quantile(0.975):.4g}",
            f"  empirical two-sided p-value: {self.p_value:.4g}",
        ]
        return "\n".join(lines)


def placebo_in_time(y: pd.Series, event: object, *, min_pre: int | None = None, min_post: int | None = None,
                    gap: int = 0, **fit_kwargs: object) -> PlaceboResult:
    """Refit the model of ``its.fit(y, event, **fit_kwargs)`` at every admissible date before the event.

    Data: only the periods before the real event are used — ``y`` is cut at the earliest catalog date of the
    event (``event.date_lo`` for a catalog Event, else its date) minus ``gap`` periods, so no placebo window
    contains the event or the days the sources disagree on.  Admissible placebo dates leave at least
    ``min_pre`` observed periods before them and ``min_post`` observed periods from them to the cut (defaults:
    :func:`default_min_periods`, e.g. 21 days for daily data with ``seasonality="dow"``).  Each placebo fit
    is exactly ``its.fit(y_cut, date, **fit_kwargs)`` (same family, baseline, dispersion estimate and error
    model), but all are solved together.

    ``effect="decay"``: the decay rate is fixed at the real event's estimate for every placebo date, and the
    statistic is the immediate change ω at that rate.  At a date with no event the decay-rate profile is
    flat or runs to its search bounds, so a profiled ω would mean something different at every date; with
    the rate fixed, every placebo estimate measures the same thing as the observed one (an effect of the
    observed shape), and the scan stays one batched solve.

    Only ``effect`` strings (one event) are accepted; intervals use ``errors`` exactly as ``its.fit`` does,
    except that ``errors="ar1"`` (feasible GLS, not batched) is run as ``"ar1-sandwich"`` for the real date
    and every placebo date alike (:func:`batched_kwargs`; ``spec["errors"]`` says which).
    """
    _check_kwargs("placebo_in_time", fit_kwargs, _BATCH_KEYWORDS | {"n_draws", "seed"})
    if not isinstance(gap, int | np.integer) or gap < 0:
        raise ModelSpecError(f"placebo_in_time: gap={gap!r} must be an int >= 0 (periods left out before the event)")
    fit_kwargs = batched_kwargs(fit_kwargs)
    real = its_pkg.fit(y, event, **fit_kwargs)
    date, earliest = _event_date(event, "placebo_in_time")
    y = inputs.check_y(y)
    cut = design.event_position(y.index, min(earliest, date)) - int(gap)
    prep = _prepare(y, max(cut, 0), fit_kwargs)
    effect = str(fit_kwargs.get("effect", "step"))
    starts = _placebo_starts(prep, min_pre, min_post, fit_kwargs, cut)
    term = _primary_term(effect)
    label = real.events[0]
    eff = real.effects.set_index(["event", "term"])
    delta = float(eff.loc[(label, "decay_rate"), "estimate"]) if effect == "decay" else None
    _, beta, se, _ = _batch_effects(prep, starts, fit_kwargs, delta)
    alpha = float(fit_kwargs.get("alpha", 0.05))
    dates = prep.y.index[starts]
    table = pd.DataFrame({"date": dates, "term": term, **_effect_cells(beta, se, alpha)})
    observed = float(eff.loc[(label, term), "estimate"])
    p_value = float((1 + np.sum(np.abs(beta) >= abs(observed))) / (1 + len(beta)))
    spec = {"family": real.family, "effect": effect, "errors": real.errors,
            "seasonality": fit_kwargs.get("seasonality"), "alpha": alpha, "decay_rate": delta,
            "min_pre": int(_mins(prep, min_pre, min_post, fit_kwargs)[0]),
            "min_post": int(_mins(prep, min_pre, min_post, fit_kwargs)[1]), "gap": int(gap),
            "data_end": prep.y.index[-1].date().isoformat()}
    sim = bool(y.attrs.get("simulated", False))
    return PlaceboResult(_label(table, sim), observed, p_value, pd.DatetimeIndex(dates), label, date, term, spec,
                         real, sim, real.unit, str(y.attrs.get("source", "")))


def _mins(prep: _Prepared, min_pre: int | None, min_post: int | None, kwargs: dict) -> tuple[int, int]:
    default = default_min_periods(prep.kind, kwargs.get("seasonality"), prep.B.shape[1])
    out = []
    for name, value in (("min_pre", min_pre), ("min_post", min_post)):
        if value is None:
            value = default
        if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
            raise ModelSpecError(f"{name}={value!r}: must be an int >= 1 (periods)")
        out.append(int(value))
    need = prep.B.shape[1] + 3
    if out[0] < need:
        raise ModelSpecError(f"min_pre={out[0]}: the model has {prep.B.shape[1]} baseline terms; need at least "
                             f"{need} periods before each placebo date")
    return out[0], out[1]


def _placebo_starts(prep: _Prepared, min_pre: int | None, min_post: int | None, kwargs: dict,
                    cut: int) -> np.ndarray:
    lo, hi = _mins(prep, min_pre, min_post, kwargs)
    before = np.cumsum(np.concatenate([[0], prep.obs.astype(int)]))[:-1]  # observed periods before each position
    after = prep.obs.sum() - before
    starts = np.flatnonzero((before >= lo) & (after >= hi))
    if starts.size == 0:
        raise ModelSpecError(f"placebo_in_time: no admissible placebo date: the pre-period has {int(prep.obs.sum())} "
                             f"observed periods before {prep.y.index[-1].date() if cut > 0 else 'the event'}, "
                             f"need min_pre={lo} + min_post={hi}; use a longer series or smaller min_pre/min_post")
    return starts


def describe_placebo(result: PlaceboResult) -> str:
    """One plain-language paragraph on a placebo test, computed from its numbers."""
    sim = f"{SIMULATED} data. " if result.simulated else ""
    n_big = int(np.sum(np.abs(result.table["estimate"]) >= abs(result.observed)))
    change = 100 * (math.exp(result.observed) - 1)
    what = "immediate change" if result.term == "level" else "change of trend"
    verdict = ("larger in size than at almost every placebo date, so a drop like this is unlikely to be a chance "
               "feature of the series" if result.p_value < 0.05 else
               "not unusual among the placebo dates, so the series alone cannot tell it apart from noise")
    return (f"{sim}Refitting the same model at {result.n} dates before {result.event} with no event, "
            f"{n_big} of them gave an estimate at least as large in size as the real one "
            f"({what} {change:+.1f}%{' per period' if result.term == 'slope' else ''}); the empirical p-value "
            f"is {result.p_value:.3f}. The real estimate is {verdict}. Placebo estimates at neighbouring dates "
            "share most of their data, so they are not independent draws.")


# --- date and window sweeps --------------------------------------------------------------------------------


def _fit_rows(result: object, label: str, extra: dict) -> list[dict]:
    """Tidy rows of one fit: every effect term of ``label`` plus the relative effect over HORIZON periods."""
    eff = result.effects
    table = result.impact_table(horizons=(HORIZON,))
    first = table[table["window"].str.startswith("first")]
    rel = {f"relative_{HORIZON}": np.nan, f"relative_{HORIZON}_low": np.nan, f"relative_{HORIZON}_high": np.nan}
    if len(first):
        row = first.iloc[0]
        rel = {f"relative_{HORIZON}": row["relative"], f"relative_{HORIZON}_low": row["relative_low"],
               f"relative_{HORIZON}_high": row["relative_high"]}
    rows = []
    for r in eff[eff["event"] == label].itertuples(index=False):
        rows.append({**extra, "term": r.term, **{c: getattr(r, c) for c in EFFECT_COLUMNS}, **rel})
    return rows


def date_sweep(y: pd.Series, event: object, **fit_kwargs: object) -> pd.DataFrame:
    """Refit ``its.fit`` with the event on every day from ``event.date_lo`` to ``event.date_hi`` (inclusive).

    ``event``: a catalog Event or id (``spamits.events.get``).  Returns a tidy table: ``date``, ``catalog``
    (True on the catalog's best date), ``term`` (every effect term of the fit), ``estimate``, ``ci_low``,
    ``ci_high``, ``p_value``, ``ratio``, ``ratio_low``, ``ratio_high``, and the relative effect over the first
    30 periods with its interval (``relative_30``, ``relative_30_low``, ``relative_30_high``; the same on
    every term row of a date).
    """
    _check_kwargs("date_sweep", fit_kwargs)
    ev = events.get(event) if isinstance(event, str) else event
    if not all(hasattr(ev, a) for a in ("date", "date_lo", "date_hi")):
        raise ModelSpecError(f"date_sweep: event={event!r} needs date_lo and date_hi; pass a catalog Event or id "
                             "(spamits.events.get)")
    days = pd.date_range(ev.date_lo, ev.date_hi, freq="D")
    rows = []
    for day in days:
        result = its_pkg.fit(y, day, **fit_kwargs)
        rows += _fit_rows(result, result.events[0], {"date": day, "catalog": bool(day == pd.Timestamp(ev.date))})
    return _label(pd.DataFrame(rows), bool(y.attrs.get("simulated", False)))


def window_sweep(y: pd.Series, event: object, *, pre: tuple[int, ...] = (120, 240, 365),
                 post: tuple[int, ...] = (60, 120, 180), **fit_kwargs: object) -> pd.DataFrame:
    """Refit over every combination of ``pre`` and ``post`` window lengths (periods; ``data.window``).

    ``y`` is the whole series; each fit uses ``data.window(y, event.date, pre=, post=)``.  Every combination
    must fit in the series (the error names the window that does not).  Returns a tidy table: ``pre``,
    ``post``, ``term``, the effect columns and ``relative_30`` with its interval, as :func:`date_sweep`.
    """
    _check_kwargs("window_sweep", fit_kwargs)
    date, _ = _event_date(event, "window_sweep")
    for name, values in (("pre", pre), ("post", post)):
        if not isinstance(values, list | tuple) or not values or not all(
                isinstance(v, int | np.integer) and v >= 1 for v in values):
            raise ModelSpecError(f"window_sweep: {name}={values!r} must be a non-empty list of ints >= 1 (periods)")
    rows = []
    for n_pre in pre:
        for n_post in post:
            yw = data.window(y, date, pre=int(n_pre), post=int(n_post))
            result = its_pkg.fit(yw, event, **fit_kwargs)
            rows += _fit_rows(result, result.events[0], {"pre": int(n_pre), "post": int(n_post),
                                                         "window": f"{n_pre} pre / {n_post} post"})
    return _label(pd.DataFrame(rows), bool(y.attrs.get("simulated", False)))


def describe_sweep(table: pd.DataFrame, *, by: str) -> str:
    """A sentence on how much the immediate change moves across a date or window sweep (``by`` a column)."""
    level = table[table["term"] == "level"]
    if level.empty:
        return "The fits have no immediate-change (level) term to compare."
    pct = 100 * (level["ratio"] - 1)
    sig = int((level["ci_high"] < 0).sum() + (level["ci_low"] > 0).sum())
    sim = f"{SIMULATED} data. " if table.columns.name == SIMULATED else ""
    what = {"date": "event dates", "window": "windows"}.get(by, by)
    return (f"{sim}Across {len(level)} {what} the immediate change ranges from {pct.min():+.1f}% to "
            f"{pct.max():+.1f}%; its interval excludes zero in {sig} of {len(level)} fits.")


# --- unknown break date -------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class BreakResult:
    """A scan for the date of a level break.

    ``date``: the candidate date with the largest likelihood-ratio statistic (profile likelihood of the break
    date); ``date_low``/``date_high``: the earliest and latest date of the likelihood-ratio confidence set,
    i.e. the dates whose statistic is within ``χ²₁(1-α)·inflation`` of the maximum (``inflation`` >= 1 is the
    ratio of the chosen error model's variance of the break term to the model-based one at the best date, so
    autocorrelation widens the set; cf. Eo & Morley 2015, J. Econometrics 188:2).  ``statistic``: the sup-LR
    statistic; ``wald``: the sup of the Wald statistics under the chosen error model.  The sup statistics have
    non-standard null distributions (Andrews 1993), so no p-value is given.  ``table``: ``date``,
    ``estimate`` (log change), ``ci_low``, ``ci_high``, ``statistic`` (LR), ``wald``, ``in_set``.
    """

    date: pd.Timestamp
    date_low: pd.Timestamp
    date_high: pd.Timestamp
    statistic: float
    wald: float
    inflation: float
    table: pd.DataFrame
    spec: dict
    simulated: bool = False
    source: str = ""

    def summary(self) -> str:
        head = f"{SIMULATED}: " if self.simulated else ""
        best = self.table.loc[self.table["date"] == self.date].iloc[0]
        return "\n".join([
            f"{head}Break-date scan ({self.spec['family']}, {self.spec['effect']}, errors {self.spec['errors']})",
            f"  candidates: {len(self.table)} ({self.table['date'].iloc[0].date()} to "
            f"{self.table['date'].iloc[-1].date()})",
            f"  best date: {self.date.date()} (LR {self.statistic:.4g}, sup-Wald {self.wald:.4g})",
            f"  {100 * (1 - self.spec['alpha']):.0f}% confidence set: {self.date_low.date()} to "
            f"{self.date_high.date()} (inflation {self.inflation:.3g})",
            f"  change at the best date: {100 * (math.exp(best['estimate']) - 1):+.1f}%",
        ])


def break_scan(y: pd.Series, start: object = None, end: object = None, *, trim: int | None = None,
               decay_rate: float | None = None, **fit_kwargs: object) -> BreakResult:
    """Scan candidate break dates in ``[start, end]`` (default: the whole series less ``trim`` at each end).

    At each candidate date the model of ``its.fit`` with a break there (``effect`` ``"step"`` by default, or
    ``"step+slope"``/``"slope"``) is fitted, all dates together, and compared with the model without a break:
    the statistic is ``2·(loglik_break - loglik_none)`` (Gaussian families: ``m·log(RSS_none/RSS_break)``;
    quasi-Poisson: the Poisson statistic over the dispersion).  A decaying effect (``effect="decay"``) is
    scanned with its decay rate fixed at ``decay_rate`` for every candidate (e.g. the rate fitted at the
    catalog date, ``PlaceboResult.spec["decay_rate"]``): a step scan of a fading drop finds the middle of the
    post-period level shift rather than the drop.  ``trim`` (default
    :func:`default_min_periods`) is the number of observed periods kept on each side of every candidate.
    ``errors="ar1"`` (the default; feasible GLS in ``its.fit``) is scanned as ``"ar1-sandwich"``
    (:func:`batched_kwargs`).
    """
    _check_kwargs("break_scan", fit_kwargs, _BATCH_KEYWORDS)
    kwargs = batched_kwargs({"effect": "step", **fit_kwargs})
    if kwargs["effect"] == "decay" and not (isinstance(decay_rate, float | int) and 0 < decay_rate < 1):
        raise ModelSpecError(f"break_scan: effect='decay' needs decay_rate (fixed for all candidates) in (0, 1), got "
                             f"{decay_rate!r}; e.g. the rate fitted at the catalog date")
    y = inputs.check_y(y)
    prep = _prepare(y, None, kwargs)
    starts = _scan_starts(prep, start, end, trim, kwargs)
    delta = float(decay_rate) if kwargs["effect"] == "decay" else None
    fit, beta, se, se_iid = _batch_effects(prep, starts, kwargs, delta, model_based=True)
    family = kwargs.get("family", "negbin")
    null = bf.fit_batch(family, prep.B, np.zeros((1, len(prep.yv), 0)), prep.yv, prep.off)
    lr = _lr(family, fit, null, prep.yv)
    alpha = float(kwargs.get("alpha", 0.05))
    wald = (beta / se) ** 2
    best = int(np.argmax(lr))
    inflation = float(max((se[best] / se_iid[best]) ** 2, 1.0)) if se_iid[best] > 0 else 1.0
    in_set = lr >= lr[best] - stats.chi2.ppf(1 - alpha, 1) * inflation
    dates = prep.y.index[starts]
    cells = _effect_cells(beta, se, alpha)
    table = pd.DataFrame({"date": dates, "estimate": beta, "ci_low": cells["ci_low"],
                          "ci_high": cells["ci_high"], "statistic": lr, "wald": wald,
                          "in_set": in_set})
    spec = {"family": family, "effect": kwargs["effect"], "errors": kwargs["errors"],
            "alpha": alpha, "seasonality": kwargs.get("seasonality"), "trim": int(_trim(prep, trim, kwargs)),
            "decay_rate": delta}
    sim = bool(y.attrs.get("simulated", False))
    return BreakResult(dates[best], dates[in_set].min(), dates[in_set].max(), float(lr[best]), float(wald.max()),
                       inflation, _label(table, sim), spec, sim, str(y.attrs.get("source", "")))


def _trim(prep: _Prepared, trim: int | None, kwargs: dict) -> int:
    if trim is None:
        return default_min_periods(prep.kind, kwargs.get("seasonality"), prep.B.shape[1])
    if not isinstance(trim, int | np.integer) or isinstance(trim, bool) or trim < prep.B.shape[1] + 3:
        raise ModelSpecError(f"break_scan: trim={trim!r} must be an int >= {prep.B.shape[1] + 3} (periods kept on "
                             "each side of a candidate date)")
    return int(trim)


def _scan_starts(prep: _Prepared, start: object, end: object, trim: int | None, kwargs: dict) -> np.ndarray:
    t = _trim(prep, trim, kwargs)
    index = prep.y.index
    before = np.cumsum(np.concatenate([[0], prep.obs.astype(int)]))[:-1]
    ok = (before >= t) & (prep.obs.sum() - before >= t)
    for name, value, side in (("start", start, 1), ("end", end, -1)):
        if value is None:
            continue
        try:
            when = pd.Timestamp(value)
        except (TypeError, ValueError) as exc:
            raise ModelSpecError(f"break_scan: {name}={value!r} is not a date") from exc
        ok &= (index >= when) if side == 1 else (index <= when)
    starts = np.flatnonzero(ok)
    if starts.size == 0:
        raise ModelSpecError(f"break_scan: no candidate dates between start={start!r} and end={end!r} with trim={t} "
                             f"periods on each side ({index[0].date()} to {index[-1].date()})")
    return starts


def _loglik(family: str, fit: bf.BatchFit, yv: np.ndarray) -> np.ndarray:
    mu = np.exp(fit.eta)
    if family == "negbin":
        a = np.maximum(fit.nb_alpha, 1e-12)[:, None]
        inv = 1 / a
        return np.sum(special.gammaln(yv + inv) - special.gammaln(inv) - special.gammaln(yv + 1)
                      + inv * np.log(inv / (inv + mu)) + yv * np.log(mu / (inv + mu)), axis=1)
    return np.sum(yv * np.log(mu) - mu - special.gammaln(yv + 1), axis=1)


def _lr(family: str, fit: bf.BatchFit, null: bf.BatchFit, yv: np.ndarray) -> np.ndarray:
    if family in est.GAUSSIAN:
        m = len(yv)
        rss, rss0 = np.sum(fit.pearson**2, axis=1), np.sum(null.pearson**2)
        return m * np.log(rss0 / rss)
    lr = 2 * (_loglik(family, fit, yv) - _loglik(family, null, yv)[0])
    return lr / fit.scale if family == "quasipoisson" else lr


def describe_break(result: BreakResult, catalog_date: object = None) -> str:
    """A sentence comparing the data's break date (and its confidence set) with the catalog date."""
    sim = f"{SIMULATED} data. " if result.simulated else ""
    level = 100 * (1 - result.spec["alpha"])
    text = (f"{sim}The data put the sharpest level break on {result.date.date()} ({level:.0f}% confidence set "
            f"{result.date_low.date()} to {result.date_high.date()}).")
    if catalog_date is None:
        return text
    cat = pd.Timestamp(catalog_date)
    days = (result.date - cat).days
    inside = result.date_low <= cat <= result.date_high
    rel = "the same day as" if days == 0 else f"{abs(days)} day{'s' if abs(days) != 1 else ''} " + (
        "after" if days > 0 else "before")
    return (f"{text} That is {rel} the catalog date {cat.date()}, which is "
            f"{'inside' if inside else 'outside'} the set.")


# --- across takedowns ---------------------------------------------------------------------------------------

REAL = "REAL"
REAL_SUFFIX = f" ({REAL})"
"""Appended to the event id in the keys of :func:`fit_events` (and the ``event`` column of
:func:`takedown_table`) for fits to real counts, e.g. ``"mccolo (REAL)"``."""
TAKEDOWN_COLUMNS = ["event", "data", "name", "kind", "date", "effect", "immediate_change", "immediate_change_low",
                    "immediate_change_high", "half_life", "half_life_low", "half_life_high", "half_life_at_bound",
                    f"relative_{HORIZON}", f"relative_{HORIZON}_low", f"relative_{HORIZON}_high", "post_periods",
                    "unit"]


def takedown_table(fits: dict) -> pd.DataFrame:
    """One row per event from ``{event_id: ITSResult}``: immediate change, half-life and 30-period effect.

    Changes are fractions (-0.65 = 65% fewer messages) with their intervals; the half-life (periods) comes
    from a decay fit (NaN for other shapes), ``half_life_at_bound`` says the estimate reached the search bound
    (no recovery seen in the window).  ``kind`` is the catalog's ``takedown`` or ``pause``.  ``data`` is REAL
    or SIMULATED (the fit's series); a key ``"<event_id> (REAL)"`` (a real fit of :func:`fit_events`) is the
    row's ``event``.  The columns are named SIMULATED when any row is.
    """
    if not isinstance(fits, dict) or not fits:
        raise ModelSpecError("takedown_table: fits must be a non-empty dict {event_id: ITSResult}")
    rows = [_takedown_row(label, result) for label, result in fits.items()]
    sim = any(r.simulated for r in fits.values())
    return _label(pd.DataFrame(rows, columns=TAKEDOWN_COLUMNS), sim)


def _takedown_row(label: str, result: object) -> dict:
    event_id = label.removesuffix(REAL_SUFFIX)
    if event_id not in result.events:
        raise ModelSpecError(f"takedown_table: {event_id!r} is not an event of its fit ({result.events})")
    ev = events.get(event_id)
    eff = result.effects[result.effects["event"] == event_id].set_index("term")
    row = {"event": label, "data": SIMULATED if result.simulated else REAL, "name": ev.name, "kind": ev.kind,
           "date": ev.date.date().isoformat(), "unit": result.unit, "post_periods": result.n_post}
    level = eff.loc["level"] if "level" in eff.index else None
    row["effect"] = "decay" if "half_life" in eff.index else ("step" if level is not None else "slope")
    for key, col in (("immediate_change", "ratio"), ("immediate_change_low", "ratio_low"),
                     ("immediate_change_high", "ratio_high")):
        row[key] = float(level[col]) - 1 if level is not None else np.nan
    half = eff.loc["half_life"] if "half_life" in eff.index else None
    for key, col in (("half_life", "estimate"), ("half_life_low", "ci_low"), ("half_life_high", "ci_high")):
        row[key] = float(half[col]) if half is not None else np.nan
    row["half_life_at_bound"] = bool(half is not None and any("upper search bound" in n and event_id in n
                                                             for n in result.notes))
    impact = result.impact(start=ev.date, end=ev.date + pd.Timedelta(days=HORIZON - 1), events=[event_id])
    row.update({f"relative_{HORIZON}": impact["relative"], f"relative_{HORIZON}_low": impact["relative_low"],
                f"relative_{HORIZON}_high": impact["relative_high"]})
    return row


def cross_takedown_summary(table: pd.DataFrame) -> str:
    """A plain-language answer across events (from :func:`takedown_table`), with its caveats."""
    sim = table.columns.name == SIMULATED
    take = table[table["kind"] == "takedown"]
    pause = table[table["kind"] == "pause"]
    real = table.loc[table["data"] == REAL, "event"].tolist() if "data" in table else []
    lines = []
    if sim and real:
        lines.append(f"{SIMULATED} DATA in every row not marked {REAL}: those series are simulated from the figures "
                     "reported for each event, so they show what the method recovers, not what happened to real "
                     "spam.")
    elif sim:
        lines.append(f"{SIMULATED} DATA: every series here is simulated from the figures reported for each "
                     "event, so this shows what the method recovers, not what happened to real spam.")
    if real:
        lines.append(f"{REAL} DATA: {', '.join(real)} {'is' if len(real) == 1 else 'are'} fitted to real spam "
                     "counts (a spam trap's messages per day), each with the window its counts allow.")
    drops = take[take["immediate_change_high"] < 0]
    lines.append(f"Immediate effect: {len(drops)} of {len(take)} takedowns cut spam right away (interval below "
                 "zero): " + _list(drops, "immediate_change") + ".")
    decay = take[take["effect"] == "decay"]
    bounded = np.isfinite(decay["half_life_high"].to_numpy(dtype=float))
    long_ = decay["half_life_at_bound"] | (decay["half_life"] > decay["post_periods"])
    recovering, lasting = decay[bounded & ~long_], decay[long_]
    unclear = decay[~bounded & ~long_]
    if len(recovering):
        lines.append("Spam came back (half-life interval bounded) after " + _list_half(recovering) + ".")
    if len(lasting):
        lines.append("No recovery within the window (half-life longer than the post-period) after "
                     + _list_half(lasting) + ".")
    if len(unclear):
        lines.append("The data cannot bound how fast spam came back after " + _list_half(unclear) + ".")
    if (take["effect"] != "decay").any():
        lines.append("Fits without a decay term give no half-life: "
                     + ", ".join(take.loc[take["effect"] != "decay", "event"]) + ".")
    if len(pause):
        lines.append("Negative controls (pauses with no intervention): " + _list(pause, "immediate_change") +
                     "; a pause that looks like a takedown shows that a drop alone does not prove an intervention"
                     " worked.")
    lines.append("Caveats: one series per event and one model each; events close together share their series "
                 "(fitted jointly where listed); half-life intervals that reach the search bound mean the data "
                 "cannot rule out a lasting effect; vendor figures behind the effect sizes measure different "
                 "things." + (" Real counts come from one spam trap, whose volume also moves when the trap itself "
                              "changes (see the trap audit)." if real else ""))
    return "\n".join(lines)


def data_label(table: pd.DataFrame) -> str:
    """What the rows of a :func:`takedown_table` are: ``"SIMULATED"``, ``"REAL"`` or ``"SIMULATED and REAL"``."""
    kinds = [k for k in (SIMULATED, REAL) if (table["data"] == k).any()] if "data" in table else [SIMULATED]
    return " and ".join(kinds)


def _list(rows: pd.DataFrame, col: str) -> str:
    if rows.empty:
        return "none"
    return ", ".join(f"{r.event} {100 * getattr(r, col):+.0f}% [{100 * getattr(r, col + '_low'):+.0f}%, "
                     f"{100 * getattr(r, col + '_high'):+.0f}%]" for r in rows.itertuples())


def _list_half(rows: pd.DataFrame) -> str:
    return ", ".join(f"{r.event} (half-life {r.half_life:.1f} {r.unit}, interval {r.half_life_low:.1f} to "
                     f"{r.half_life_high:.1f})" for r in rows.itertuples())


def fit_events(event_ids: list[str], *, series: dict | None = None, joint_events: dict | None = None, seed: int = 0,
               pre_periods: int = 365, post_periods: int = 180, real_series: dict | None = None,
               **fit_kwargs: object) -> dict:
    """One ``its.fit`` per catalog event: ``{event_id: ITSResult}``, then ``{"<event_id> (REAL)": ITSResult}``.

    Each event's series is ``data.load(series.get(id, id), seed=seed)`` (by default the simulated scenario of
    the same name) cut to ``pre_periods`` before and ``post_periods`` from the event; ``joint_events[id]``
    (a list of catalog ids, the event among them) are fitted together in that series, each with ``effect``.

    ``real_series`` ``{event_id: counts}`` adds a fit of each event to real counts (``"untroubled"`` or the path
    of a ``spamits data count`` CSV, daily or hourly, read by :func:`spamits.audit.load_counts` and summed to
    days), with the window those counts allow (:func:`spamits.audit.event_windows`: up to 90 days before and 120
    from the event, at least 28 each side, the catalog events inside it fitted jointly); ``pre_periods``,
    ``post_periods`` and ``joint_events`` do not apply to them.  An event the counts cannot fit raises
    :class:`~spamits.errors.DataValidationError` with the reason.
    """
    _check_kwargs("fit_events", fit_kwargs)
    if not isinstance(event_ids, list | tuple) or not event_ids:
        raise ModelSpecError(f"fit_events: event_ids={event_ids!r} must be a non-empty list of catalog ids")
    series, joint_events = dict(series or {}), dict(joint_events or {})
    out = {}
    for event_id in event_ids:
        ev = events.get(event_id)
        joint = list(joint_events.get(event_id) or [event_id])
        if event_id not in joint:
            raise ModelSpecError(f"fit_events: joint_events[{event_id!r}]={joint} must include {event_id!r}")
        y = data.window(data.load(series.get(event_id, event_id), seed=seed), ev.date, pre=pre_periods,
                        post=post_periods)
        out[event_id] = its_pkg.fit(y, [events.get(e) for e in joint], **fit_kwargs)
    windows: dict[str, tuple[pd.Series, pd.DataFrame]] = {}
    for event_id, source in dict(real_series or {}).items():
        ev = events.get(event_id)
        if str(source) not in windows:
            daily = audit.daily_from(audit.load_counts(source)[0])
            windows[str(source)] = (daily, audit.event_windows(daily, events.load()).set_index("id"))
        daily, table = windows[str(source)]
        row = table.loc[ev.id] if ev.id in table.index else None
        if row is None or not row["fits"]:
            reason = row["reason"] if row is not None else (f"the event is outside the counted span "
                                                            f"{daily.index[0].date()} to {daily.index[-1].date()}")
            raise DataValidationError(f"fit_events: real_series[{event_id!r}] = {source!r}: {reason}")
        y = data.window(daily, ev.date, pre=int(row["pre_periods"]), post=int(row["post_periods"]))
        out[f"{ev.id}{REAL_SUFFIX}"] = its_pkg.fit(y, [events.get(e) for e in row["joint"]], **fit_kwargs)
    return out


def to_dict(*, placebo: PlaceboResult | None = None, scan: BreakResult | None = None,
            date_table: pd.DataFrame | None = None, window_table: pd.DataFrame | None = None,
            catalog_date: object = None) -> dict:
    """JSON-ready summary of robustness results (for ``results.json``): numbers only, rounded, no run times."""
    out: dict = {}
    if placebo is not None:
        out["placebo"] = {"observed": placebo.observed, "p_value": placebo.p_value, "n_dates": placebo.n,
                          "first_date": placebo.dates[0], "last_date": placebo.dates[-1], "term": placebo.term,
                          "spec": placebo.spec, "estimates": placebo.table["estimate"].tolist()}
    if scan is not None:
        out["break_scan"] = {"date": scan.date, "date_low": scan.date_low, "date_high": scan.date_high,
                             "statistic": scan.statistic, "wald": scan.wald, "inflation": scan.inflation,
                             "spec": scan.spec, "catalog_date": None if catalog_date is None else
                             pd.Timestamp(catalog_date)}
    for key, table in (("date_sweep", date_table), ("window_sweep", window_table)):
        if table is not None:
            out[key] = table.to_dict(orient="records")
    return clean(out)

"""Placebo-in-time refits: the same model at every admissible date before the real event."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from spamits import its as its_pkg
from spamits._labels import SIMULATED
from spamits.errors import ModelSpecError
from spamits.robust._common import (
    _BATCH_KEYWORDS,
    _check_kwargs,
    _effect_cells,
    _event_date,
    _label,
    _prepare,
    _primary_term,
    batched_kwargs,
    default_min_periods,
    stamp,
)

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
            f"{head}Placebo-in-time test of {self.event} ({stamp(self.event_date)}), term {self.term}",
            f"  model: {self.spec['family']} / {self.spec['effect']} / errors {self.spec['errors']}"
            + (f" / decay rate fixed at {self.spec['decay_rate']:.4g}" if self.spec.get("decay_rate") else ""),
            f"  placebo dates: {self.n} ({stamp(self.dates[0])} to {stamp(self.dates[-1])}), data up to "
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
    model = _prepare(y, None, fit_kwargs)
    y = model.y
    cut = model.position(min(earliest, date)) - int(gap)
    prep = model.restricted(max(cut, 0))
    effect = str(fit_kwargs.get("effect", "step"))
    starts = _placebo_starts(prep, min_pre, min_post, fit_kwargs, cut)
    term = _primary_term(effect)
    label = real.events[0]
    eff = real.effects.set_index(["event", "term"])
    delta = float(eff.loc[(label, "decay_rate"), "estimate"]) if effect == "decay" else None
    batch = prep.fit_batch(starts, delta=delta)
    beta, se = batch.estimate, batch.std_err
    alpha = float(fit_kwargs.get("alpha", 0.05))
    dates = prep.index[starts]
    table = pd.DataFrame({"date": dates, "term": term, **_effect_cells(beta, se, alpha)})
    observed = float(eff.loc[(label, term), "estimate"])
    p_value = float((1 + np.sum(np.abs(beta) >= abs(observed))) / (1 + len(beta)))
    spec = {"family": real.family, "effect": effect, "errors": real.errors,
            "seasonality": real.seasonality, "alpha": alpha, "decay_rate": delta,
            "min_pre": int(_mins(prep, min_pre, min_post, fit_kwargs)[0]),
            "min_post": int(_mins(prep, min_pre, min_post, fit_kwargs)[1]), "gap": int(gap),
            "data_end": stamp(prep.index[-1])}
    sim = bool(y.attrs.get("simulated", False))
    return PlaceboResult(_label(table, sim), observed, p_value, pd.DatetimeIndex(dates), label, date, term, spec,
                         real, sim, real.unit, str(y.attrs.get("source", "")))


def _mins(prep: its_pkg.ITSModel, min_pre: int | None, min_post: int | None, kwargs: dict) -> tuple[int, int]:
    default = default_min_periods(prep.freq, kwargs.get("seasonality"), prep.n_baseline)
    out = []
    for name, value in (("min_pre", min_pre), ("min_post", min_post)):
        if value is None:
            value = default
        if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
            raise ModelSpecError(f"{name}={value!r}: must be an int >= 1 (periods)")
        out.append(int(value))
    need = prep.n_baseline + 3
    if out[0] < need:
        raise ModelSpecError(f"min_pre={out[0]}: the model has {prep.n_baseline} baseline terms; need at least "
                             f"{need} periods before each placebo date")
    return out[0], out[1]


def _placebo_starts(prep: its_pkg.ITSModel, min_pre: int | None, min_post: int | None, kwargs: dict,
                    cut: int) -> np.ndarray:
    lo, hi = _mins(prep, min_pre, min_post, kwargs)
    before = np.cumsum(np.concatenate([[0], prep.observed.astype(int)]))[:-1]  # observed periods before each position
    after = prep.observed.sum() - before
    starts = np.flatnonzero((before >= lo) & (after >= hi))
    if starts.size == 0:
        raise ModelSpecError(f"placebo_in_time: no admissible placebo date: the pre-period has "
                             f"{int(prep.observed.sum())} "
                             f"observed periods before {stamp(prep.index[-1]) if cut > 0 else 'the event'}, "
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


"""Unknown break dates: a likelihood-ratio scan over candidate dates with a confidence set."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from spamits import its as its_pkg
from spamits._labels import SIMULATED
from spamits.errors import ModelSpecError
from spamits.robust._common import (
    _BATCH_KEYWORDS,
    _check_kwargs,
    _effect_cells,
    _label,
    _prepare,
    batched_kwargs,
    default_min_periods,
    stamp,
)

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

    @property
    def hourly(self) -> bool:
        """True for a scan of an hourly series (candidates one hour apart): times are given with their hour."""
        dates = self.table["date"]
        return len(dates) > 1 and bool((dates.iloc[1] - dates.iloc[0]) < pd.Timedelta(days=1))

    def _when(self, when: pd.Timestamp) -> str:
        return pd.Timestamp(when).strftime("%Y-%m-%d %H:%M") if self.hourly else stamp(when)

    def summary(self) -> str:
        head = f"{SIMULATED}: " if self.simulated else ""
        best = self.table.loc[self.table["date"] == self.date].iloc[0]
        return "\n".join([
            f"{head}Break-date scan ({self.spec['family']}, {self.spec['effect']}, errors {self.spec['errors']})",
            f"  candidates: {len(self.table)} ({self._when(self.table['date'].iloc[0])} to "
            f"{self._when(self.table['date'].iloc[-1])})",
            f"  best date: {self._when(self.date)} (LR {self.statistic:.4g}, sup-Wald {self.wald:.4g})",
            f"  {100 * (1 - self.spec['alpha']):.0f}% confidence set: {self._when(self.date_low)} to "
            f"{self._when(self.date_high)} (inflation {self.inflation:.3g})",
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
    post-period level shift rather than the drop.  ``decay_rate`` may also be a list of rates (e.g. half-lives of
    3 to 192 hours, ``0.5 ** (1 / h)``): each candidate's statistic is then the largest over the rates (the
    date's likelihood profiled over that grid), the table gains a ``decay_rate`` column and ``spec["decay_rate"]``
    is the rate at the best date; use it when the decay rate is not known, e.g. the hour of a cut-off
    known only to the day.  ``trim`` (default
    :func:`default_min_periods`) is the number of observed periods kept on each side of every candidate.
    ``errors="ar1"`` (the default; feasible GLS in ``its.fit``) is scanned as ``"ar1-sandwich"``
    (:func:`batched_kwargs`).  On an hourly series the candidates are hours (``start``/``end`` may carry a time,
    ``trim`` is in hours) and the result's dates carry their hour: "at what hour did the level break?".
    """
    _check_kwargs("break_scan", fit_kwargs, _BATCH_KEYWORDS)
    kwargs = batched_kwargs({"effect": "step", **fit_kwargs})
    rates = _decay_rates(decay_rate) if kwargs["effect"] == "decay" else [None]
    prep = _prepare(y, None, kwargs)
    y = prep.y
    starts = _scan_starts(prep, start, end, trim, kwargs)
    null = prep.fit_null()
    fits = []  # per rate: estimate, std_err, model-based std_err, LR statistic, each (D,)
    for delta in rates:
        batch = prep.fit_batch(starts, delta=delta, model_based=True)
        fits.append((batch.estimate, batch.std_err, batch.std_err_model_based, prep.likelihood_ratio(batch.fit, null)))
    stacked = np.stack([np.stack(f) for f in fits])  # (R, 4, D)
    pick = np.argmax(stacked[:, 3, :], axis=0)  # per candidate, the rate of the largest LR (profile over rates)
    beta, se, se_iid, lr = stacked[pick, :, np.arange(len(starts))].T
    family = prep.family
    alpha = float(kwargs.get("alpha", 0.05))
    wald = (beta / se) ** 2
    best = int(np.argmax(lr))
    inflation = float(max((se[best] / se_iid[best]) ** 2, 1.0)) if se_iid[best] > 0 else 1.0
    in_set = lr >= lr[best] - stats.chi2.ppf(1 - alpha, 1) * inflation
    dates = prep.index[starts]
    cells = _effect_cells(beta, se, alpha)
    table = pd.DataFrame({"date": dates, "estimate": beta, "ci_low": cells["ci_low"],
                          "ci_high": cells["ci_high"], "statistic": lr, "wald": wald,
                          "in_set": in_set})
    spec = {"family": family, "effect": kwargs["effect"], "errors": kwargs["errors"],
            "alpha": alpha, "seasonality": prep.seasonality, "trim": int(_trim(prep, trim, kwargs)),
            "decay_rate": rates[int(pick[best])]}
    if len(rates) > 1:  # profiled over a grid of rates: the rate of each candidate's statistic
        table.insert(1, "decay_rate", np.asarray(rates, dtype=float)[pick])
        spec["decay_rates"] = [float(r) for r in rates]
    sim = bool(y.attrs.get("simulated", False))
    return BreakResult(dates[best], dates[in_set].min(), dates[in_set].max(), float(lr[best]), float(wald.max()),
                       inflation, _label(table, sim), spec, sim, str(y.attrs.get("source", "")))


def _decay_rates(decay_rate: object) -> list[float]:
    """``decay_rate`` of a decay scan as a list of rates in (0, 1): one number, or a non-empty sequence."""
    values = list(decay_rate) if isinstance(decay_rate, list | tuple | np.ndarray) else [decay_rate]
    if not values or not all(isinstance(v, float | int | np.floating) and not isinstance(v, bool) and 0 < v < 1
                             for v in values):
        raise ModelSpecError(f"break_scan: effect='decay' needs decay_rate (fixed for all candidates) in (0, 1), or a "
                             f"list of such rates to profile over, got {decay_rate!r}; e.g. the rate fitted at the "
                             "catalog date")
    return [float(v) for v in values]


def _trim(prep: its_pkg.ITSModel, trim: int | None, kwargs: dict) -> int:
    if trim is None:
        return default_min_periods(prep.freq, kwargs.get("seasonality"), prep.n_baseline)
    if not isinstance(trim, int | np.integer) or isinstance(trim, bool) or trim < prep.n_baseline + 3:
        raise ModelSpecError(f"break_scan: trim={trim!r} must be an int >= {prep.n_baseline + 3} (periods kept on "
                             "each side of a candidate date)")
    return int(trim)


def _scan_starts(prep: its_pkg.ITSModel, start: object, end: object, trim: int | None, kwargs: dict) -> np.ndarray:
    t = _trim(prep, trim, kwargs)
    index = prep.index
    before = np.cumsum(np.concatenate([[0], prep.observed.astype(int)]))[:-1]
    ok = (before >= t) & (prep.observed.sum() - before >= t)
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
                             f"periods on each side ({stamp(index[0])} to {stamp(index[-1])})")
    return starts


def describe_break(result: BreakResult, catalog_date: object = None) -> str:
    """A sentence comparing the data's break date (and its confidence set) with the catalog date."""
    sim = f"{SIMULATED} data. " if result.simulated else ""
    level = 100 * (1 - result.spec["alpha"])
    when = result._when
    on = "at" if result.hourly else "on"
    text = (f"{sim}The data put the sharpest level break {on} {when(result.date)} ({level:.0f}% confidence set "
            f"{when(result.date_low)} to {when(result.date_high)}).")
    if catalog_date is None:
        return text
    cat = pd.Timestamp(catalog_date)
    unit, step = ("hour", pd.Timedelta(hours=1)) if result.hourly else ("day", pd.Timedelta(days=1))
    gap = int((result.date - cat) // step)
    inside = result.date_low <= cat <= result.date_high
    rel = f"the same {unit} as" if gap == 0 else f"{abs(gap)} {unit}{'s' if abs(gap) != 1 else ''} " + (
        "after" if gap > 0 else "before")
    return (f"{text} That is {rel} the catalog date {when(cat)}, which is "
            f"{'inside' if inside else 'outside'} the set.")


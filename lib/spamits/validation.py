"""Simulation study of the ITS estimators: bias, RMSE and interval coverage on SIMULATED series of known truth.

:func:`simulation_study` draws seeded series from the simulator (``spamits._simulate``, base scenario
``"no-effect"``: 365 days before and 180 days from the event day 2008-11-11, weekly seasonality, a trend,
AR(1) noise on the latent log-rate, negative-binomial counts, and the takedown as binomial thinning of the
counts), fits each with every method (a ``(family, errors)`` pair) and compares the estimates with the truth:

* the **relative effect over the first** ``horizon`` **days** (``impact``) against the realised truth
  ``sum(observed) / sum(simulated counterfactual) - 1`` (``true_relative_effect``), and whether the 95%
  interval covers it;
* the **half-life** of a decaying effect and the **level** (immediate log-change ``log(1 - drop)``) against the
  values the series were simulated with.

Designs, for each AR(1) coefficient ``phi``: ``decay`` (each drop × half-life, fitted with ``effect="decay"``),
``lasting`` (each drop, no recovery, fitted with ``effect="step"``) and ``overlap`` (two events 10 days apart,
a 50% drop with a 14-day half-life and then a lasting 30% drop, fitted jointly with ``effect=["decay",
"step"]``; each event's contribution over ``horizon`` days from its own date is compared with the truth for
that event alone).  Everything this module returns is labelled SIMULATED.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context

import numpy as np
import pandas as pd
from scipy import stats

from spamits._simulate import SCENARIOS, simulate, true_relative_effect
from spamits.errors import ModelSpecError, SpamitsError
from spamits.its import ERRORS, FAMILIES, clean, fit

SIMULATED = "SIMULATED"
BASE_SCENARIO = "no-effect"
DEFAULT_METHODS: tuple[tuple[str, str], ...] = (
    ("negbin", "ar1"), ("negbin", "ar1-sandwich"), ("negbin", "hac"), ("negbin", "iid"), ("quasipoisson", "ar1"),
    ("gaussian-log", "ar1"),
)
HALF_LIFE_TOLERANCE = 0.15  # the study's target: median half-life within 15% of the truth in each cell
OVERLAP_GAP = 10  # days between the two overlapping events
OVERLAP = (  # (event key, simulated effect, fitted effect) of the overlapping pair
    ("first", {"drop": 0.5, "shape": "decay", "half_life": 14.0}, "decay"),
    ("second", {"drop": 0.3, "shape": "lasting"}, "step"),
)
CELL_KEYS = ["design", "event", "effect", "phi", "drop", "half_life"]
METHOD_KEYS = ["method", "family", "errors"]
RUN_COLUMNS = CELL_KEYS + METHOD_KEYS + [
    "seed", "ok", "estimate", "ci_low", "ci_high", "truth", "covered", "level", "level_low", "level_high",
    "level_true", "level_covered", "half_life_est", "half_life_low", "half_life_high", "half_life_covered",
]
TABLE_COLUMNS = CELL_KEYS + METHOD_KEYS + [
    "n", "failed", "bias", "rmse", "coverage", "mean_width", "level_bias", "level_coverage",
    "median_half_life", "median_half_life_low", "median_half_life_high", "half_life_rel_error",
    "half_life_coverage",
]


@dataclass(frozen=True)
class Cell:
    """One simulated design: its keys in the tables, simulator overrides and what is fitted."""

    design: str  # "decay", "lasting" or "overlap"
    phi: float
    overrides: dict  # passed to simulate() on top of the base scenario
    targets: tuple[tuple[str, str, float, float], ...]  # (event key, fitted effect, drop, half-life or nan)


@dataclass(frozen=True, eq=False)
class StudyResult:
    """Outcome of :func:`simulation_study`.

    ``runs``: one row per series, event and method (columns ``RUN_COLUMNS``; relative effects and levels as
    fractions and log-changes, half-lives in days).  ``table``: one row per design cell and method (columns
    ``TABLE_COLUMNS``; coverage as a fraction of series).  ``settings``: the arguments of the study.
    """

    runs: pd.DataFrame
    table: pd.DataFrame
    settings: dict = field(default_factory=dict)

    @property
    def nominal(self) -> float:
        return 1.0 - self.settings.get("alpha", 0.05)

    def by_method(self) -> pd.DataFrame:
        """One row per method over the whole grid: pooled and mean/min cell coverage, mean |bias|, RMSE."""
        return _label(by_method(self.table, self.runs))

    def overlap(self) -> pd.DataFrame:
        """The rows of ``table`` for the overlapping pair (each event's contribution, per phi and method)."""
        out = self.table[self.table["design"] == "overlap"].reset_index(drop=True)
        return _label(out)

    def recommended_errors(self) -> pd.DataFrame:
        """Per family, the errors model with coverage closest to nominal (see :func:`recommended_errors`)."""
        return recommended_errors(self)

    def summary(self) -> str:
        """A few lines: coverage range and worst cell per method, half-life error, the errors model to prefer."""
        return _summary(self)

    def to_dict(self) -> dict:
        """JSON-ready dict (NaN as None, floats to 8 significant digits) of settings and aggregate tables."""
        return clean({"data": SIMULATED, "settings": self.settings,
                      "table": self.table.to_dict(orient="records"),
                      "by_method": self.by_method().to_dict(orient="records"),
                      "recommended_errors": self.recommended_errors().to_dict(orient="records")})


def simulation_study(
    *,
    phis: Sequence[float] = (0.0, 0.4, 0.8),
    drops: Sequence[float] = (0.2, 0.5, 0.8),
    half_lives: Sequence[float] = (3.0, 14.0, 60.0),
    lasting: bool = True,
    overlapping: bool = True,
    seeds: int = 20,
    methods: Sequence[Sequence[str]] = DEFAULT_METHODS,
    horizon: int = 30,
    n_draws: int = 1000,
    seasonality: str | int | None = "dow",
    alpha: float = 0.05,
    jobs: int = 1,
) -> StudyResult:
    """Fit every method to ``seeds`` SIMULATED series of every design cell and tabulate bias and coverage.

    Parameters
    ----------
    phis : AR(1) coefficients of the latent log-rate noise (each in (-1, 1)).
    drops : immediate relative drops (fractions in (0, 1)) of the ``decay`` and ``lasting`` designs.
    half_lives : half-lives in days of the ``decay`` design.
    lasting, overlapping : include the ``lasting`` and ``overlap`` designs.
    seeds : series per cell; series ``i`` uses seed ``i`` (the same seeds in every cell).
    methods : ``(family, errors)`` pairs, e.g. ``[("negbin", "ar1")]``.
    horizon : days over which the relative effect is measured, from each event's date (at most 170).
    n_draws, seasonality, alpha : passed to :func:`spamits.its.fit` (``alpha=0.05``: 95% intervals).
    jobs : worker processes (1: run in this process).  Results do not depend on it.

    A fit with its impact takes 0.03-0.1 s, so the study costs about ``0.07 s × seeds × cells × methods``
    (cells per phi: ``len(drops) × (len(half_lives) + lasting) + overlapping``) divided by ``jobs``.
    """
    methods = _check_args(phis, drops, half_lives, seeds, methods, horizon, jobs)
    cells = _cells(phis, drops, half_lives, lasting, overlapping)
    if not cells:
        raise ModelSpecError("simulation_study: no design cells; give phis and drops, or overlapping=True")
    options = {"methods": methods, "horizon": int(horizon), "n_draws": int(n_draws), "seasonality": seasonality,
               "alpha": float(alpha)}
    tasks = [(cell, seed, options) for cell in cells for seed in range(int(seeds))]
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
            chunks = list(pool.map(_run_task, tasks, chunksize=max(1, len(tasks) // (8 * jobs))))
    else:
        chunks = [_run_task(task) for task in tasks]
    runs = pd.DataFrame([row for chunk in chunks for row in chunk], columns=RUN_COLUMNS)
    settings = {"phis": [float(v) for v in phis], "drops": [float(v) for v in drops],
                "half_lives": [float(v) for v in half_lives], "lasting": bool(lasting),
                "overlapping": bool(overlapping), "seeds": int(seeds), "methods": [list(m) for m in methods],
                "horizon": int(horizon), "n_draws": int(n_draws), "seasonality": seasonality, "alpha": float(alpha),
                "base_scenario": BASE_SCENARIO, "overlap_gap_days": OVERLAP_GAP}
    return StudyResult(runs=_label(runs), table=_label(aggregate(runs)), settings=settings)


# --- arguments and design cells ------------------------------------------------------------------------------


def _check_args(phis, drops, half_lives, seeds, methods, horizon, jobs) -> tuple[tuple[str, str], ...]:
    for phi in phis:
        if not -1.0 < float(phi) < 1.0:
            raise ModelSpecError(f"simulation_study: phis contains {phi}; AR(1) coefficients must be in (-1, 1)")
    for drop in drops:
        if not 0.0 < float(drop) < 1.0:
            raise ModelSpecError(f"simulation_study: drops contains {drop}; drops are fractions in (0, 1)")
    for hl in half_lives:
        if not float(hl) > 0:
            raise ModelSpecError(f"simulation_study: half_lives contains {hl}; half-lives are days > 0")
    if int(seeds) < 1:
        raise ModelSpecError(f"simulation_study: seeds={seeds}; give the number of series per cell (>= 1)")
    n_post = SCENARIOS[BASE_SCENARIO].n_post
    if not 1 <= int(horizon) <= n_post - OVERLAP_GAP:
        raise ModelSpecError(f"simulation_study: horizon={horizon}; must be between 1 and {n_post - OVERLAP_GAP} "
                             f"days (the simulated post period is {n_post} days)")
    if int(jobs) < 1:
        raise ModelSpecError(f"simulation_study: jobs={jobs}; must be >= 1")
    out = []
    for method in methods:
        pair = tuple(method)
        if len(pair) != 2 or pair[0] not in FAMILIES or pair[1] not in ERRORS:
            raise ModelSpecError(f"simulation_study: method {method!r} must be a (family, errors) pair with family "
                                 f"in {sorted(FAMILIES)} and errors in {sorted(ERRORS)}")
        out.append((str(pair[0]), str(pair[1])))
    if not out:
        raise ModelSpecError("simulation_study: methods is empty; e.g. methods=[('negbin', 'ar1')]")
    return tuple(out)


def _cells(phis, drops, half_lives, lasting: bool, overlapping: bool) -> list[Cell]:
    cells = []
    nan = float("nan")
    for phi in map(float, phis):
        for drop in map(float, drops):
            for hl in map(float, half_lives):
                cells.append(Cell("decay", phi, {"drop": drop, "shape": "decay", "half_life": hl},
                                  (("main", "decay", drop, hl),)))
        if lasting:
            for drop in map(float, drops):
                cells.append(Cell("lasting", phi, {"drop": drop, "shape": "lasting"}, (("main", "step", drop, nan),)))
        if overlapping:
            cells.append(_overlap_cell(phi))
    return cells


def _overlap_cell(phi: float) -> Cell:
    (_, first, _), (key2, second, _) = OVERLAP
    base_date = pd.Timestamp(SCENARIOS[BASE_SCENARIO].event_date)
    other = {"event_id": key2, "event_date": (base_date + pd.Timedelta(days=OVERLAP_GAP)).date().isoformat(),
             **second}
    targets = tuple((key, eff, float(sim["drop"]), float(sim.get("half_life", math.nan)))
                    for key, sim, eff in OVERLAP)
    return Cell("overlap", phi, {**first, "others": (other,)}, targets)


# --- one series --------------------------------------------------------------------------------------------


def _run_task(task: tuple[Cell, int, dict]) -> list[dict]:
    """Simulate one series of ``cell`` and fit it with every method: one row per (event, method)."""
    cell, seed, options = task
    frame = simulate(BASE_SCENARIO, seed=seed, phi=cell.phi, **cell.overrides)
    n_pre = frame.attrs["settings"]["n_pre"]
    starts = [n_pre + OVERLAP_GAP * i for i in range(len(cell.targets))]
    sim_ids = [frame.attrs["event_id"]] + [o["event_id"] for o in cell.overrides.get("others", ())]
    truths = [true_relative_effect(frame, start - n_pre, options["horizon"], events=[sid] if len(sim_ids) > 1
                                   else None) for start, sid in zip(starts, sim_ids, strict=True)]
    dates = [frame.index[s] for s in starts]
    effects = [t[1] for t in cell.targets]
    rows = []
    for family, errors in options["methods"]:
        try:
            result = fit(frame["observed"], dates if len(dates) > 1 else dates[0], family=family,
                         effect=effects if len(effects) > 1 else effects[0], seasonality=options["seasonality"],
                         errors=errors, alpha=options["alpha"], n_draws=options["n_draws"])
        except (SpamitsError, np.linalg.LinAlgError):
            result = None
        for i, target in enumerate(cell.targets):
            base = _keys(cell, target, family, errors, seed)
            if result is None:
                rows.append({**base, "ok": False, "truth": truths[i]})
                continue
            window = (dates[i], frame.index[starts[i] + options["horizon"] - 1])
            rows.append({**base, **_measure(result, result.events[i], window, truths[i], target)})
    return rows


def _keys(cell: Cell, target: tuple, family: str, errors: str, seed: int) -> dict:
    event, effect, drop, hl = target
    return {"design": cell.design, "event": event, "effect": effect, "phi": cell.phi, "drop": drop,
            "half_life": hl, "method": f"{family}/{errors}", "family": family, "errors": errors, "seed": seed}


def _measure(result, label: str, window: tuple, truth: float, target: tuple) -> dict:
    """Estimates of one event in one fit against the truth."""
    _, _, drop, hl = target
    imp = result.impact(window[0], window[1], events=[label])
    eff = result.effects
    eff = eff[eff["event"] == label].set_index("term")
    level, level_true = eff.loc["level"], math.log1p(-drop)
    out = {"ok": True, "estimate": imp["relative"], "ci_low": imp["relative_low"], "ci_high": imp["relative_high"],
           "truth": truth, "covered": bool(imp["relative_low"] <= truth <= imp["relative_high"]),
           "level": level["estimate"], "level_low": level["ci_low"], "level_high": level["ci_high"],
           "level_true": level_true, "level_covered": bool(level["ci_low"] <= level_true <= level["ci_high"])}
    if "half_life" in eff.index:
        row = eff.loc["half_life"]
        out.update(half_life_est=row["estimate"], half_life_low=row["ci_low"], half_life_high=row["ci_high"],
                   half_life_covered=bool(row["ci_low"] <= hl <= row["ci_high"]))
    return out


# --- tables ------------------------------------------------------------------------------------------------


def _label(table: pd.DataFrame) -> pd.DataFrame:
    """Name the column axis SIMULATED and mark the table simulated (plots read ``attrs``)."""
    table.columns.name = SIMULATED
    table.attrs.update(simulated=True, source=f"{SIMULATED} series from spamits.validation.simulation_study "
                       f"(base scenario {BASE_SCENARIO!r})")
    return table


def aggregate(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per design cell and method: n, bias, RMSE, coverage, width, level and half-life accuracy."""
    rows = []
    for keys, group in runs.groupby(CELL_KEYS + METHOD_KEYS, sort=False, dropna=False):
        ok = group[group["ok"].astype(bool)]
        err = ok["estimate"] - ok["truth"]
        row = dict(zip(CELL_KEYS + METHOD_KEYS, keys, strict=True))
        hl_est = ok["half_life_est"].astype(float).dropna()
        median_hl = float(np.median(hl_est)) if len(hl_est) else math.nan
        hl_low, hl_high = median_interval(hl_est.to_numpy())
        row.update(
            n=len(ok), failed=len(group) - len(ok), bias=_mean(err), rmse=math.sqrt(_mean(err**2)),
            coverage=_mean(ok["covered"]), mean_width=_mean(ok["ci_high"] - ok["ci_low"]),
            level_bias=_mean(ok["level"] - ok["level_true"]), level_coverage=_mean(ok["level_covered"]),
            median_half_life=median_hl, median_half_life_low=hl_low, median_half_life_high=hl_high,
            half_life_rel_error=median_hl / row["half_life"] - 1,
            half_life_coverage=_mean(ok["half_life_covered"]) if len(hl_est) else math.nan,
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def median_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Distribution-free interval for the median of the distribution ``values`` (n,) were drawn from.

    The order statistics ``x_(r)`` and ``x_(n+1-r)`` with ``r`` the ``(1-level)/2`` quantile of Binomial(n, 1/2)
    (at least 1): they cover the median with probability at least about ``level`` whatever the distribution.
    In the study it is the Monte Carlo uncertainty of a cell's median half-life: with estimates as spread as
    a weakly identified half-life's, 200 series pin their median down to no better than ±10-20%.  (nan, nan)
    for fewer than 6 values, where no such interval reaches ``level``.
    """
    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    if n < 6:
        return math.nan, math.nan
    r = max(int(stats.binom.ppf((1 - level) / 2, n, 0.5)), 1)
    return float(x[r - 1]), float(x[n - r])


def _mean(values: pd.Series) -> float:
    values = pd.to_numeric(values, errors="coerce").dropna().astype(float)
    return float(values.mean()) if len(values) else math.nan


def by_method(table: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """One row per method over all cells.

    Relative effect: pooled coverage (``coverage``), mean and worst cell coverage, mean |bias| over cells,
    pooled RMSE and mean interval width; parameters: pooled coverage of the level and half-life intervals.
    """
    rows = []
    for (method, family, errors), group in table.groupby(METHOD_KEYS, sort=False):
        sub = runs[(runs["method"] == method) & runs["ok"].astype(bool)]
        err = sub["estimate"].astype(float) - sub["truth"].astype(float)
        rows.append({"method": method, "family": family, "errors": errors, "cells": len(group),
                     "n": int(group["n"].sum()), "coverage": _mean(sub["covered"]),
                     "mean_coverage": float(group["coverage"].mean()), "min_coverage": float(group["coverage"].min()),
                     "mean_abs_bias": float(group["bias"].abs().mean()), "rmse": math.sqrt(_mean(err**2)),
                     "mean_width": _mean(sub["ci_high"].astype(float) - sub["ci_low"].astype(float)),
                     "level_coverage": _mean(sub["level_covered"]),
                     "half_life_coverage": _mean(sub["half_life_covered"])})
    return pd.DataFrame(rows)


def recommended_errors(study: StudyResult) -> pd.DataFrame:
    """Per family, the errors model whose intervals cover the truth closest to nominal over the study's cells.

    The criterion (``mean_abs_gap``) is the mean over cells of ``|coverage - nominal|``, averaged over the two
    estimands every cell has: the relative effect over the horizon and the level (immediate log-change).  A
    model that is right on average but too narrow in some cells and too wide in others does not win; ties go
    to the higher worst-cell coverage.  Columns: family, errors (the choice), compared (the models compared),
    mean_abs_gap, coverage and level_coverage (pooled over cells), min_coverage (worst cell, relative effect).
    """
    table = study.table
    rows = []
    for family, group in table.groupby("family", sort=False):
        scores = []
        for errors, sub in group.groupby("errors", sort=False):
            gaps = [(sub[col] - study.nominal).abs().mean() for col in ("coverage", "level_coverage")
                    if col in sub and sub[col].notna().any()]
            scores.append((float(np.mean(gaps)), -float(sub["coverage"].min()), errors, _pooled(sub, "coverage"),
                           _pooled(sub, "level_coverage")))
        gap, neg_min, errors, pooled, level = min(scores)
        rows.append({"family": family, "errors": errors, "compared": ", ".join(s[2] for s in scores),
                     "mean_abs_gap": gap, "coverage": pooled, "level_coverage": level, "min_coverage": -neg_min})
    return _label(pd.DataFrame(rows))


def _pooled(table: pd.DataFrame, col: str) -> float:
    """A per-cell fraction pooled over cells, weighted by their number of series."""
    if col not in table or not table[col].notna().any():
        return math.nan
    ok = table[table[col].notna()]
    return float((ok[col] * ok["n"]).sum() / max(int(ok["n"].sum()), 1))


def _cell_name(row: pd.Series) -> str:
    parts = [row["design"] if row["event"] == "main" else f"overlap {row['event']}", f"phi={row['phi']:g}",
             f"drop={row['drop']:g}"]
    if not math.isnan(row["half_life"]):
        parts.append(f"half-life={row['half_life']:g}d")
    return " ".join(parts)


def _summary(study: StudyResult) -> str:
    nominal = 100 * study.nominal
    s = study.settings
    lines = [f"{SIMULATED} simulation study: {s['seeds']} series per cell, {len(study.table) // len(s['methods'])} "
             f"cells, {s['horizon']}-day relative effect, nominal coverage {nominal:.0f}%"]
    for method, group in study.table.groupby("method", sort=False):
        worst = group.loc[group["coverage"].idxmin()]
        pooled = 100 * _pooled(group, "coverage")
        lines.append(f"  {method}: coverage {100 * group['coverage'].min():.0f}-{100 * group['coverage'].max():.0f}% "
                     f"over cells (pooled {pooled:.1f}%; level {100 * _pooled(group, 'level_coverage'):.1f}%); "
                     f"worst: {_cell_name(worst)} ({100 * worst['coverage']:.0f}%)")
    decay = study.table[study.table["half_life_rel_error"].notna()]
    if len(decay):
        first = decay[decay["method"] == decay["method"].iloc[0]]
        worst = first.loc[first["half_life_rel_error"].abs().idxmax()]
        within = int((first["half_life_rel_error"].abs() <= HALF_LIFE_TOLERANCE).sum())
        mc = (worst[["median_half_life_low", "median_half_life_high"]] / worst["half_life"] - 1) * 100
        lines.append(f"  median half-life error ({first['method'].iloc[0]}): "
                     f"{100 * first['half_life_rel_error'].abs().median():.0f}% in the median cell, within "
                     f"{100 * HALF_LIFE_TOLERANCE:.0f}% in {within} of {len(first)} cells; worst "
                     f"{100 * worst['half_life_rel_error']:+.0f}% (Monte Carlo 95% interval {mc.iloc[0]:+.0f} to "
                     f"{mc.iloc[1]:+.0f}%; {_cell_name(worst)})")
    for row in study.recommended_errors().itertuples():
        lines.append(f"  closest to nominal for {row.family}: errors={row.errors!r} (mean |coverage - {nominal:.0f}%| "
                     f"{100 * row.mean_abs_gap:.1f} points over cells, relative effect and level; "
                     f"compared: {row.compared})")
    return "\n".join(lines)


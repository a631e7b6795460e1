"""Tables of the design-cell simulation study (:func:`spamits.validation.simulation_study`): per-cell and
per-method aggregates of the runs, the Monte Carlo interval of a median, the errors model closest to nominal
coverage and the study's summary text.  Everything here describes SIMULATED series.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

if TYPE_CHECKING:
    from spamits.validation.study import StudyResult

SIMULATED = "SIMULATED"
BASE_SCENARIO = "no-effect"
HALF_LIFE_TOLERANCE = 0.15  # the study's target: median half-life within 15% of the truth in each cell
CELL_KEYS = ["design", "event", "effect", "phi", "drop", "half_life"]
METHOD_KEYS = ["method", "family", "errors"]
TABLE_COLUMNS = CELL_KEYS + METHOD_KEYS + [
    "n", "failed", "bias", "rmse", "coverage", "mean_width", "level_bias", "level_coverage",
    "median_half_life", "median_half_life_low", "median_half_life_high", "half_life_rel_error",
    "half_life_coverage",
]


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


"""The stress cases of issue 13 in the simulation study: coverage of the ITS methods side by side on SIMULATED
series that break the model the way real spam-trap series do.

:func:`spamits.validation.simulation_study` with ``cases=`` (names of :data:`spamits.data.stress.STRESS_CASES`:
bursts, wandering level, AR(2) noise, an unmodelled earlier event, low counts, a changing weekly pattern, hourly
counts, and a model-conforming control) calls :func:`stress_study`: it draws ``seeds`` series of each case, fits
each with every method of :data:`~spamits.validation.stress_methods.METHODS` (``default``, ``hac``,
``mask-outliers``, ``local-level``, ``pre120``, ``auto-pre``, ``calibrated``) and compares the 30-day relative
effect (``sum(observed)/sum(counterfactual) - 1`` over the first 30 days from the event, a fraction) and its 95%
interval with the realised truth.  The result is a :class:`StressResult`: one row per series and method
(``runs``) and one per case and method (``table``).  Everything here is SIMULATED.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context

import numpy as np
import pandas as pd

from spamits.data.stress import HORIZON_DAYS, STRESS_CASES, daily_bins, simulate_stress
from spamits.errors import ModelSpecError
from spamits.its import clean
from spamits.validation.stress_methods import METHODS, outlier_periods

__all__ = ["METHODS", "RUN_COLUMNS", "TABLE_COLUMNS", "TARGET", "StressResult", "aggregate", "outlier_periods",
           "precheck_rates", "stress_study"]

SIMULATED = "SIMULATED"
ALPHA = 0.05  # every stress method gives 95% intervals
TARGET = (0.90, 0.97)  # the coverage issue 13 asks for, as fractions of series
RUN_COLUMNS = ["case", "method", "seed", "ok", "error", "estimate", "ci_low", "ci_high", "truth", "covered",
               "half_life_days", "half_life_est_days", "masked", "seconds"]
TABLE_COLUMNS = ["case", "method", "n", "failed", "coverage", "bias", "rmse", "mean_width",
                 "median_half_life_days", "median_seconds"]


@dataclass(frozen=True, eq=False)
class StressResult:
    """Outcome of ``simulation_study(cases=...)`` (:func:`stress_study`).

    ``runs``: one row per series and method (``RUN_COLUMNS``; relative effects as fractions, half-lives in days,
    ``seconds`` of wall time per fit, ``error`` the exception of a failed fit).  ``table``: one row per case and
    method (``TABLE_COLUMNS``): ``n`` series, ``failed`` fits that raised, ``coverage`` of the 95% interval of
    the 30-day relative effect (fraction of the fitted series), ``bias``/``rmse``/``mean_width`` as fractions,
    the median half-life estimate in days and the median seconds per series.  ``settings``: the arguments.
    """

    runs: pd.DataFrame
    table: pd.DataFrame
    settings: dict = field(default_factory=dict)

    @property
    def nominal(self) -> float:
        """The nominal coverage of the intervals (0.95)."""
        return 1.0 - self.settings.get("alpha", ALPHA)

    def coverage(self) -> pd.DataFrame:
        """Coverage as a case × method grid (rows in the order of ``cases``, columns in that of ``methods``)."""
        grid = self.table.pivot(index="case", columns="method", values="coverage")
        grid = grid.reindex(index=self.settings["cases"], columns=self.settings["methods"])
        grid.columns.name = SIMULATED
        return grid

    def summary(self) -> str:
        """A few lines, one per method: coverage range over the cases, the cases outside the target and the
        failed fits.  Only counts and coverages, so the text is the same on every run of the same settings."""
        return _summary(self)

    def to_dict(self) -> dict:
        """JSON-ready dict (NaN as None, floats to 8 significant digits) of the settings and the table."""
        return clean({"data": SIMULATED, "settings": self.settings, "table": self.table.to_dict(orient="records")})


def _series(frame: pd.DataFrame) -> tuple[pd.Series, int]:
    """The fitted series (daily; hourly cases as 24-hour bins) and the position of the event period."""
    if frame.index.freqstr.lower() == "h":
        frame = daily_bins(frame)
    return frame["observed"], int(frame.attrs["settings"]["n_pre"])


def _run_task(task: tuple[str, int, tuple[str, ...]]) -> list[dict]:
    """Simulate one series of a stress case and fit it with every method: one row per method."""
    case, seed, methods = task
    frame = simulate_stress(case, seed=seed)
    truth = frame.attrs["truth"]
    y, pos = _series(frame)
    rows = []
    for method in methods:
        base = {"case": case, "method": method, "seed": seed, "truth": truth["relative_effect_30d"],
                "half_life_days": truth["half_life_days"]}
        start = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = METHODS[method](y, pos)
            ok, error = True, ""
        except Exception as exc:  # noqa: BLE001 - the study counts every failure, of any kind
            out, ok, error = {}, False, f"{type(exc).__module__}.{type(exc).__name__}: {str(exc)[:120]}"
        seconds = time.perf_counter() - start
        covered = bool(ok and out["ci_low"] <= base["truth"] <= out["ci_high"])
        rows.append({**base, **out, "ok": ok, "error": error, "covered": covered, "seconds": seconds})
    return rows


def check_names(cases: Sequence[str], methods: Sequence[object]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``cases`` and ``methods`` as tuples of names; ModelSpecError naming the first unknown one and listing
    the valid names (``STRESS_CASES`` and ``METHODS``)."""
    if isinstance(cases, str) or isinstance(methods, str):
        raise ModelSpecError("simulation_study: cases and methods are lists of names, e.g. cases=['bursts'], "
                             "methods=['default']")
    for case in cases:
        if case not in STRESS_CASES:
            raise ModelSpecError(f"simulation_study: unknown stress case {case!r} in cases; valid cases: "
                                 f"{', '.join(STRESS_CASES)}")
    for method in methods:
        if not isinstance(method, str) or method not in METHODS:
            raise ModelSpecError(f"simulation_study: unknown stress-case method {method!r} in methods; with "
                                 f"cases= the valid methods are: {', '.join(METHODS)}")
    if not cases or not methods:
        raise ModelSpecError("simulation_study: cases and methods must not be empty, e.g. cases=['bursts'], "
                             "methods=['default']")
    return tuple(cases), tuple(methods)


def stress_study(cases: Sequence[str] = tuple(STRESS_CASES), methods: Sequence[str] = ("default",),
                 seeds: int = 100, jobs: int = 1, first_seed: int = 0) -> StressResult:
    """Fit ``methods`` to ``seeds`` SIMULATED series of each stress case, side by side (the same series for
    every method).  Series ``i`` of every case uses seed ``first_seed + i``; results do not depend on ``jobs``
    (worker processes) except the ``seconds`` timings.  A fit takes 0.05-0.5 s (local-level and mask-outliers
    the most), so the study costs about ``0.1 s × seeds × cases × methods`` divided by ``jobs``.
    """
    cases, methods = check_names(cases, methods)
    if int(seeds) < 1 or int(jobs) < 1 or int(first_seed) < 0:
        raise ModelSpecError(f"simulation_study: seeds={seeds} and jobs={jobs} must be >= 1 and first_seed="
                             f"{first_seed} >= 0")
    tasks = [(case, int(first_seed) + i, methods) for case in cases for i in range(int(seeds))]
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
            chunks = list(pool.map(_run_task, tasks, chunksize=max(1, len(tasks) // (8 * jobs))))
    else:
        chunks = [_run_task(task) for task in tasks]
    runs = pd.DataFrame([row for chunk in chunks for row in chunk]).reindex(columns=RUN_COLUMNS)
    runs.attrs["simulated"] = True
    settings = {"cases": list(cases), "methods": list(methods), "seeds": int(seeds), "first_seed": int(first_seed),
                "horizon_days": HORIZON_DAYS, "alpha": ALPHA, "target": list(TARGET)}
    table = aggregate(runs)
    last = int(first_seed) + int(seeds) - 1
    table.attrs["source"] = (f"{SIMULATED} series from spamits.validation.simulation_study(cases=...), seeds "
                             f"{first_seed}-{last} of each case")
    return StressResult(runs=runs, table=table, settings=settings)


def aggregate(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (case, method) of ``runs`` (see :class:`StressResult` for the columns)."""
    rows = []
    for (case, method), grp in runs.groupby(["case", "method"], sort=False):
        ok = grp[grp["ok"]]
        err = ok["estimate"] - ok["truth"]
        rows.append({"case": case, "method": method, "n": len(grp), "failed": int((~grp["ok"]).sum()),
                     "coverage": float(ok["covered"].mean()) if len(ok) else float("nan"),
                     "bias": float(err.mean()), "rmse": float(np.sqrt((err**2).mean())),
                     "mean_width": float((ok["ci_high"] - ok["ci_low"]).mean()),
                     "median_half_life_days": float(ok["half_life_est_days"].median()),
                     "median_seconds": float(grp["seconds"].median())})
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    table.columns.name = SIMULATED
    table.attrs["simulated"] = True
    return table


def _count(items: Sequence[str], noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _summary(result: StressResult) -> str:
    s = result.settings
    low, high = (100 * v for v in s["target"])
    lines = [f"{SIMULATED} stress cases: {s['seeds']} series per case (seeds {s['first_seed']}-"
             f"{s['first_seed'] + s['seeds'] - 1}), {_count(s['cases'], 'case')} x {_count(s['methods'], 'method')}, "
             f"{100 * result.nominal:.0f}% interval of the {s['horizon_days']}-day relative effect; target "
             f"coverage {low:.0f}-{high:.0f}%"]
    for method in s["methods"]:
        rows = result.table[result.table["method"] == method]
        cov = rows["coverage"]
        outside = [f"{r.case} {100 * r.coverage:.0f}%" for r in rows.itertuples()
                   if not s["target"][0] <= r.coverage <= s["target"][1]]
        failed = int(rows["failed"].sum())
        lines.append(f"  {method}: coverage {100 * cov.min():.0f}-{100 * cov.max():.0f}% over cases; "
                     f"outside the target: {', '.join(outside) or 'none'}; failed fits: {failed or 'none'}")
    return "\n".join(lines)


def precheck_rates(cases: Sequence[str] = tuple(STRESS_CASES), seeds: int = 100) -> pd.DataFrame:
    """How often each pre-period check (:func:`spamits.its.precheck.precheck`) fires on ``seeds`` SIMULATED
    series of each stress case: one row per case with the share of series flagged for bursts, a wandering level
    and an earlier break (and, for ``earlier-event``, the share whose break date is within 14 days of the
    simulated one)."""
    from spamits.its.precheck import precheck

    rows = []
    for case in cases:
        flags = []
        for seed in range(seeds):
            frame = simulate_stress(case, seed=seed)
            y, pos = _series(frame)
            check = precheck(y, y.index[pos], catalog=False, warn_user=False)
            settings = frame.attrs["settings"]
            true_break = y.index[pos - settings["earlier_at"]] if settings["earlier_at"] else None
            found = check.break_f > 8.85
            flags.append({"bursts": len(check.bursts) > 0, "wandering": check.wandering, "break": found,
                          "break_near_truth": bool(found and true_break is not None and abs(
                              (check.break_date - true_break).days) <= 14)})
        table = pd.DataFrame(flags)
        rows.append({"case": case, "n": seeds, **{f"flag_{k}": float(table[k].mean()) for k in table.columns}})
    out = pd.DataFrame(rows)
    out.columns.name = SIMULATED
    return out

"""The hourly stress cell of issue 13 fitted natively at hourly resolution (SIMULATED data).

Series ``i`` is ``spamits.data.stress.simulate_stress("hourly", seed=first_seed + i)``: 90 days of hourly
counts (2,160 hours), an hour-of-day pattern, AR(1) log-rate noise (0.95 at the hourly lag), a cut-off at the
known hour 2008-11-11 21:00 (a simulation parameter) with an immediate -50% drop fading with a half-life of 48
hours.  Each series is fitted with ``its.fit(y, "2008-11-11 21:00", effect="decay")`` and the defaults
(``seasonality="auto"``, i.e. ``"hod+dow"`` on hourly data; ``errors="ar1"``, feasible GLS with the AR(1)+white
noise residual process at the hourly lag), and we record whether the 95% intervals cover

* the realised 30-day relative effect (``sum(observed)/sum(counterfactual) - 1`` over the first 720 hours);
* the true half-life (48 hours), from the profile-likelihood interval of the decay rate.

For every ``--scan-every``-th series (seeds first_seed, first_seed + k, ...), the hour is found as the notebook
finds it knowing only the day: a break scan (``robust.break_scan``, ``effect="decay"``) over the 72 hours from
the day before to the day after, each hour's statistic profiled over a grid of half-lives (3 to 192 hours); we
record its error in hours and whether its confidence set holds the true hour.

Rows are appended to ``benchmarks/results/<tag>_runs.csv`` as they finish (a partial run is usable); the summary
goes to ``<tag>_table.json``.  Two worker processes at most.

    PYTHONPATH=lib .venv/bin/python benchmarks/hourly_study.py [--seeds 1000] [--scan-every 20] [--jobs 2]
        [--tag hourly] [--errors ar1] [--summarise] [--append]
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # one BLAS thread per worker:
    os.environ.setdefault(_name, "1")  # threaded BLAS on a shared 2-core machine spends its time waiting

import numpy as np  # noqa: E402 - after the thread settings
import pandas as pd  # noqa: E402

OUT = Path(__file__).resolve().parent / "results"
EVENT = pd.Timestamp("2008-11-11 21:00")  # the SIMULATED cut-off hour (a simulation parameter)
SCAN_HOURS = 72  # candidate hours: the day before the cut-off's day to the day after
HALF_LIVES = (3, 6, 12, 24, 48, 96, 192)  # hours: the grid the break scan profiles the decay rate over
COLUMNS = ["seed", "ok", "error", "relative", "relative_low", "relative_high", "truth", "covered",
           "half_life", "half_life_low", "half_life_high", "half_life_covered", "phi", "theta", "break_hour",
           "break_error_hours", "break_low", "break_high", "break_in_set", "seconds"]


def run_one(task: tuple[int, bool, str]) -> dict:
    """Fit one SIMULATED hourly series (and scan it for the break hour when asked): one row of COLUMNS."""
    from spamits import its
    from spamits.data.stress import simulate_stress

    seed, scan, errors = task
    start = time.perf_counter()
    row: dict = {c: np.nan for c in COLUMNS}
    row.update(seed=seed, ok=False, error="")
    frame = simulate_stress("hourly", seed=seed)
    y, truth = frame["observed"], frame.attrs["truth"]
    pos = int(frame.attrs["settings"]["n_pre"])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = its.fit(y, EVENT, effect="decay", errors=errors, n_draws=1000)
            imp = res.impact(y.index[pos], y.index[pos + truth["horizon_periods"] - 1])
            eff = res.effects.set_index("term")
            hl = eff.loc["half_life"]
            row.update(ok=True, relative=imp["relative"], relative_low=imp["relative_low"],
                       relative_high=imp["relative_high"], truth=truth["relative_effect_30d"],
                       half_life=float(hl["estimate"]), half_life_low=float(hl["ci_low"]),
                       half_life_high=float(hl["ci_high"]), phi=res.cov_info.get("phi"),
                       theta=res.cov_info.get("theta"))
            row["covered"] = bool(imp["relative_low"] <= truth["relative_effect_30d"] <= imp["relative_high"])
            row["half_life_covered"] = bool(hl["ci_low"] <= truth["half_life"] <= hl["ci_high"])
            if scan:
                b = _scan_without_the_hour(y)
                row.update(break_hour=str(b.date), break_error_hours=(b.date - EVENT) / pd.Timedelta(hours=1),
                           break_low=str(b.date_low), break_high=str(b.date_high),
                           break_in_set=bool(b.date_low <= EVENT <= b.date_high))
    except Exception as exc:  # noqa: BLE001 - a failed fit is a result of the study, counted as such
        row["error"] = f"{type(exc).__name__}: {exc}"[:300]
    row["seconds"] = time.perf_counter() - start
    return row


def _scan_without_the_hour(y: pd.Series) -> object:
    """The notebook's answer to "at what hour did spam fall?" when only the day is known: a decay break scan of
    the 72 hours from the day before to the day after, each hour's statistic profiled over a grid of half-lives
    (:data:`HALF_LIVES`, hours); no fit at the true hour is used."""
    from spamits import robust

    day = EVENT.normalize()
    return robust.break_scan(y, day - pd.Timedelta(days=1), day + pd.Timedelta(hours=47), effect="decay",
                             decay_rate=[0.5 ** (1 / h) for h in HALF_LIVES])


def summarise(runs: pd.DataFrame) -> dict:
    """Coverage of the 30-day relative effect and of the half-life, and break-scan errors (hours)."""
    ok = runs[runs["ok"].astype(bool)]
    scanned = ok[ok["break_error_hours"].notna()]
    err = scanned["break_error_hours"].abs()
    out = {"data": "SIMULATED", "case": "hourly", "n": int(len(runs)), "failed": int((~runs["ok"].astype(bool)).sum()),
           "coverage_relative_30d": float(ok["covered"].astype(bool).mean()),
           "coverage_half_life": float(ok["half_life_covered"].astype(bool).mean()),
           "median_half_life_hours": float(ok["half_life"].median()), "true_half_life_hours": 48.0,
           "mean_relative": float(ok["relative"].mean()), "mean_truth": float(ok["truth"].mean()),
           "mean_width_relative": float((ok["relative_high"] - ok["relative_low"]).mean()),
           "median_seconds": float(ok["seconds"].median())}
    if len(scanned):
        out.update(scanned=int(len(scanned)), break_within_2h=float((err <= 2).mean()),
                   break_exact=float((err == 0).mean()), break_max_error_hours=float(err.max()),
                   break_median_error_hours=float(err.median()),
                   break_true_hour_in_set=float(scanned["break_in_set"].astype(bool).mean()))
    return out


def _binomial_se(p: float, n: int) -> float:
    return float(np.sqrt(p * (1 - p) / max(n, 1)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--scan-every", type=int, default=20, help="break-scan every k-th series (0: none)")
    parser.add_argument("--errors", default="ar1", help="error model of the fits (default: its.fit's, ar1)")
    parser.add_argument("--jobs", type=int, default=2, choices=(1, 2))
    parser.add_argument("--tag", default="hourly")
    parser.add_argument("--summarise", action="store_true", help="only summarise the runs CSV written so far")
    parser.add_argument("--append", action="store_true", help="append to the runs CSV (e.g. the seeds after an "
                        "interrupted run: --first-seed N) instead of starting it afresh")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{args.tag}_runs.csv"
    if not args.summarise:
        tasks = [(args.first_seed + i, args.scan_every > 0 and i % args.scan_every == 0, args.errors)
                 for i in range(args.seeds)]
        if not (args.append and path.exists()):
            pd.DataFrame(columns=COLUMNS).to_csv(path, index=False)
        start = time.perf_counter()
        with ProcessPoolExecutor(args.jobs, mp_context=get_context("spawn")) as pool:
            for row in pool.map(run_one, tasks, chunksize=4):
                pd.DataFrame([row], columns=COLUMNS).to_csv(path, mode="a", header=False, index=False)
        print(f"{time.perf_counter() - start:.0f} s")
    runs = pd.read_csv(path)
    table = summarise(runs)
    n_ok = table["n"] - table["failed"]
    table["mc_se_coverage_relative_30d"] = _binomial_se(table["coverage_relative_30d"], n_ok)
    table["mc_se_coverage_half_life"] = _binomial_se(table["coverage_half_life"], n_ok)
    table.update(first_seed=args.first_seed, jobs=args.jobs, errors=args.errors, scan_every=args.scan_every,
                 scan_window_hours=SCAN_HOURS, scan_half_lives=list(HALF_LIVES))
    (OUT / f"{args.tag}_table.json").write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(table, indent=1))


if __name__ == "__main__":
    main()

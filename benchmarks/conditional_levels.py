"""How often the conditional counterfactual finds a wandering level, and its coverage with and without one.

For series ``first_seed .. first_seed + seeds - 1`` of each SIMULATED stress case (``spamits.data.stress``):
the default fit (``its.fit(y, event, effect="decay", seasonality="dow")``), the end state of its conditional
counterfactual (``spamits.its._conditional.end_state``: was a level found, its q per day, the AR coefficient),
and the 30-day relative effect's 95% interval under ``counterfactual="conditional"`` and ``"stationary"``
(whether it covers the truth, its width).  Writes ``benchmarks/results/<tag>_runs.csv`` and prints the share of
series with a level and the coverage by group.  Hourly cases are fitted on 24-hour bins, as in
``stress_study.py``.

    PYTHONPATH=lib .venv/bin/python benchmarks/conditional_levels.py [--seeds 300] [--cases wandering ar2 ...]
        [--tag levels300]
"""

from __future__ import annotations

import argparse
import dataclasses
import warnings
from pathlib import Path

import pandas as pd

from spamits.data.stress import HORIZON_DAYS, STRESS_CASES, simulate_stress
from spamits.its import _conditional as cond
from spamits.its import fit
from spamits.validation.stress import _series

OUT = Path(__file__).resolve().parent / "results"


def _row(case: str, seed: int) -> dict | None:
    frame = simulate_stress(case, seed=seed)
    truth = frame.attrs["truth"]["relative_effect_30d"]
    y, pos = _series(frame)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = fit(y, y.index[pos], family="negbin", effect="decay", seasonality="dow", n_draws=1000)
    except Exception:  # noqa: BLE001 - failed fits are counted by stress_study.py, not here
        return None
    state = cond.end_state(*result.residuals, pos, result.process)
    row = {"case": case, "seed": seed, "level": state.process.q > 0, "q_per_day": state.process.q,
           "phi": state.process.phi}
    for name in cond.COUNTERFACTUALS:
        imp = dataclasses.replace(result, counterfactual=name).impact(y.index[pos], y.index[pos + HORIZON_DAYS - 1])
        row[f"{name}_covered"] = bool(imp["relative_low"] <= truth <= imp["relative_high"])
        row[f"{name}_width"] = imp["relative_high"] - imp["relative_low"]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=300)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--cases", nargs="+", default=["conforming", "wandering", "ar2"], choices=list(STRESS_CASES))
    parser.add_argument("--tag", default="levels300")
    args = parser.parse_args()
    rows = [_row(case, args.first_seed + i) for case in args.cases for i in range(args.seeds)]
    runs = pd.DataFrame([r for r in rows if r is not None])
    OUT.mkdir(exist_ok=True)
    runs.to_csv(OUT / f"{args.tag}_runs.csv", index=False)
    summary = runs.groupby(["case", "level"]).agg(
        n=("seed", "size"), conditional_coverage=("conditional_covered", "mean"),
        stationary_coverage=("stationary_covered", "mean"), conditional_width=("conditional_width", "mean"),
        stationary_width=("stationary_width", "mean"), median_q_per_day=("q_per_day", "median"))
    print("SIMULATED; share of series with a wandering level:")
    print(runs.groupby("case")["level"].mean().round(3).to_string())
    print(summary.round(4).to_string())


if __name__ == "__main__":
    main()

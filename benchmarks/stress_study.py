"""Coverage of the ITS defaults and candidate fixes on the SIMULATED stress cases of issue 13.

Runs ``spamits.validation.simulation_study(cases=..., methods=...)`` and writes the per-series runs (CSV) and
the case × method table (CSV and JSON) under ``benchmarks/results/``; series ``i`` of every case uses seed
``first_seed + i``, so a run is reproducible.

    .venv/bin/python benchmarks/stress_study.py [--seeds 200] [--methods default hac mask-outliers]
        [--cases bursts wandering ...] [--jobs 1] [--tag NAME] [--precheck]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from spamits.data.stress import STRESS_CASES
from spamits.validation import simulation_study
from spamits.validation.stress import METHODS, precheck_rates

OUT = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--methods", nargs="+", default=["default"], choices=list(METHODS))
    parser.add_argument("--cases", nargs="+", default=list(STRESS_CASES), choices=list(STRESS_CASES))
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--tag", default="stress")
    parser.add_argument("--precheck", action="store_true", help="only the firing rates of the pre-period checks")
    args = parser.parse_args()
    if args.precheck:
        rates = precheck_rates(args.cases, seeds=args.seeds)
        OUT.mkdir(exist_ok=True)
        rates.round(4).to_csv(OUT / f"{args.tag}_precheck.csv", index=False)
        print(rates.round(3).to_string())
        return
    start = time.perf_counter()
    study = simulation_study(cases=args.cases, methods=args.methods, seeds=args.seeds, jobs=args.jobs,
                             first_seed=args.first_seed)
    runs, table = study.runs, study.table
    seconds = time.perf_counter() - start
    OUT.mkdir(exist_ok=True)
    runs.to_csv(OUT / f"{args.tag}_runs.csv", index=False)
    table.round(4).to_csv(OUT / f"{args.tag}_table.csv", index=False)
    meta = {"data": "SIMULATED", "seeds": args.seeds, "first_seed": args.first_seed, "methods": args.methods,
            "cases": args.cases, "jobs": args.jobs, "seconds": round(seconds, 1),
            "table": table.round(4).to_dict(orient="records")}
    (OUT / f"{args.tag}_table.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    print(table.round(3).to_string())
    print(f"{seconds:.0f} s")


if __name__ == "__main__":
    main()

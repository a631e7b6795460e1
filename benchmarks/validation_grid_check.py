"""The project's validation grid (``spamits.validation.simulation_study``, SIMULATED) with the default fit
(negbin, errors ``ar1``) under both counterfactuals, on a reduced number of series per cell: a check that the
conditional counterfactual of issue 13, phase 3 leaves the model-conforming grid honest (the full 1000-series
study is ``benchmarks/simulation_study.py``).  Writes ``benchmarks/results/<tag>_<counterfactual>_table.csv``.

    PYTHONPATH=lib .venv/bin/python benchmarks/validation_grid_check.py [--seeds 100] [--tag grid100]
        [--counterfactuals defaults conditional stationary] [--jobs 2]

(With ``--jobs`` above 1 the worker processes import the library afresh, so the patch of the counterfactual
does not reach them: use ``--jobs 2`` only with ``--counterfactuals defaults``.)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from unittest import mock

from spamits import its, validation
from spamits.validation import study as study_module

OUT = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--tag", default="grid100")
    parser.add_argument("--counterfactuals", nargs="+", default=["conditional", "stationary"],
                        help="counterfactual options to run; 'defaults' runs its.fit's own defaults")
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    fit = its.fit
    for counterfactual in args.counterfactuals:
        start = time.perf_counter()

        def with_counterfactual(*a: object, _c: str = counterfactual, **k: object) -> object:
            return fit(*a, **k) if _c == "defaults" else fit(*a, counterfactual=_c, **k)

        with mock.patch.object(study_module, "fit", with_counterfactual):
            study = validation.simulation_study(seeds=args.seeds, methods=[("negbin", "ar1")], jobs=args.jobs)
        study.table.to_csv(OUT / f"{args.tag}_{counterfactual}_table.csv", index=False)
        print(counterfactual, f"{time.perf_counter() - start:.0f} s")
        print(study.table.to_string())


if __name__ == "__main__":
    main()

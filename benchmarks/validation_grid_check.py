"""The project's validation grid (``spamits.validation.simulation_study``, SIMULATED) with the default fit
(negbin, errors ``ar1``) under both counterfactuals, on a reduced number of series per cell: a check that the
conditional counterfactual of issue 13, phase 3 leaves the model-conforming grid honest (the full 1000-series
study is ``benchmarks/simulation_study.py``).  Writes ``benchmarks/results/<tag>_<counterfactual>_table.csv``.

    PYTHONPATH=lib .venv/bin/python benchmarks/validation_grid_check.py [--seeds 100] [--tag grid100]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from unittest import mock

from spamits import its, validation

OUT = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--tag", default="grid100")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    fit = its.fit
    for counterfactual in ("conditional", "stationary"):
        start = time.perf_counter()

        def with_counterfactual(*a: object, _c: str = counterfactual, **k: object) -> object:
            return fit(*a, counterfactual=_c, **k)

        with mock.patch.object(validation, "fit", with_counterfactual):
            study = validation.simulation_study(seeds=args.seeds, methods=[("negbin", "ar1")])
        study.table.to_csv(OUT / f"{args.tag}_{counterfactual}_table.csv", index=False)
        print(counterfactual, f"{time.perf_counter() - start:.0f} s")
        print(study.table.to_string())


if __name__ == "__main__":
    main()

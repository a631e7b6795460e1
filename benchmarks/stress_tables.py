"""Markdown tables of the stress-case study from ``benchmarks/results/*_table.csv`` (SIMULATED series).

Prints a case × method coverage table (each cell: coverage, series, failed fits; from the run with the most
series for that cell) and the long table; paste them into ``docs/simulation_study.md``.

    .venv/bin/python benchmarks/stress_tables.py
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from spamits.data.stress import STRESS_CASES

RESULTS = Path(__file__).resolve().parent / "results"


def _pipe(frame: pd.DataFrame) -> str:
    rows = [" | ".join(map(str, frame.columns)), " | ".join("---" for _ in frame.columns)]
    rows += [" | ".join("" if pd.isna(v) else str(v) for v in rec) for rec in frame.itertuples(index=False)]
    return "\n".join(f"| {row} |" for row in rows)


def main() -> None:
    tables = []
    for path in sorted(RESULTS.glob("*_table.csv")):
        table = pd.read_csv(path)
        table["run"] = path.name.removesuffix("_table.csv")
        tables.append(table)
    every = pd.concat(tables, ignore_index=True)
    best = every.sort_values("n").groupby(["case", "method"], sort=False).tail(1)
    cases = [c for c in STRESS_CASES if c in set(every["case"])]
    best = best.assign(cell=lambda t: t.apply(
        lambda r: f"{r.coverage:.3f} ({int(r.n)}{', ' + str(int(r.failed)) + ' failed' if r.failed else ''})",
        axis=1))
    pivot = best.pivot(index="case", columns="method", values="cell").reindex(cases).reset_index()
    print(_pipe(pivot.fillna("")))
    print()
    cols = ["case", "method", "run", "n", "failed", "coverage", "bias", "rmse", "mean_width",
            "median_half_life_days", "median_seconds"]
    long = best.sort_values(["case", "method"], key=lambda s: s.map(
        {c: i for i, c in enumerate(cases)}) if s.name == "case" else s)[cols]
    print(_pipe(long.round(4)))


if __name__ == "__main__":
    main()

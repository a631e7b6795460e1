"""Time ``spamits report`` on the default runs: cold build, unchanged (all cached) rebuild, one run changed.

Each build is the real command line (``python -m spamits report --jobs N``, imports included) into a temporary
folder, with the project's runs file rewritten there with absolute notebook paths (so one parameter can be
changed without touching ``notebooks/runs.yaml``).  Prints wall times, the per-run times of the cold build
(from each ``run_metadata.json``) and whether the package code changed during the benchmark (which would make
the "unchanged" build re-run everything).  ``--identical`` adds a second cold build into another folder and
compares every ``results.json``, ``.ipynb`` and HTML page byte for byte.

    .venv/bin/python benchmarks/bench_report.py --jobs 2 [--identical] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from spamits import report
from spamits.report import cache as _reportcache


def write_runs(path: Path, runs: list[report.Run], change: str | None = None) -> None:
    """Runs file with absolute notebook paths; ``change``: that run gets ``seed: 1`` (one parameter changed)."""
    entries = []
    for run in runs:
        parameters = dict(run.parameters)
        if run.name == change:
            parameters["seed"] = 1
        entries.append({"name": run.name, "notebook": str(run.notebook), "parameters": parameters})
    path.write_text(yaml.safe_dump(entries, sort_keys=False), encoding="utf-8")


def build(runs_file: Path, out: Path, jobs: int) -> tuple[float, int]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "spamits", "report", "--runs", str(runs_file), "--out", str(out),
                           "--jobs", str(jobs), "-q"], check=False)
    return time.monotonic() - started, done.returncode


def run_seconds(out: Path, runs: list[report.Run]) -> dict[str, float]:
    times = {}
    for run in runs:
        meta = out / run.name / report.METADATA_FILE
        if meta.is_file():
            times[run.name] = json.loads(meta.read_text(encoding="utf-8"))["seconds"]
    return times


def compare(first: Path, second: Path) -> list[str]:
    """Files (results.json, .ipynb, .html, .pdf, figure .png) whose bytes differ between two builds."""
    differ = []
    for path in sorted(first.rglob("*")):
        if path.is_file() and (path.name == report.RESULTS_FILE or path.suffix in (".ipynb", ".html", ".pdf", ".png")):
            other = second / path.relative_to(first)
            if not other.is_file() or other.read_bytes() != path.read_bytes():
                differ.append(path.relative_to(first).as_posix())
    return differ


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--change", default="mccolo", help="the run whose parameter changes (default mccolo)")
    parser.add_argument("--identical", action="store_true", help="second cold build, compare bytes")
    parser.add_argument("--keep", type=Path, help="build here instead of a temporary folder")
    args = parser.parse_args()

    runs = report.load_runs(report.DEFAULT_RUNS_FILE)
    base = args.keep or Path(tempfile.mkdtemp(prefix="spamits-bench-report-"))
    base.mkdir(parents=True, exist_ok=True)
    runs_file, out = base / "runs.yaml", base / "reports"
    write_runs(runs_file, runs)
    code_before = _reportcache.package_digest()

    rows = []
    seconds, code = build(runs_file, out, args.jobs)
    rows.append(("cold build", seconds, len(runs), code))
    per_run = run_seconds(out, runs)
    differ = None
    if args.identical:
        seconds, code = build(runs_file, base / "reports-2", args.jobs)
        rows.append(("second cold build (other folder)", seconds, len(runs), code))
        differ = compare(out, base / "reports-2")
    seconds, code = build(runs_file, out, args.jobs)
    rows.append(("unchanged rebuild (all cached)", seconds, 0, code))
    write_runs(runs_file, runs, change=args.change)
    seconds, code = build(runs_file, out, args.jobs)
    rows.append((f"one run changed ({args.change}: seed 1)", seconds, 1, code))
    code_changed = _reportcache.package_digest() != code_before

    print(f"spamits report, {len(runs)} default runs, --jobs {args.jobs}, in {base}")
    print("| build | runs executed | wall s | exit |")
    print("|---|---:|---:|---:|")
    for name, wall, executed, exit_code in rows:
        print(f"| {name} | {executed} | {wall:.1f} | {exit_code} |")
    print("\nper-run wall time in the cold build (s, runs in parallel):")
    for name, value in sorted(per_run.items(), key=lambda item: -item[1]):
        print(f"  {name:20s} {value:6.1f}")
    if code_changed:
        print("\nWARNING: lib/spamits changed during the benchmark; the unchanged rebuild was not all cached")
    if differ is not None:
        print("\nbyte-identical results.json, .ipynb and HTML pages across the two cold builds: "
              f"{'yes' if not differ else 'NO: ' + ', '.join(differ)}")
    return 0 if all(row[3] == 0 for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

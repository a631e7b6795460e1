"""Sizes of a built ``reports/`` folder: total, per kind of file, the largest reviewer page, and which files
embed plotly.js (issue 14: one shared copy per folder, reviewer pages under 2 MB, the default runs under 25 MB).

    .venv/bin/spamits report --out build/sizes --jobs 2      # or make report (reports/)
    .venv/bin/python benchmarks/report_sizes.py build/sizes

``du`` counts disk blocks (``du -sh``); the totals here are bytes of the files' contents, as ``du -sb`` prints.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from spamits.report import assets

MB = 1_000_000


def kind(path: Path, out: Path) -> str:
    """What a file of a report folder is: shared plotly.js, reviewer page, full page, notebook, PDF, ..."""
    if path.parent.name == assets.STATIC_DIR:
        return "shared plotly.js"
    if path.name == "index.html":
        return "index.html"
    if path.name.endswith(".full.html"):
        return "full page (.full.html)"
    if path.suffix == ".html":
        return "reviewer page (.html)"
    if path.parent.name == "figures":
        return "figure PNG files"
    return {".ipynb": "notebook (.ipynb)", ".pdf": "PDF", ".json": "results.json + run_metadata.json"}.get(
        path.suffix, "other")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", type=Path, help="a built reports folder")
    args = parser.parse_args()
    out = args.reports
    files = [p for p in sorted(out.rglob("*")) if p.is_file()]
    by_kind: Counter[str] = Counter()
    for path in files:
        by_kind[kind(path, out)] += path.stat().st_size
    pages = [p for p in files if kind(p, out) == "reviewer page (.html)"]
    largest = max(pages, key=lambda p: p.stat().st_size) if pages else None
    embedding = [p.relative_to(out).as_posix() for p in files if p.suffix in (".html", ".ipynb", ".js")
                 and assets.PLOTLYJS_MARKER_RE.search(p.read_text(encoding="utf-8", errors="replace"))]
    print(f"{out}: {len(files)} files, {sum(by_kind.values()) / MB:.1f} MB")
    for name, size in by_kind.most_common():
        print(f"  {name:34s} {size / MB:7.2f} MB")
    if largest is not None:
        print(f"largest reviewer page: {largest.relative_to(out)} {largest.stat().st_size / MB:.2f} MB")
    print(f"files embedding plotly.js ({len(embedding)}): {', '.join(embedding[:4])}"
          f"{' ...' if len(embedding) > 4 else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

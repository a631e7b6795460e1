"""Regenerate ``data/samples/untroubled_fixture_hourly.csv`` (and its manifest) from the 102 real fixture messages.

The messages in ``tests/fixtures/untroubled`` are packed into yearly archives in the real layout
(``tests/untroubled_site.build_site``) and counted per UTC hour by ``spamits data count`` exactly as a
researcher's download would be.  ``tests/test_sample_counts.py`` checks that the committed CSV is what this
produces.  Usage: ``.venv/bin/python tests/make_sample_counts.py [OUT.csv]``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from spamits import cli  # noqa: E402
from untroubled_site import FIXTURES, build_site  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "samples" / "untroubled_fixture_hourly.csv"


def make(out: Path = OUT) -> int:
    """Build the archives in a temporary folder, count them into ``out``; returns the CLI's exit code."""
    years = sorted({int(p.name) for p in FIXTURES.iterdir() if p.is_dir() and p.name.isdigit()})
    with tempfile.TemporaryDirectory() as tmp:
        build_site(Path(tmp) / "untroubled-fixture-archives", yearly=years)
        here = os.getcwd()
        os.chdir(tmp)
        try:
            return cli.main(["data", "count", "untroubled-fixture-archives", "--freq", "hour", "-o", str(out)])
        finally:
            os.chdir(here)


if __name__ == "__main__":
    sys.exit(make(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))

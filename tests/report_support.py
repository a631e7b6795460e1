"""Helpers shared by the report tests (test_report.py, test_report_real.py, test_report_build.py): runs files,
fixture runs, file trees, the expected files of a report folder, and the offline and no-run-date checks."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml

from browser_support import find_chromium
from spamits import report

FIXTURE = Path(__file__).parent / "fixtures" / "tiny_report.ipynb"
FIGURE_FIXTURE = Path(__file__).parent / "fixtures" / "figure_report.ipynb"
PLOTLY_MIME = "application/vnd.plotly.v1+json"
REQUIRED_RUNS = {"mccolo", "intercage", "rustock", "grum", "rustock-holiday"}
EVIL = "<script>alert(1)</script>"


def write_runs(folder: Path, entries: list[dict]) -> Path:
    path = folder / "runs.yaml"
    path.write_text(yaml.safe_dump(entries, sort_keys=False), encoding="utf-8")
    return path


def fixture_run(name: str, event_id: str) -> dict:
    return {"name": name, "notebook": str(FIXTURE), "parameters": {"event_id": event_id}}


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def expected_files(name: str, *, static: bool = False) -> list[str]:
    """The files of a good report folder (``static``: the build had a Chromium, so it printed ``<name>.pdf`` and
    wrote the figures' PNGs to ``figures/`` for the pages)."""
    return [f"{name}.ipynb", f"{name}.html", f"{name}.full.html", "results.json", "run_metadata.json",
            *([f"{name}.pdf", "figures"] if static else [])]


def require_chromium() -> str:
    """The Chromium to use; skips without one, except on CI where the browser checks are mandatory."""
    executable = find_chromium()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("no Chrome/Chromium on CI: `make browser` (part of `make test`) must install it")
        pytest.skip("no Chrome/Chromium found (run `make browser`)")
    return executable


def assert_no_run_dates(nb_path: Path) -> None:
    """No papermill/nbclient timing metadata left in a report notebook (they live in run_metadata.json)."""
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    papermill_meta = nb["metadata"].get("papermill", {})
    assert not {"start_time", "end_time", "duration", "output_path"} & set(papermill_meta), papermill_meta
    assert not papermill_meta.get("input_path", "").startswith("/"), "input path must be project-relative"
    for cell in nb["cells"]:
        assert not {"papermill", "execution"} & set(cell["metadata"]), cell["metadata"]


def assert_offline(html: str) -> None:
    assert report.external_resources(html) == []
    assert not re.search(r"<script[^>]*\bsrc\s*=\s*[\"']?\s*(https?:)?//", html, re.IGNORECASE)
    assert not re.search(r"<link[^>]*\bhref\s*=\s*[\"']?\s*(https?:)?//", html, re.IGNORECASE)



"""The report layer's records and shared names: :class:`Run` (one entry of a runs file), :class:`RunOutcome`
(what happened to it), the file names of a report folder, and reading a report folder back from disk.

Imports nothing from the rest of :mod:`spamits.report`, so every other module of the package may use it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spamits.paths import PROJECT_ROOT, data_dir

__all__ = [
    "CROSS_TAKEDOWN_RUN", "DEFAULT_NOTEBOOK", "DEFAULT_OUT_DIR", "DEFAULT_RUNS_FILE", "FULL_SUFFIX", "METADATA_FILE",
    "PDF_SUFFIX", "RESULTS_FILE", "Run", "RunOutcome", "outcome_from_disk", "read_results", "report_files",
    "required_path",
]

DEFAULT_RUNS_FILE = PROJECT_ROOT / "notebooks" / "runs.yaml"
DEFAULT_OUT_DIR = PROJECT_ROOT / "reports"
DEFAULT_NOTEBOOK = "takedown_its.ipynb"
RESULTS_FILE = "results.json"
METADATA_FILE = "run_metadata.json"
FULL_SUFFIX = ".full.html"
PDF_SUFFIX = ".pdf"
"""``<name>.pdf``: the reviewer page printed by headless Chromium (made with the static images)."""
CROSS_TAKEDOWN_RUN = "compare-takedowns"
"""The run that fits every event: it gets ``real_series`` and the index page shows its first figure."""

KERNEL_NAME = "python3"
KERNEL_ARGUMENTS = ("--IPKernelApp.log_level=CRITICAL",)
"""Keeps the kernels' start-up and shutdown chatter off the build's progress lines (a dying kernel still fails
its run)."""
CELL_TIMEOUT = 1800
"""Seconds one notebook cell may run before papermill stops the run."""
RENDERER_ENV = "SPAMITS_PLOTLY_RENDERER"
REPORT_RENDERER = "plotly_mimetype"
"""plotly renderer for report kernels: the JupyterLab mimetype only (each figure's JSON once in the notebook).
The HTML pages make each figure's HTML from it (:func:`spamits.report.notebook.with_figure_html`, renderer
``spamits_html_shared``) and load plotly.js themselves (:mod:`spamits.report.assets`)."""
STATIC_IMAGES_ENV = "SPAMITS_STATIC_IMAGES"
"""``1`` requires static figure images (the build fails without a Chromium), ``0`` turns them off; unset: on
when a Chromium is found, and required when the environment variable ``CI`` is set."""


@dataclass
class Run:
    """One entry of a runs file: a notebook and the papermill parameters to run it with."""

    name: str
    notebook: Path
    parameters: dict[str, Any]
    origin: str = ""
    """Where the entry comes from, for messages, e.g. ``notebooks/runs.yaml entry 2 ('intercage')``."""
    requires: str | None = None
    """A data file the run needs (``requires:`` in the runs file); the run is skipped while it is absent."""


@dataclass
class RunOutcome:
    """What happened to one run.

    ``status`` is ``"ok"``, ``"failed"`` or ``"not run"`` (no report on disk and not run in this build).
    ``report`` is the good report's reviewer HTML and ``full_report`` its full HTML (after a failure: those of
    the previous good report, if any); ``failed_report`` the HTML of the failed notebook; ``results`` the parsed
    ``results.json`` of the good report shown; ``seconds`` the wall time of the run (``None`` when it was not
    run in this build); ``cached`` is True when the build skipped the run because its inputs were unchanged.
    """

    run: Run
    status: str
    report: Path | None = None
    failed_report: Path | None = None
    results: dict[str, Any] | None = None
    error: str | None = None
    seconds: float | None = None
    full_report: Path | None = None
    cached: bool = False


def required_path(text: str) -> Path:
    """The file a ``requires:`` entry names: absolute, ``data/...`` under the data folder, else the project root."""
    path = Path(text)
    if path.is_absolute():
        return path
    if path.parts and path.parts[0] == "data":
        return data_dir().joinpath(*path.parts[1:])
    return PROJECT_ROOT / path


def report_files(name: str) -> tuple[str, ...]:
    """The files every good report folder ``<out>/<name>/`` holds."""
    return (f"{name}.ipynb", f"{name}.html", f"{name}{FULL_SUFFIX}", RESULTS_FILE, METADATA_FILE)


def read_results(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """``(results, None)`` from a ``results.json`` holding a JSON object, else ``(None, why not)``."""
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, f"the notebook ran but wrote no {RESULTS_FILE} (parameter results_path)"
    except ValueError as exc:
        return None, f"{RESULTS_FILE} is not valid JSON: {exc}"
    if not isinstance(results, dict):
        return None, f"{RESULTS_FILE} must hold a JSON object, got {type(results).__name__}"
    return results, None


def outcome_from_disk(run: Run, out_dir: str | os.PathLike[str]) -> RunOutcome:
    """The state of a run as left on disk by earlier builds (used for runs not executed in this build)."""
    out = Path(out_dir)
    good = out / run.name / f"{run.name}.html"
    results, _ = read_results(out / run.name / RESULTS_FILE) if good.is_file() else (None, None)
    report = good if results is not None else None
    full = out / run.name / f"{run.name}{FULL_SUFFIX}"
    full_report = full if report is not None and full.is_file() else None
    failed_dir = out / f"{run.name}.failed"
    if failed_dir.is_dir():
        error_file = failed_dir / "error.txt"
        error = error_file.read_text(encoding="utf-8").strip() if error_file.is_file() else "failed"
        failed_html = failed_dir / f"{run.name}.html"
        return RunOutcome(run, "failed", report=report, results=results, error=error, full_report=full_report,
                          failed_report=failed_html if failed_html.is_file() else None)
    if report is None:
        return RunOutcome(run, "not run")
    return RunOutcome(run, "ok", report=report, results=results, full_report=full_report)

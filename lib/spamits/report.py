"""Run the takedown notebooks with papermill and build the offline HTML reports.

``spamits report`` (and ``make report``) calls :func:`run_all`.  For each entry of the runs file
(``notebooks/runs.yaml``) the notebook is executed by papermill in a fresh kernel whose working directory is
a temporary folder ``reports/.<name>.tmp-XXXX``; the executed notebook is converted to HTML (no input cells,
offline template ``templates/spamits_report``) and the folder is then moved into place as
``reports/<name>/{<name>.ipynb, <name>.html, results.json}``.  A failed run never replaces the previous good
report: its partial notebook, HTML and ``error.txt`` go to ``reports/<name>.failed/`` instead, the other runs
go on, and :func:`run_all` returns exit code 1.  ``reports/index.html`` (:func:`build_index`) lists every run
with its key numbers.

This is the only spamits module that imports papermill and nbconvert.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import jinja2
import nbformat
import papermill
import yaml
from nbconvert import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor

from spamits import __version__
from spamits.errors import ReportError, SpamitsError
from spamits.paths import PROJECT_ROOT, data_dir

log = logging.getLogger(__name__)

DEFAULT_RUNS_FILE = PROJECT_ROOT / "notebooks" / "runs.yaml"
DEFAULT_OUT_DIR = PROJECT_ROOT / "reports"
DEFAULT_NOTEBOOK = "takedown_its.ipynb"
RESULTS_FILE = "results.json"
KERNEL_NAME = "python3"
CELL_TIMEOUT = 1800
"""Seconds one notebook cell may run before papermill stops the run."""

RENDERER_ENV = "SPAMITS_PLOTLY_RENDERER"
REPORT_RENDERER = "plotly_mimetype+spamits_html"
"""plotly renderer for report kernels: the JupyterLab mimetype plus HTML that embeds plotly.js (spamits.plots)."""

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
HTML_TEMPLATE = "spamits_report"
INDEX_TEMPLATE = "report_index.html.j2"

RUN_KEYS = ("name", "notebook", "parameters", "requires")
RUNNER_PARAMETERS = ("results_path",)
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_EXTERNAL_RE = re.compile(
    r"""<(?:script|link|img|iframe)\b[^>]*?\b(?:src|href)\s*=\s*["']?\s*((?:https?:)?//[^"'\s>]+)""",
    re.IGNORECASE,
)


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
    ``report`` is the good report's HTML (after a failure: the previous good one, if any); ``failed_report``
    the HTML of the failed notebook; ``results`` the parsed ``results.json`` of the good report shown;
    ``seconds`` the wall time of the run (``None`` when it was not run in this build).
    """

    run: Run
    status: str
    report: Path | None = None
    failed_report: Path | None = None
    results: dict[str, Any] | None = None
    error: str | None = None
    seconds: float | None = None


# ----------------------------------------------------------------------------------------------- runs file


def load_runs(path: str | os.PathLike[str]) -> list[Run]:
    """Read and validate a runs file (YAML list of ``{name, notebook, parameters}``).

    ``notebook`` defaults to ``takedown_its.ipynb`` and is resolved relative to the runs file's folder.
    ``requires`` (optional) names a data file (``data/...`` resolves under :func:`spamits.paths.data_dir`, other
    relative paths under the project root); an entry whose file does not exist is validated, then left out.
    Raises :class:`ReportError` naming the file and entry for a missing file, bad YAML, unknown keys, a bad or
    duplicate name, a missing notebook, or a parameter the notebook's ``parameters`` cell does not define.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"{path}: runs file not found") from None
    except yaml.YAMLError as exc:
        raise ReportError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, list) or not data:
        raise ReportError(f"{path}: expected a non-empty YAML list of runs (- name: ..., parameters: ...)")
    runs: list[Run] = []
    seen: set[str] = set()
    known: dict[Path, set[str] | None] = {}
    for number, entry in enumerate(data, start=1):
        run = _parse_entry(path, number, entry, known)
        if run.name in seen:
            raise ReportError(f"{run.origin}: duplicate run name {run.name!r}; each name must be unique")
        seen.add(run.name)
        if run.requires is not None and not required_path(run.requires).is_file():
            log.info("%s: skipped: it requires %s, which does not exist", run.origin, required_path(run.requires))
            continue
        runs.append(run)
    return runs


def required_path(text: str) -> Path:
    """The file a ``requires:`` entry names: absolute, ``data/...`` under the data folder, else the project root."""
    path = Path(text)
    if path.is_absolute():
        return path
    if path.parts and path.parts[0] == "data":
        return data_dir().joinpath(*path.parts[1:])
    return PROJECT_ROOT / path


def _parse_entry(path: Path, number: int, entry: Any, known: dict[Path, set[str] | None]) -> Run:
    where = f"{path} entry {number}"
    if not isinstance(entry, dict):
        raise ReportError(f"{where}: expected a mapping with keys {', '.join(RUN_KEYS)}, got {entry!r}")
    name = entry.get("name")
    if isinstance(name, str):
        where = f"{where} ({name!r})"
    unknown = sorted(set(map(str, entry)) - set(RUN_KEYS))
    if unknown:
        raise ReportError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed keys: {', '.join(RUN_KEYS)}")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ReportError(
            f"{where}: name {name!r} is missing or invalid; use lower-case letters, digits, '-' and '_' "
            "(it names the report folder)"
        )
    notebook = entry.get("notebook", DEFAULT_NOTEBOOK)
    if not isinstance(notebook, str) or not notebook:
        raise ReportError(f"{where}: notebook must be a file name relative to {path.parent}, got {notebook!r}")
    nb_path = (path.parent / notebook).resolve()
    if not nb_path.is_file():
        raise ReportError(f"{where}: notebook {notebook!r} not found (looked for {nb_path})")
    parameters = entry.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise ReportError(f"{where}: parameters must be a mapping of name: value, got {parameters!r}")
    _check_parameters(where, nb_path, parameters, known)
    requires = entry.get("requires")
    if requires is not None and (not isinstance(requires, str) or not requires.strip()):
        raise ReportError(f"{where}: requires must be the path of a data file, got {requires!r}")
    return Run(name=name, notebook=nb_path, parameters=dict(parameters), origin=where, requires=requires)


def _check_parameters(where: str, nb_path: Path, parameters: dict[Any, Any], known: dict) -> None:
    for key in parameters:
        if not isinstance(key, str) or not key.isidentifier():
            raise ReportError(f"{where}: parameter name {key!r} is not a valid Python identifier")
        if key in RUNNER_PARAMETERS:
            raise ReportError(f"{where}: parameter {key!r} is set by the report runner; remove it")
    if nb_path not in known:
        known[nb_path] = _notebook_parameters(nb_path)
    declared = known[nb_path]
    if declared is None:
        return
    unknown = sorted(set(parameters) - declared)
    if unknown:
        raise ReportError(
            f"{where}: unknown parameter(s) {', '.join(unknown)} for {nb_path.name}; "
            f"its parameters cell defines: {', '.join(sorted(declared))}"
        )


def _notebook_parameters(nb_path: Path) -> set[str] | None:
    """Names defined in the notebook's ``parameters`` cell, or None when it has no such cell."""
    nb = nbformat.read(nb_path, as_version=4)
    if not any("parameters" in cell.get("metadata", {}).get("tags", []) for cell in nb.cells):
        return None
    return set(papermill.inspect_notebook(str(nb_path)))


# ----------------------------------------------------------------------------------------------- one run


def execute_run(run: Run, out_dir: str | os.PathLike[str], *, timeout: int = CELL_TIMEOUT) -> RunOutcome:
    """Execute one run and publish its report folder atomically; never raises for a failing notebook.

    The kernel runs with ``SPAMITS_PLOTLY_RENDERER=plotly_mimetype+spamits_html`` and its working directory
    set to the temporary run folder, so the notebook's ``results.json`` lands beside its outputs.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{run.name}.tmp-", dir=out))
    os.chmod(work, 0o755)
    start = time.monotonic()
    log.info("%s: running %s", run.name, run.notebook.name)
    try:
        error = _execute_and_render(run, work, timeout)
        results, error = _read_results(work / RESULTS_FILE) if error is None else (None, error)
        return _publish_outcome(run, work, out, results, error, round(time.monotonic() - start, 1))
    finally:
        _remove_tree(work)


def _publish_outcome(run: Run, work: Path, out: Path, results: dict[str, Any] | None, error: str | None,
                     seconds: float) -> RunOutcome:
    """Move ``work`` to ``<out>/<name>/`` (success) or ``<out>/<name>.failed/`` (failure) and describe it."""
    for path in work.iterdir():  # the notebook may write private files (mkstemp); reports are for reading
        if path.is_file():
            path.chmod(0o644)
    if error is None:
        _publish(work, out / run.name)
        _remove_tree(out / f"{run.name}.failed")
        log.info("%s: ok (%.1f s)", run.name, seconds)
        return RunOutcome(run, "ok", report=out / run.name / f"{run.name}.html", results=results, seconds=seconds)
    (work / "error.txt").write_text(error + "\n", encoding="utf-8")
    _publish(work, out / f"{run.name}.failed")
    log.error("%s: FAILED (%.1f s): %s", run.name, seconds, error)
    outcome = outcome_from_disk(run, out)
    outcome.seconds = seconds
    return outcome


def _execute_and_render(run: Run, work: Path, timeout: int) -> str | None:
    """Run papermill then nbconvert in ``work``; return an error message or None."""
    nb_out = work / f"{run.name}.ipynb"
    error = None
    try:
        with _environ({RENDERER_ENV: REPORT_RENDERER, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}):
            papermill.execute_notebook(
                str(run.notebook), str(nb_out), parameters={**run.parameters, "results_path": RESULTS_FILE},
                cwd=str(work), kernel_name=KERNEL_NAME, progress_bar=False, log_output=False,
                request_save_on_cell_execute=False,  # saved once at the end (and on failure): ~5 MB each save
                execution_timeout=timeout,
            )
    except papermill.PapermillExecutionError as exc:
        error = f"{exc.ename}: {exc.evalue} (notebook cell In [{exc.exec_count}])"
    except Exception as exc:  # noqa: BLE001 - one broken run (kernel died, timeout...) must not stop the others
        error = f"{type(exc).__name__}: {exc}"
    if not nb_out.is_file():
        return error or "papermill wrote no output notebook"
    try:
        html = notebook_to_html(nb_out, title=f"spamits report: {run.name}")
    except Exception as exc:  # noqa: BLE001 - same reason
        return error or f"HTML conversion failed: {type(exc).__name__}: {exc}"
    (work / f"{run.name}.html").write_text(html, encoding="utf-8")
    if error is None:
        external = external_resources(html)
        if external:
            error = f"the HTML report loads external resources (not offline): {', '.join(external[:5])}"
    return error


def notebook_to_html(nb_path: str | os.PathLike[str], *, title: str | None = None) -> str:
    """Convert an executed notebook to the reviewer HTML: outputs and Markdown only, no external resources.

    Uses the ``spamits_report`` nbconvert template (lab without CDN scripts) and drops the ``parameters`` and
    ``injected-parameters`` cells (the template shows papermill's parameters as a table instead).
    """
    nb = nbformat.read(Path(nb_path), as_version=4)
    exporter = HTMLExporter(template_name=HTML_TEMPLATE, extra_template_basedirs=[str(TEMPLATES_DIR)])
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    remover = TagRemovePreprocessor(remove_cell_tags={"parameters", "injected-parameters"})
    exporter.register_preprocessor(remover, enabled=True)
    name = title or Path(nb_path).stem
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": name}})
    return body


def external_resources(html: str) -> list[str]:
    """URLs of scripts, stylesheets, images or frames that an HTML page would fetch from the network."""
    return sorted(set(_EXTERNAL_RE.findall(html)))


def _read_results(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, f"the notebook ran but wrote no {RESULTS_FILE} (parameter results_path)"
    except ValueError as exc:
        return None, f"{RESULTS_FILE} is not valid JSON: {exc}"
    if not isinstance(results, dict):
        return None, f"{RESULTS_FILE} must hold a JSON object, got {type(results).__name__}"
    return results, None


@contextlib.contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables (inherited by the kernel) for the duration of the block."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _publish(src: Path, dest: Path) -> None:
    """Move the finished folder ``src`` to ``dest``, replacing an existing ``dest`` only once ``src`` is whole."""
    old = None
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(dest, old)
    try:
        os.replace(src, dest)
    except OSError:
        if old is not None:
            os.replace(old, dest)
        raise
    if old is not None:
        _remove_tree(old)


def _remove_tree(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)


def outcome_from_disk(run: Run, out_dir: str | os.PathLike[str]) -> RunOutcome:
    """The state of a run as left on disk by earlier builds (used for runs not executed in this build)."""
    out = Path(out_dir)
    good = out / run.name / f"{run.name}.html"
    results, _ = _read_results(out / run.name / RESULTS_FILE) if good.is_file() else (None, None)
    report = good if results is not None else None
    failed_dir = out / f"{run.name}.failed"
    if failed_dir.is_dir():
        error_file = failed_dir / "error.txt"
        error = error_file.read_text(encoding="utf-8").strip() if error_file.is_file() else "failed"
        failed_html = failed_dir / f"{run.name}.html"
        return RunOutcome(run, "failed", report=report, results=results, error=error,
                          failed_report=failed_html if failed_html.is_file() else None)
    if report is None:
        return RunOutcome(run, "not run")
    return RunOutcome(run, "ok", report=report, results=results)


# ----------------------------------------------------------------------------------------------- all runs


def run_all(
    runs_file: str | os.PathLike[str] | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    only: Sequence[str] | None = None,
    jobs: int = 1,
) -> int:
    """Run every entry of the runs file (or those named in ``only``), then write ``index.html``.

    Defaults: ``notebooks/runs.yaml`` and ``reports/`` under the project root.  ``jobs > 1`` runs that many
    notebooks at once in worker processes.  Returns the exit code: 0 when every run executed succeeded, 1 if any
    failed.  Raises :class:`ReportError` for a bad runs file or an unknown name in ``only``.
    """
    runs = load_runs(runs_file if runs_file is not None else DEFAULT_RUNS_FILE)
    out = Path(out_dir) if out_dir is not None else DEFAULT_OUT_DIR
    selected = _select(runs, only)
    if jobs < 1:
        raise ReportError(f"jobs must be at least 1, got {jobs}")
    fresh = {outcome.run.name: outcome for outcome in _execute_all(selected, out, jobs)}
    outcomes = [fresh.get(run.name) or outcome_from_disk(run, out) for run in runs]
    index = build_index(out, outcomes)
    failed = [name for name, outcome in fresh.items() if outcome.status != "ok"]
    log.info("wrote %s (%d run(s) executed, %d failed)", index, len(fresh), len(failed))
    if failed:
        log.error("failed run(s): %s; see %s/<name>.failed/", ", ".join(failed), out)
        return 1
    return 0


def _select(runs: list[Run], only: Sequence[str] | None) -> list[Run]:
    if not only:
        return runs
    names = {run.name for run in runs}
    unknown = [name for name in only if name not in names]
    if unknown:
        raise ReportError(f"unknown run name(s) {', '.join(unknown)}; runs: {', '.join(sorted(names))}")
    return [run for run in runs if run.name in set(only)]


def _execute_all(runs: list[Run], out: Path, jobs: int) -> list[RunOutcome]:
    if jobs == 1 or len(runs) < 2:
        return [execute_run(run, out) for run in runs]
    # spawn, not fork: the parent may already hold zmq sockets and threads from earlier kernels.
    root = logging.getLogger()
    fmt = getattr(root.handlers[0].formatter, "_fmt", None) if root.handlers else None
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"), initializer=_worker_logging,
                             initargs=(log.getEffectiveLevel(), fmt)) as pool:
        futures = [pool.submit(execute_run, run, out) for run in runs]
        outcomes = []
        for run, future in zip(runs, futures, strict=True):
            try:
                outcomes.append(future.result())
            except Exception as exc:  # noqa: BLE001 - a crashed worker fails its run only
                outcomes.append(RunOutcome(run, "failed", error=f"worker crashed: {type(exc).__name__}: {exc}"))
        return outcomes


def _worker_logging(level: int, fmt: str | None) -> None:
    """Give a worker process the parent's log level and format (spawned workers start unconfigured)."""
    logging.basicConfig(level=level, format=fmt or logging.BASIC_FORMAT)
    for name in ("papermill", "traitlets", "nbconvert"):
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


# ----------------------------------------------------------------------------------------------- index


def build_index(out_dir: str | os.PathLike[str], outcomes: Sequence[RunOutcome]) -> Path:
    """Write ``<out_dir>/index.html`` atomically: one row per run with its key numbers and report link.

    The page is self-contained (inline CSS, no script, no external resource) and its bytes depend only on the
    outcomes (no build time).  Text from the runs file and results is HTML-escaped (Jinja autoescape).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    rows = [_index_row(outcome, out) for outcome in outcomes]
    counts = {status: sum(row["status"] == status for row in rows) for status in ("ok", "failed", "not run")}
    html = env.get_template(INDEX_TEMPLATE).render(rows=rows, counts=counts, version=__version__)
    target = out / "index.html"
    fd, tmp = tempfile.mkstemp(prefix=".index.html.", dir=out)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(html)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _index_row(outcome: RunOutcome, out: Path) -> dict[str, Any]:
    """Display strings for one index row (the template only lays them out)."""
    run = outcome.run
    res = (outcome.results or {}) if outcome.status == "ok" else {}  # a failed run shows no old numbers
    params = {**run.parameters, **(res.get("run") or {})}
    event = res.get("event") or {}
    data = res.get("data") or {}
    head = res.get("headline") or {}
    event_id = str(event.get("id") or params.get("event_id") or "")
    catalog = _catalog_event(event_id) if not event else None
    return {
        "name": run.name,
        "href": _relative(outcome.report, out),
        "failed_href": _relative(outcome.failed_report, out),
        "event_id": event_id,
        "event_name": str(event.get("name") or (catalog.name if catalog else "")),
        "event_date": str(event.get("date") or (catalog.date.strftime("%Y-%m-%d") if catalog else "")),
        "series": str(params.get("series") or data.get("source") or ""),
        "simulated": bool(data.get("simulated")),
        "model": " / ".join(str(params[k]) for k in ("family", "effect", "errors") if params.get(k) is not None),
        "immediate": _with_ci(head, "immediate_change", _percent),
        "relative_30": _with_ci(head, "relative_30", _percent),
        "half_life": _with_ci(head, "half_life", _days),
        "status": outcome.status,
        "error": _short(outcome.error),
    }


def _short(error: str | None, limit: int = 240) -> str:
    """The first line of an error message, cut to ``limit`` characters (the full text is in error.txt)."""
    lines = (error or "").strip().splitlines()
    first = lines[0] if lines else ""
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "\u2026"


def _relative(path: Path | None, out: Path) -> str | None:
    if path is None:
        return None
    try:
        return Path(path).resolve().relative_to(out.resolve()).as_posix()
    except ValueError:
        return Path(path).resolve().as_uri()


def _catalog_event(event_id: str) -> Any:
    """The catalog Event of an id, or None when it is not in the catalog (e.g. the run that failed on it)."""
    if not event_id:
        return None
    try:
        from spamits import events

        return events.get(event_id)
    except (SpamitsError, LookupError, OSError):
        return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _percent(value: float) -> str:
    return f"{value * 100:+.1f}%".replace("-", "\u2212") if math.isfinite(value) else "\u2014"


def _days(value: float) -> str:
    return f"{value:.1f} d" if math.isfinite(value) else "\u221e"


def _with_ci(head: Mapping[str, Any], key: str, fmt: Any) -> dict[str, str]:
    """``{"value": ..., "ci": ...}`` display strings for an estimate and its ``_low``/``_high`` bounds."""
    value, low, high = (_number(head.get(k)) for k in (key, f"{key}_low", f"{key}_high"))
    return {
        "value": "\u2014" if value is None else fmt(value),
        "ci": "" if low is None or high is None else f"[{fmt(low)}, {fmt(high)}]",
    }

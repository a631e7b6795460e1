"""Run the notebooks of the runs file with papermill and build the offline HTML reports (``spamits report``).

:func:`run_all` (``spamits report``, ``make report``) reads the runs file (``notebooks/runs.yaml``), skips every
run whose inputs are unchanged since its last good report (content hashes, :mod:`spamits._reportcache`;
``force=True`` re-runs), executes the others in parallel (a pool of worker processes, one per core by default,
or a Dask cluster given by its scheduler address) and writes ``reports/index.html``.

One run (:func:`execute_run`): papermill executes the notebook in a fresh kernel whose working directory is a
temporary folder ``reports/.<name>.tmp-XXXX``; the runner then moves every date and duration out of the
notebook into ``run_metadata.json`` (so the ``.ipynb`` and ``results.json`` are the same bytes in every build),
adds a static PNG beside each plotly figure, and writes two offline HTML pages.  The finished folder replaces
``reports/<name>/`` in one rename:

    <name>.html        reviewer page: outputs only, figures interactive (PNG where JavaScript does not run)
    <name>.full.html   the same with every code cell
    <name>.ipynb       the executed notebook (each figure as plotly JSON, HTML and PNG)
    results.json       the numbers the notebook wrote
    run_metadata.json  the ONLY file with build times, durations, cache key and the input hashes

A failed run never replaces the previous good report: its folder goes to ``reports/<name>.failed/`` (with
``error.txt``; its HTML shows where it failed), the other runs go on, and the build exits with code 1.  A build
holds a lock on the output folder, and first tidies what an interrupted build left behind.

With :mod:`spamits._reportnb`, the only spamits modules that import papermill, nbconvert or kaleido.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import platform
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from spamits import _reportcache, _reportfs, _reportnb
from spamits._reportindex import CROSS_TAKEDOWN_RUN, build_index
from spamits._reportnb import external_resources, notebook_to_html
from spamits.errors import ReportError
from spamits.paths import PROJECT_ROOT, data_dir

if TYPE_CHECKING:  # papermill and nbformat take seconds to import: only when a run is executed
    import nbformat

__all__ = [
    "CROSS_TAKEDOWN_RUN", "Run", "RunOutcome", "build_index", "default_jobs", "execute_run", "external_resources",
    "load_runs", "notebook_to_html", "outcome_from_disk", "required_path", "run_all", "untroubled_runs",
]

log = logging.getLogger(__name__)

DEFAULT_RUNS_FILE = PROJECT_ROOT / "notebooks" / "runs.yaml"
DEFAULT_OUT_DIR = PROJECT_ROOT / "reports"
DEFAULT_NOTEBOOK = "takedown_its.ipynb"
RESULTS_FILE = "results.json"
METADATA_FILE = "run_metadata.json"
FULL_SUFFIX = ".full.html"
KERNEL_NAME = "python3"
KERNEL_ARGUMENTS = ("--IPKernelApp.log_level=CRITICAL",)
"""Keeps the kernels' start-up and shutdown chatter off the build's progress lines (a dying kernel still fails
its run)."""
CELL_TIMEOUT = 1800
"""Seconds one notebook cell may run before papermill stops the run."""

RENDERER_ENV = "SPAMITS_PLOTLY_RENDERER"
REPORT_RENDERER = "plotly_mimetype+spamits_html"
"""plotly renderer for report kernels: the JupyterLab mimetype plus HTML that embeds plotly.js (spamits.plots)."""
STATIC_IMAGES_ENV = "SPAMITS_STATIC_IMAGES"
"""``1`` requires static figure images (the build fails without a Chromium), ``0`` turns them off; unset: on
when a Chromium is found, and required when the environment variable ``CI`` is set."""

_DASK_CONNECT_TIMEOUT = "30s"

RUN_KEYS = ("name", "notebook", "parameters", "requires")
GENERATE_KEY = "generate"
"""An entry ``- generate: untroubled`` stands for the runs made from the derived spam-trap counts (see
:func:`untroubled_runs`)."""
UNTROUBLED_DAILY = "data/derived/untroubled_daily.csv"
UNTROUBLED_HOURLY = "data/derived/untroubled_hourly.csv"
TRAP_AUDIT_RUN = "trap-audit"
TRAP_AUDIT_NOTEBOOK = "trap_audit.ipynb"
RUNNER_PARAMETERS = ("results_path",)
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


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


# ----------------------------------------------------------------------------------------------- runs file


def load_runs(path: str | os.PathLike[str]) -> list[Run]:
    """Read and validate a runs file (YAML list of ``{name, notebook, parameters}``).

    ``notebook`` defaults to ``takedown_its.ipynb`` and is resolved relative to the runs file's folder.
    ``requires`` (optional) names a data file (``data/...`` resolves under :func:`spamits.paths.data_dir`, other
    relative paths under the project root); an entry whose file does not exist is validated, then left out.
    An entry ``- generate: untroubled`` stands for the runs of the derived spam-trap counts, in its place
    (:func:`untroubled_runs`; none while those files do not exist), and gives the ``compare-takedowns`` run the
    parameter ``real_series`` (unless the runs file sets it).
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
    real_series: dict[str, str] = {}
    for number, entry in enumerate(data, start=1):
        if isinstance(entry, dict) and GENERATE_KEY in entry:
            generated, real = _generate(path, number, entry, known)
            real_series.update(real)
        else:
            generated = [_parse_entry(path, number, entry, known)]
        for run in generated:
            if run.name in seen:
                raise ReportError(f"{run.origin}: duplicate run name {run.name!r}; each name must be unique")
            seen.add(run.name)
            if run.requires is not None and not required_path(run.requires).is_file():
                log.info("%s: skipped: it requires %s, which does not exist", run.origin,
                         required_path(run.requires))
                continue
            runs.append(run)
    _add_real_series(runs, real_series, known)
    return runs


def _generate(path: Path, number: int, entry: dict, known: dict[Path, set[str] | None]) -> tuple[list[Run],
                                                                                              dict[str, str]]:
    where = f"{path} entry {number} ({GENERATE_KEY}: {entry.get(GENERATE_KEY)!r})"
    if set(map(str, entry)) != {GENERATE_KEY} or entry[GENERATE_KEY] != "untroubled":
        raise ReportError(f"{where}: a generate entry is exactly '{GENERATE_KEY}: untroubled' (no other keys)")
    runs, real_series = untroubled_runs(path.parent, origin=where)
    for run in runs:
        _check_parameters(run.origin, run.notebook, run.parameters, known)
    return runs, real_series


def untroubled_runs(notebooks: Path, origin: str = "generated") -> tuple[list[Run], dict[str, str]]:
    """The runs made from the derived untroubled.org counts, and the ``real_series`` for compare-takedowns.

    - ``trap-audit``: ``trap_audit.ipynb`` on ``data/derived/untroubled_hourly.csv`` if it exists, else on
      ``untroubled_daily.csv``; none without either.
    - ``untroubled-<event id>``: ``takedown_its.ipynb`` on the daily counts (``series: untroubled``) for every catalog
      event whose window they cover (:func:`spamits.audit.event_windows`): ``pre_periods`` = min(90, counted days
      before the event), ``post_periods`` = min(120, counted days from the event on), both at least 28, otherwise
      the event is left out and the reason logged; ``effect`` decay for a takedown, step for a pause;
      ``joint_events`` the catalog events at least 7 days inside that window.

    Every run ``requires`` the file it reads, so that file is part of its cache key.  ``notebooks`` is the
    folder of the notebooks (the runs file's).  Raises :class:`ReportError` when the daily counts are invalid.
    """
    from spamits import audit, events
    from spamits.errors import DataValidationError

    daily_file, hourly_file = required_path(UNTROUBLED_DAILY), required_path(UNTROUBLED_HOURLY)
    audited = UNTROUBLED_HOURLY if hourly_file.is_file() else UNTROUBLED_DAILY if daily_file.is_file() else None
    if audited is None:
        log.info("%s: no derived untroubled counts (%s, %s): no trap-audit or untroubled-<event> runs", origin,
                 daily_file, hourly_file)
        return [], {}
    runs = [Run(TRAP_AUDIT_RUN, (notebooks / TRAP_AUDIT_NOTEBOOK).resolve(), {"counts_path": audited},
                origin=f"{origin} -> {TRAP_AUDIT_RUN}", requires=audited)]
    if not daily_file.is_file():
        log.info("%s: no %s: no untroubled-<event> runs (they fit daily counts)", origin, daily_file)
        return runs, {}
    try:
        daily, _ = audit.load_counts(daily_file)
    except DataValidationError as exc:
        raise ReportError(f"{origin}: {exc}") from exc
    real_series = {}
    for row in audit.event_windows(daily, events.load()).itertuples():
        name = f"untroubled-{row.id}"
        if not row.fits:
            log.info("%s: no run %s: %s", origin, name, row.reason)
            continue
        parameters = {"event_id": row.id, "series": "untroubled", "effect": "step" if row.kind == "pause" else
                      "decay", "pre_periods": int(row.pre_periods), "post_periods": int(row.post_periods),
                      "joint_events": list(row.joint)}
        runs.append(Run(name, (notebooks / DEFAULT_NOTEBOOK).resolve(), parameters, origin=f"{origin} -> {name}",
                        requires=UNTROUBLED_DAILY))
        real_series[row.id] = "untroubled"
    for run in runs:
        if not run.notebook.is_file():
            raise ReportError(f"{run.origin}: notebook {run.notebook.name!r} not found (looked for {run.notebook})")
    return runs, real_series


def _add_real_series(runs: list[Run], real_series: dict[str, str], known: dict[Path, set[str] | None]) -> None:
    """Give the compare-takedowns run the real series of the generated untroubled runs (``real_series``)."""
    compare = next((run for run in runs if run.name == CROSS_TAKEDOWN_RUN), None)
    if not real_series or compare is None or "real_series" in compare.parameters:
        return
    compare.parameters["real_series"] = dict(real_series)
    _check_parameters(compare.origin, compare.notebook, compare.parameters, known)
    compare.requires = compare.requires or UNTROUBLED_DAILY


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
    """Names assigned in the notebook's ``parameters`` cell, or None when it has no such cell.

    Read with :mod:`ast` from the notebook's JSON (the names papermill's ``inspect_notebook`` reports for a
    Python notebook), so checking a runs file needs neither nbformat nor papermill.
    """
    try:
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        cells = [c for c in nb.get("cells", []) if "parameters" in (c.get("metadata") or {}).get("tags", [])]
    except (OSError, ValueError, AttributeError) as exc:
        raise ReportError(f"{nb_path}: cannot read the notebook: {exc}") from None
    if not cells:
        return None
    source = cells[0].get("source", "")
    source = "".join(source) if isinstance(source, list) else str(source)
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ReportError(f"{nb_path}: the parameters cell is not valid Python: {exc}") from None
    names: set[str] = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AnnAssign) else []
        for target in targets:
            names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


# ----------------------------------------------------------------------------------------------- one run


def execute_run(
    run: Run,
    out_dir: str | os.PathLike[str],
    *,
    timeout: int = CELL_TIMEOUT,
    static_images: bool = True,
    cache_key: str | None = None,
    inputs: Mapping[str, Any] | None = None,
) -> RunOutcome:
    """Execute one run and publish its report folder atomically; never raises for a failing notebook.

    The kernel runs with ``SPAMITS_PLOTLY_RENDERER=plotly_mimetype+spamits_html`` and its working directory
    set to the temporary run folder, so the notebook's ``results.json`` lands beside its outputs.
    ``static_images``: add a PNG beside each figure (needs a Chromium).  ``cache_key`` and ``inputs`` (from
    :mod:`spamits._reportcache`) are recorded in ``run_metadata.json`` for the next build's cache check.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{run.name}.tmp-", dir=out))
    os.chmod(work, 0o755)
    started = _utc_now()
    start = time.monotonic()
    log.debug("%s: running %s", run.name, run.notebook.name)
    if static_images:
        with contextlib.suppress(Exception):  # a failure shows when the images are made
            _reportnb.start_image_server()  # the browser starts while the notebook runs
    try:
        error, meta = _execute_and_render(run, work, timeout, static_images)
        results, error = _read_results(work / RESULTS_FILE) if error is None else (None, error)
        seconds = round(time.monotonic() - start, 1)
        record = {"started": started, "finished": _utc_now(), "seconds": seconds, "cache_key": cache_key,
                  "inputs": dict(inputs or {}), "static_images": static_images, **meta}
        _write_run_metadata(work, run, record, error)
        return _publish_outcome(run, work, out, results, error, seconds)
    finally:
        _reportfs.remove_tree(work)


def _utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _write_run_metadata(work: Path, run: Run, record: dict[str, Any], error: str | None) -> None:
    """``run_metadata.json``: the one file of a report folder that holds build times and other run metadata."""
    notebook = run.notebook
    with contextlib.suppress(ValueError):
        notebook = notebook.relative_to(PROJECT_ROOT)
    doc = {
        "about": "Run metadata of a spamits report (build times, durations, cache key, input hashes). It is the "
                 "only file of the report folder that changes from build to build; the notebook, HTML pages and "
                 "results.json are the same bytes whenever the inputs are the same.",
        "run": run.name,
        "notebook": notebook.as_posix(),
        "parameters": run.parameters,
        "status": "ok" if error is None else "failed",
        "error": error,
        "python": platform.python_version(),
        **record,
    }
    text = json.dumps(doc, indent=2, sort_keys=True, default=str, ensure_ascii=False)
    (work / METADATA_FILE).write_text(text + "\n", encoding="utf-8")


def _publish_outcome(run: Run, work: Path, out: Path, results: dict[str, Any] | None, error: str | None,
                     seconds: float) -> RunOutcome:
    """Move ``work`` to ``<out>/<name>/`` (success) or ``<out>/<name>.failed/`` (failure) and describe it."""
    for path in work.iterdir():  # the notebook may write private files (mkstemp); reports are for reading
        if path.is_file():
            path.chmod(0o644)
    if error is None:
        _reportfs.publish(work, out / run.name)
        _reportfs.remove_tree(out / f"{run.name}.failed")
        folder = out / run.name
        return RunOutcome(run, "ok", report=folder / f"{run.name}.html", results=results, seconds=seconds,
                          full_report=folder / f"{run.name}{FULL_SUFFIX}")
    (work / "error.txt").write_text(error + "\n", encoding="utf-8")
    _reportfs.publish(work, out / f"{run.name}.failed")
    outcome = outcome_from_disk(run, out)
    outcome.seconds = seconds
    outcome.error = error
    return outcome


def _execute_and_render(run: Run, work: Path, timeout: int, static_images: bool) -> tuple[str | None, dict]:
    """Run papermill, tidy the notebook, add images, write both HTML pages; return (error or None, metadata).

    The metadata holds what :func:`spamits._reportnb.split_run_metadata` took out of the notebook, the number
    of figures imaged, and ``timings`` (seconds spent executing, imaging and writing the pages).
    """
    import nbformat

    timings: dict[str, float] = {}
    clock = time.monotonic()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        timings[name] = round(now - clock, 2)
        clock = now

    nb_out = work / f"{run.name}.ipynb"
    error = _papermill(run, nb_out, work, timeout)
    lap("execute")
    if not nb_out.is_file():
        return error or "papermill wrote no output notebook", {"timings": timings}
    try:
        nb = nbformat.read(nb_out, as_version=4)
        meta = {**_reportnb.split_run_metadata(nb, PROJECT_ROOT), "timings": timings}
        _reportnb.stable_cell_ids(nb, run.notebook)
    except Exception as exc:  # noqa: BLE001 - one broken run must not stop the others
        return error or f"cannot read the executed notebook: {type(exc).__name__}: {exc}", {"timings": timings}
    if static_images:
        try:
            meta["figures"] = _reportnb.add_static_images(nb)
        except Exception as exc:  # noqa: BLE001 - same reason
            error = error or f"static figure images failed: {type(exc).__name__}: {exc}"
        lap("static_images")
    try:
        nbformat.write(nb, nb_out)
        _write_pages(run, nb, work)
    except Exception as exc:  # noqa: BLE001 - same reason
        return error or f"writing the notebook or its HTML failed: {type(exc).__name__}: {exc}", meta
    lap("pages")
    if error is None:
        for page in (f"{run.name}.html", f"{run.name}{FULL_SUFFIX}"):
            external = external_resources((work / page).read_text(encoding="utf-8"))
            if external:
                return f"{page} loads external resources (not offline): {', '.join(external[:5])}", meta
    return error, meta


def _papermill(run: Run, nb_out: Path, work: Path, timeout: int) -> str | None:
    """Execute the notebook into ``nb_out``; return an error message or None."""
    import papermill

    def execute() -> None:
        papermill.execute_notebook(
            str(run.notebook), str(nb_out), parameters={**run.parameters, "results_path": RESULTS_FILE},
            # The kernel's working directory, given to nbclient directly: papermill's cwd= would chdir the
            # whole process, which breaks runs executing side by side in threads.
            resources={"metadata": {"path": str(work)}},
            kernel_name=KERNEL_NAME, progress_bar=False, log_output=False,
            request_save_on_cell_execute=False,  # saved once at the end (and on failure): ~5 MB each save
            execution_timeout=timeout, record_timing=False, extra_arguments=list(KERNEL_ARGUMENTS),
        )

    try:
        with _report_environ():
            if threading.current_thread() is threading.main_thread():
                execute()
            else:
                _in_own_event_loop(execute, f"spamits-report-{run.name}")
    except papermill.PapermillExecutionError as exc:
        return f"{exc.ename}: {exc.evalue} (notebook cell In [{exc.exec_count}])"
    except Exception as exc:  # noqa: BLE001 - one broken run (kernel died, timeout...) must not stop the others
        return f"{type(exc).__name__}: {exc}"
    return None


def _in_own_event_loop(function: Any, name: str) -> None:
    """Call ``function`` in a new thread and wait for it; close the asyncio loop it used there.

    papermill drives the kernel through asyncio (jupyter_core's run_sync, which makes one loop per thread and
    never closes it); in a worker thread (a threaded Dask worker) the thread may already be tied to a running
    loop, so each run gets a thread, and a loop, of its own.
    """
    failure: list[BaseException] = []

    def target() -> None:
        try:
            function()
        except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
            failure.append(exc)
        finally:
            with contextlib.suppress(RuntimeError):
                loop = asyncio.get_event_loop_policy().get_event_loop()
                if not loop.is_closed():
                    loop.run_until_complete(loop.shutdown_asyncgens())
                    loop.close()
            asyncio.set_event_loop(None)

    thread = threading.Thread(target=target, name=f"{name}-{uuid.uuid4().hex[:8]}", daemon=True)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def _write_pages(run: Run, nb: nbformat.NotebookNode, work: Path) -> None:
    """The reviewer page ``<name>.html`` and the full page ``<name>.full.html``, linking to each other."""
    common = [(f"{run.name}.ipynb", f"{run.name}.ipynb"), ("results.json", RESULTS_FILE),
              ("all reports", "../index.html")]
    pages = {
        f"{run.name}.html": (False, [("full notebook with code", f"{run.name}{FULL_SUFFIX}"), *common]),
        f"{run.name}{FULL_SUFFIX}": (True, [("reviewer page (no code)", f"{run.name}.html"), *common]),
    }
    for page, (full, links) in pages.items():
        suffix = " (with code)" if full else ""
        html = notebook_to_html(nb, title=f"spamits report: {run.name}{suffix}", full=full, links=links)
        (work / page).write_text(html, encoding="utf-8")


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


_environ_lock = threading.Lock()
_environ_users = {"count": 0, "saved": {}}


@contextlib.contextmanager
def _report_environ() -> Iterator[None]:
    """Set the report kernels' environment variables while at least one run of this process is starting.

    Reference-counted, so runs in several threads (a threaded Dask worker) do not undo each other's settings.
    """
    values = {RENDERER_ENV: REPORT_RENDERER, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    with _environ_lock:
        if _environ_users["count"] == 0:
            _environ_users["saved"] = {key: os.environ.get(key) for key in values}
            os.environ.update(values)
        _environ_users["count"] += 1
    try:
        yield
    finally:
        with _environ_lock:
            _environ_users["count"] -= 1
            if _environ_users["count"] == 0:
                for key, old in _environ_users["saved"].items():
                    if old is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = old


# ----------------------------------------------------------------------------------------------- on disk


def outcome_from_disk(run: Run, out_dir: str | os.PathLike[str]) -> RunOutcome:
    """The state of a run as left on disk by earlier builds (used for runs not executed in this build)."""
    out = Path(out_dir)
    good = out / run.name / f"{run.name}.html"
    results, _ = _read_results(out / run.name / RESULTS_FILE) if good.is_file() else (None, None)
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


# ----------------------------------------------------------------------------------------------- cache


def report_files(name: str) -> tuple[str, ...]:
    """The files every good report folder holds."""
    return (f"{name}.ipynb", f"{name}.html", f"{name}{FULL_SUFFIX}", RESULTS_FILE, METADATA_FILE)


def stored_cache_key(run: Run, out: Path) -> str | None:
    """The cache key recorded with the good report of ``run``, or None (no complete report, or unreadable)."""
    folder = out / run.name
    if not all((folder / name).is_file() for name in report_files(run.name)):
        return None
    try:
        key = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8")).get("cache_key")
    except (OSError, ValueError, AttributeError):
        return None
    return key if isinstance(key, str) else None


def run_cache_inputs(run: Run, static_images: bool, shared: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The content hashes that key ``run`` (see :mod:`spamits._reportcache`)."""
    shared = shared or {}
    settings = {"kernel": KERNEL_NAME, "renderer": REPORT_RENDERER, "static_images": static_images,
                "timeout": CELL_TIMEOUT}
    requires = required_path(run.requires) if run.requires else None
    return _reportcache.cache_inputs(run.notebook, run.parameters, requires=requires, settings=settings,
                                     package=shared.get("package"), data=shared.get("data"))


# ----------------------------------------------------------------------------------------------- all runs


@dataclass
class _Job:
    run: Run
    key: str
    inputs: dict[str, Any]


def default_jobs() -> int:
    """Runs at once by default: the number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def run_all(
    runs_file: str | os.PathLike[str] | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    only: Sequence[str] | None = None,
    jobs: int | None = None,
    *,
    force: bool = False,
    scheduler: str | None = None,
    static_images: bool | None = None,
) -> int:
    """Build the reports of the runs file (or of the runs named in ``only``), then write ``index.html``.

    Defaults: ``notebooks/runs.yaml`` and ``reports/`` under the project root.  A run whose inputs are unchanged
    since its good report is skipped unless ``force``.  The others run ``jobs`` at a time (default: one per
    core) in worker processes, or on the Dask cluster whose scheduler is at ``scheduler`` (e.g.
    ``tcp://10.0.0.5:8786``; the workers need this package and the output folder on a shared file system).
    ``static_images``: None follows ``SPAMITS_STATIC_IMAGES`` (see there).  Progress is logged (INFO).
    Returns the exit code: 0 when every run executed succeeded, 1 if any failed.  Raises :class:`ReportError`
    for a bad runs file, an unknown name in ``only``, a bad ``jobs``, or a second build in the same folder.
    """
    runs = load_runs(runs_file if runs_file is not None else DEFAULT_RUNS_FILE)
    out = Path(out_dir) if out_dir is not None else DEFAULT_OUT_DIR
    selected = _select(runs, only)
    jobs = default_jobs() if jobs is None else jobs
    if jobs < 1:
        raise ReportError(f"jobs must be at least 1, got {jobs}")
    static = _static_images_setting(static_images)
    out.mkdir(parents=True, exist_ok=True)
    with _reportfs.build_lock(out):
        _reportfs.tidy_leftovers(out)
        fresh, todo = _check_cache(selected, out, static, force)
        where = f"Dask scheduler {scheduler}" if scheduler else f"{min(jobs, max(len(todo), 1))} process(es)"
        log.info("%d run(s): %d unchanged (skipped), %d to run on %s", len(selected), len(fresh), len(todo), where)
        for outcome in _execute_all(todo, out.resolve(), jobs, scheduler, static):
            fresh[outcome.run.name] = outcome
        outcomes = [fresh.get(run.name) or outcome_from_disk(run, out) for run in runs]
        index = build_index(out, outcomes)
    failed = [outcome.run.name for outcome in fresh.values() if outcome.status != "ok"]
    log.info("wrote %s (%d run(s) executed, %d unchanged, %d failed)", index,
             len(todo), len(selected) - len(todo), len(failed))
    if failed:
        log.error("failed run(s): %s; see %s/<name>.failed/", ", ".join(failed), out)
        return 1
    return 0


def _static_images_setting(requested: bool | None) -> bool:
    """Whether to add static figure images: on when a Chromium is found; required on CI or when asked."""
    if requested is None:
        env = os.environ.get(STATIC_IMAGES_ENV, "").strip().lower()
        if env in ("0", "false", "no", "off"):
            return False
        required = env in ("1", "true", "yes", "on") or bool(os.environ.get("CI"))
    else:
        if not requested:
            return False
        required = True
    if _reportnb.chromium_path() is not None:
        return True
    if required:
        raise ReportError(
            "static figure images need Chrome or Chromium and none was found: run `make browser` (Debian: "
            f"apt-get install chromium), set BROWSER_PATH, or build without them with {STATIC_IMAGES_ENV}=0"
        )
    log.warning("no Chrome/Chromium found: reports are built without static figure images (run `make browser`)")
    return False


def _check_cache(runs: Sequence[Run], out: Path, static: bool, force: bool) -> tuple[dict[str, RunOutcome],
                                                                                       list[_Job]]:
    """Split ``runs`` into unchanged ones (outcome from disk, stale failure folders removed) and jobs to run."""
    shared = {"package": _reportcache.package_digest(), "data": _reportcache.data_digests()}
    cached: dict[str, RunOutcome] = {}
    todo: list[_Job] = []
    for run in runs:
        inputs = run_cache_inputs(run, static, shared)
        key = _reportcache.cache_key(inputs)
        if not force and stored_cache_key(run, out) == key:
            _reportfs.remove_tree(out / f"{run.name}.failed")  # the failure was of other inputs
            outcome = outcome_from_disk(run, out)
            outcome.cached = True
            cached[run.name] = outcome
            log.info("%s: unchanged, skipped", run.name)
        else:
            todo.append(_Job(run, key, inputs))
    return cached, todo


def _select(runs: list[Run], only: Sequence[str] | None) -> list[Run]:
    if not only:
        return runs
    names = {run.name for run in runs}
    unknown = [name for name in only if name not in names]
    if unknown:
        raise ReportError(f"unknown run name(s) {', '.join(unknown)}; runs: {', '.join(sorted(names))}")
    return [run for run in runs if run.name in set(only)]


def _execute_all(todo: list[_Job], out: Path, jobs: int, scheduler: str | None, static: bool) -> list[RunOutcome]:
    if not todo:
        return []
    progress = _Progress(len(todo))
    if scheduler:
        return _execute_dask(todo, out, scheduler, static, progress)
    if jobs == 1 or len(todo) == 1:
        try:
            return [progress.done(_execute_job(job, out, static)) for job in todo]
        finally:
            _reportnb.stop_image_server()
    return _execute_pool(todo, out, min(jobs, len(todo)), static, progress)


def _execute_job(job: _Job, out: Path, static: bool) -> RunOutcome:
    log.info("%s: running %s", job.run.name, job.run.notebook.name)
    return execute_run(job.run, out, static_images=static, cache_key=job.key, inputs=job.inputs)


def _execute_pool(todo: list[_Job], out: Path, jobs: int, static: bool, progress: _Progress) -> list[RunOutcome]:
    # spawn, not fork: the parent may already hold zmq sockets and threads from earlier kernels.
    root = logging.getLogger()
    fmt = getattr(root.handlers[0].formatter, "_fmt", None) if root.handlers else None
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"), initializer=_worker_logging,
                             initargs=(log.getEffectiveLevel(), fmt)) as pool:
        futures = {pool.submit(_execute_job, job, out, static): job for job in todo}
        return _collect(futures, progress)


def _collect(futures: Mapping[Any, _Job], progress: _Progress) -> list[RunOutcome]:
    """Outcomes in the order the runs finish; a crashed worker fails its run only."""
    outcomes = []
    pending: set[Any] = set(futures)
    while pending:
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        for future in sorted(done, key=lambda f: futures[f].run.name):
            outcomes.append(progress.done(_future_outcome(future, futures[future].run)))
    return outcomes


def _future_outcome(future: Future, run: Run) -> RunOutcome:
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - a crashed worker fails its run only
        return RunOutcome(run, "failed", error=f"worker crashed: {type(exc).__name__}: {exc}")


def _execute_dask(todo: list[_Job], out: Path, address: str, static: bool, progress: _Progress) -> list[RunOutcome]:
    """Submit every job to the Dask cluster at ``address``; same outcomes as the local pool."""
    try:
        from distributed import Client
        from distributed import as_completed as dask_as_completed
    except ImportError:  # pragma: no cover - distributed is a dependency
        raise ReportError("--scheduler needs the 'distributed' package: pip install distributed") from None
    try:
        client = Client(address, timeout=_DASK_CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ReportError(f"cannot connect to the Dask scheduler at {address!r}: {exc}") from None
    with client:
        log.info("Dask: %d worker(s) at %s", len(client.scheduler_info().get("workers", {})), address)
        futures = {}
        for job in todo:
            task = f"spamits-report-{job.run.name}-{uuid.uuid4().hex[:8]}"
            future = client.submit(execute_run, job.run, out, static_images=static, cache_key=job.key,
                                   inputs=job.inputs, pure=False, key=task)
            futures[future] = job
        outcomes = []
        for future in dask_as_completed(futures, loop=client.loop):
            outcomes.append(progress.done(_future_outcome(future, futures[future].run)))
        return outcomes


class _Progress:
    """One log line per finished run: ``[3/8] grum: ok (29.3 s)``."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.count = 0

    def done(self, outcome: RunOutcome) -> RunOutcome:
        self.count += 1
        seconds = f" ({outcome.seconds:.1f} s)" if outcome.seconds is not None else ""
        where = f"[{self.count}/{self.total}] {outcome.run.name}"
        if outcome.status == "ok":
            log.info("%s: ok%s", where, seconds)
        else:
            log.error("%s: FAILED%s: %s", where, seconds, outcome.error)
        return outcome


def _worker_logging(level: int, fmt: str | None) -> None:
    """Give a worker process the parent's log level and format (spawned workers start unconfigured)."""
    logging.basicConfig(level=level, format=fmt or logging.BASIC_FORMAT)
    for name in ("papermill", "traitlets", "nbconvert", "kaleido", "choreographer"):
        logging.getLogger(name).setLevel(max(level, logging.WARNING))

"""Execute one report run (:func:`execute_run`): papermill runs the notebook in a fresh kernel whose working
directory is a temporary folder ``<out>/.<name>.tmp-XXXX``; the notebook is then made reproducible and given
static figure images (:mod:`spamits.report.notebook`), both HTML pages (loading the shared plotly.js of
``<out>/_static/``, or embedding it: :mod:`spamits.report.assets`), the PDF of the reviewer page
(:mod:`spamits.report.pdf`) and ``run_metadata.json`` are written, and the folder replaces ``<out>/<name>/`` in
one step (or goes to ``<out>/<name>.failed/``).

With :mod:`spamits.report.notebook`, the only spamits modules that import papermill, nbconvert or kaleido.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import platform
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spamits.paths import PROJECT_ROOT
from spamits.report import folders
from spamits.report import notebook as nbtools
from spamits.report.assets import ensure_shared_plotlyjs, shared_plotlyjs_href
from spamits.report.notebook import external_resources, notebook_to_html
from spamits.report.records import (
    CELL_TIMEOUT,
    FULL_SUFFIX,
    KERNEL_ARGUMENTS,
    KERNEL_NAME,
    METADATA_FILE,
    PDF_SUFFIX,
    RENDERER_ENV,
    REPORT_RENDERER,
    RESULTS_FILE,
    Run,
    RunOutcome,
    outcome_from_disk,
    read_results,
)

if TYPE_CHECKING:  # papermill and nbformat take seconds to import: only when a run is executed
    import nbformat

__all__ = ["execute_run"]

log = logging.getLogger(__name__)


def execute_run(
    run: Run,
    out_dir: str | os.PathLike[str],
    *,
    timeout: int = CELL_TIMEOUT,
    static_images: bool = True,
    cache_key: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    self_contained: bool = False,
) -> RunOutcome:
    """Execute one run and publish its report folder atomically; never raises for a failing notebook.

    The kernel runs with ``SPAMITS_PLOTLY_RENDERER=plotly_mimetype`` (figures as JSON only) and its working
    directory set to the temporary run folder, so the notebook's ``results.json`` lands beside its outputs.
    ``static_images``: add a PNG beside each figure and print the reviewer page to ``<name>.pdf`` (both need a
    Chromium).  ``self_contained``: embed plotly.js in each HTML page instead of loading the shared copy
    ``<out>/_static/plotly-<version>.min.js`` (written here when missing).  ``cache_key`` and ``inputs`` (from
    :mod:`spamits.report.cache`) are recorded in ``run_metadata.json`` for the next build's cache check.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if not self_contained:
        ensure_shared_plotlyjs(out)
    work = Path(tempfile.mkdtemp(prefix=f".{run.name}.tmp-", dir=out))
    os.chmod(work, 0o755)
    started = _utc_now()
    start = time.monotonic()
    log.debug("%s: running %s", run.name, run.notebook.name)
    if static_images:
        with contextlib.suppress(Exception):  # a failure shows when the images are made
            nbtools.start_image_server()  # the browser starts while the notebook runs
    try:
        error, meta = _execute_and_render(run, work, timeout, static_images, self_contained)
        results, error = read_results(work / RESULTS_FILE) if error is None else (None, error)
        seconds = round(time.monotonic() - start, 1)
        record = {"started": started, "finished": _utc_now(), "seconds": seconds, "cache_key": cache_key,
                  "inputs": dict(inputs or {}), "static_images": static_images, **meta}
        _write_run_metadata(work, run, record, error)
        return _publish_outcome(run, work, out, results, error, seconds)
    finally:
        folders.remove_tree(work)


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
        folders.publish(work, out / run.name)
        folders.remove_tree(out / f"{run.name}.failed")
        folder = out / run.name
        return RunOutcome(run, "ok", report=folder / f"{run.name}.html", results=results, seconds=seconds,
                          full_report=folder / f"{run.name}{FULL_SUFFIX}")
    (work / "error.txt").write_text(error + "\n", encoding="utf-8")
    folders.publish(work, out / f"{run.name}.failed")
    outcome = outcome_from_disk(run, out)
    outcome.seconds = seconds
    outcome.error = error
    return outcome


def _execute_and_render(run: Run, work: Path, timeout: int, static_images: bool,
                        self_contained: bool = False) -> tuple[str | None, dict]:
    """Run papermill, tidy the notebook, add images, write both HTML pages and (with ``static_images``, when the
    notebook ran) the PDF; return (error or None, metadata).

    The metadata holds what :func:`spamits.report.notebook.split_run_metadata` took out of the notebook, the number
    of figures imaged, and ``timings`` (seconds spent executing, imaging, writing the pages and the PDF).
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
        meta = {**nbtools.split_run_metadata(nb, PROJECT_ROOT), "timings": timings}
        nbtools.stable_cell_ids(nb, run.notebook)
    except Exception as exc:  # noqa: BLE001 - one broken run must not stop the others
        return error or f"cannot read the executed notebook: {type(exc).__name__}: {exc}", {"timings": timings}
    if static_images:
        try:
            meta["figures"] = nbtools.add_static_images(nb)
        except Exception as exc:  # noqa: BLE001 - same reason
            error = error or f"static figure images failed: {type(exc).__name__}: {exc}"
        lap("static_images")
    nbtools.drop_figure_html(nb)  # the figure JSON once in the notebook; the pages make their HTML from it
    try:
        _write_pages(run, nb, work, self_contained=self_contained, pdf=static_images and error is None)
        # the PNGs are files of figures/ (shared by the pages); the notebook keeps the figure JSON, which
        # JupyterLab draws, so a report tree carries each image once (a self-contained report keeps them inline)
        nbformat.write(nb if self_contained else nbtools.without_static_images(nb), nb_out)
    except Exception as exc:  # noqa: BLE001 - same reason
        return error or f"writing the notebook or its HTML failed: {type(exc).__name__}: {exc}", meta
    lap("pages")
    if error is None:
        for page in (f"{run.name}.html", f"{run.name}{FULL_SUFFIX}"):
            external = external_resources((work / page).read_text(encoding="utf-8"))
            if external:
                return f"{page} loads external resources (not offline): {', '.join(external[:5])}", meta
    if error is None and static_images:
        from spamits.report.pdf import print_pdf

        try:
            print_pdf(work / f"{run.name}.html", work / f"{run.name}{PDF_SUFFIX}")
        except Exception as exc:  # noqa: BLE001 - same reason
            return f"printing the PDF failed: {type(exc).__name__}: {exc}", meta
        lap("pdf")
    return error, meta


def _papermill(run: Run, nb_out: Path, work: Path, timeout: int) -> str | None:
    """Execute the notebook into ``nb_out``; return an error message or None."""
    import papermill

    from spamits.report.kernels import kernel_manager_class

    def execute() -> None:
        papermill.execute_notebook(
            str(run.notebook), str(nb_out), parameters={**run.parameters, "results_path": RESULTS_FILE},
            # The kernel's working directory, given to nbclient directly: papermill's cwd= would chdir the
            # whole process, which breaks runs executing side by side in threads.
            resources={"metadata": {"path": str(work)}},
            kernel_name=KERNEL_NAME, progress_bar=False, log_output=False,
            request_save_on_cell_execute=False,  # saved once at the end (and on failure): ~5 MB each save
            execution_timeout=timeout, record_timing=False, extra_arguments=list(KERNEL_ARGUMENTS),
            kernel_manager_class=kernel_manager_class(),
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


def _write_pages(run: Run, nb: nbformat.NotebookNode, work: Path, *, self_contained: bool = False,
                 pdf: bool = False) -> None:
    """The reviewer page ``<name>.html`` and the full page ``<name>.full.html``, linking to each other (and to
    ``<name>.pdf`` when ``pdf``); plotly.js embedded when ``self_contained``, else the shared copy."""
    common = [(f"{run.name}.ipynb", f"{run.name}.ipynb"), ("results.json", RESULTS_FILE),
              ("all reports", "../index.html")]
    if pdf:
        common.insert(0, ("PDF", f"{run.name}{PDF_SUFFIX}"))
    plotlyjs_src = None if self_contained else shared_plotlyjs_href(depth=1)
    if not self_contained:
        nb = nbtools.figure_image_files(nb, work)  # the two pages share each PNG as a file
    pages = {
        f"{run.name}.html": (False, [("full notebook with code", f"{run.name}{FULL_SUFFIX}"), *common]),
        f"{run.name}{FULL_SUFFIX}": (True, [("reviewer page (no code)", f"{run.name}.html"), *common]),
    }
    for page, (full, links) in pages.items():
        suffix = " (with code)" if full else ""
        html = notebook_to_html(nb, title=f"spamits report: {run.name}{suffix}", full=full, links=links,
                                plotlyjs_src=plotlyjs_src)
        (work / page).write_text(html, encoding="utf-8")


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

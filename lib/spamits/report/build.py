"""Build the reports of a runs file (:func:`run_all`, ``spamits report``, ``make report``).

:func:`run_all` reads the runs file (``notebooks/runs.yaml``), skips every run whose inputs are unchanged since
its last good report (content hashes, :mod:`spamits.report.cache`; ``force=True`` re-runs), executes the
others in parallel (:mod:`spamits.report.executors`: a pool of worker processes, one per core by default, or a
Dask cluster given by its scheduler address) and writes ``reports/index.html``.  Each run
(:func:`spamits.report.execute_run`) writes into a temporary folder that replaces ``reports/<name>/`` in one
rename:

    <name>.html        reviewer page: outputs only, figures interactive (PNG where JavaScript does not run)
    <name>.full.html   the same with every code cell
    <name>.ipynb       the executed notebook (each figure as plotly JSON; no plotly.js; PNGs in figures/)
    <name>.pdf         the reviewer page printed by headless Chromium (with the static images)
    results.json       the numbers the notebook wrote
    run_metadata.json  the ONLY file with build times, durations, cache key and the input hashes

The pages load plotly.js from ``reports/_static/plotly-<version>.min.js``, one copy for the whole folder
(:mod:`spamits.report.assets`), or embed it with ``self_contained=True``.

A failed run never replaces the previous good report: its folder goes to ``reports/<name>.failed/`` (with
``error.txt``; its HTML shows where it failed), the other runs go on, and the build exits with code 1.  A build
holds a lock on the output folder, and first tidies what an interrupted build left behind.  Ctrl-C
(KeyboardInterrupt) ends every process the build started, removes its temporary folders, releases the lock and
re-raises, leaving the previous reports and index as they were.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from spamits.errors import ReportError
from spamits.report import cache, folders
from spamits.report import notebook as nbtools
from spamits.report.assets import ensure_shared_plotlyjs
from spamits.report.executors import Job, default_jobs, execute_all
from spamits.report.index import build_index
from spamits.report.interrupts import deferred_interrupts
from spamits.report.records import (
    DEFAULT_OUT_DIR,
    DEFAULT_RUNS_FILE,
    STATIC_IMAGES_ENV,
    Run,
    RunOutcome,
    outcome_from_disk,
)
from spamits.report.runs import load_runs

__all__ = ["run_all"]

log = logging.getLogger(__name__)


def run_all(
    runs_file: str | os.PathLike[str] | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    only: Sequence[str] | None = None,
    jobs: int | None = None,
    *,
    force: bool = False,
    scheduler: str | None = None,
    static_images: bool | None = None,
    self_contained: bool = False,
) -> int:
    """Build the reports of the runs file (or of the runs named in ``only``), then write ``index.html``.

    Defaults: ``notebooks/runs.yaml`` and ``reports/`` under the project root.  A run whose inputs are unchanged
    since its good report is skipped unless ``force``.  The others run ``jobs`` at a time (default: one per
    core) in worker processes, or on the Dask cluster whose scheduler is at ``scheduler`` (e.g.
    ``tcp://10.0.0.5:8786``; the workers need this package and the output folder on a shared file system).
    ``static_images``: None follows ``SPAMITS_STATIC_IMAGES`` (see there); with them each run also gets its
    ``<name>.pdf``.  Pages load the one shared ``<out>/_static/plotly-<version>.min.js``; ``self_contained``
    embeds plotly.js in every page instead (a page that can be mailed on its own).  Progress is logged (INFO).
    Returns the exit code: 0 when every run executed succeeded, 1 if any failed.  Raises :class:`ReportError`
    for a bad runs file, an unknown name in ``only``, a bad ``jobs``, or a second build in the same folder.
    KeyboardInterrupt (Ctrl-C) ends the runs' processes, removes their temporary folders, releases the lock and
    is re-raised; the reports and index of earlier builds stay as they were.
    """
    runs = load_runs(runs_file if runs_file is not None else DEFAULT_RUNS_FILE)
    out = Path(out_dir) if out_dir is not None else DEFAULT_OUT_DIR
    selected = _select(runs, only)
    jobs = default_jobs() if jobs is None else jobs
    if jobs < 1:
        raise ReportError(f"jobs must be at least 1, got {jobs}")
    static = _static_images_setting(static_images)
    out.mkdir(parents=True, exist_ok=True)
    with folders.build_lock(out):
        folders.tidy_leftovers(out)
        try:
            if not self_contained:
                ensure_shared_plotlyjs(out)  # also for unchanged runs: their pages load it
            fresh, todo = _check_cache(selected, out, static, force, self_contained)
            where = f"Dask scheduler {scheduler}" if scheduler else f"{min(jobs, max(len(todo), 1))} process(es)"
            log.info("%d run(s): %d unchanged (skipped), %d to run on %s", len(selected), len(fresh), len(todo),
                     where)
            for outcome in execute_all(todo, out.resolve(), jobs, scheduler, static):
                fresh[outcome.run.name] = outcome
            outcomes = [fresh.get(run.name) or outcome_from_disk(run, out) for run in runs]
            index = build_index(out, outcomes)
        except KeyboardInterrupt:
            with deferred_interrupts():
                folders.tidy_leftovers(out)  # the temporary folders of the runs just stopped
                log.error("interrupted: the reports in %s are those of the previous build", out)
            raise
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
    if nbtools.chromium_path() is not None:
        return True
    if required:
        raise ReportError(
            "static figure images need Chrome or Chromium and none was found: run `make browser` (Debian: "
            f"apt-get install chromium), set BROWSER_PATH, or build without them with {STATIC_IMAGES_ENV}=0"
        )
    log.warning("no Chrome/Chromium found: reports are built without static figure images (run `make browser`)")
    return False


def _check_cache(runs: Sequence[Run], out: Path, static: bool, force: bool,
                 self_contained: bool = False) -> tuple[dict[str, RunOutcome], list[Job]]:
    """Split ``runs`` into unchanged ones (outcome from disk, stale failure folders removed) and jobs to run."""
    shared = {"package": cache.package_digest(), "data": cache.data_digests()}
    cached: dict[str, RunOutcome] = {}
    todo: list[Job] = []
    for run in runs:
        inputs = cache.run_cache_inputs(run, static, shared, self_contained=self_contained)
        key = cache.cache_key(inputs)
        if not force and cache.stored_cache_key(run, out) == key:
            folders.remove_tree(out / f"{run.name}.failed")  # the failure was of other inputs
            outcome = outcome_from_disk(run, out)
            outcome.cached = True
            cached[run.name] = outcome
            log.info("%s: unchanged, skipped", run.name)
        else:
            todo.append(Job(run, key, inputs, self_contained))
    return cached, todo


def _select(runs: list[Run], only: Sequence[str] | None) -> list[Run]:
    if not only:
        return runs
    names = {run.name for run in runs}
    unknown = [name for name in only if name not in names]
    if unknown:
        raise ReportError(f"unknown run name(s) {', '.join(unknown)}; runs: {', '.join(sorted(names))}")
    return [run for run in runs if run.name in set(only)]

"""Where the runs of a build execute: in this process, in a pool of local worker processes, or on a Dask
cluster (:func:`execute_all`), with one progress line per finished run.

On Ctrl-C (KeyboardInterrupt in this process) every process the build started (pool workers, their kernels,
kaleido's browsers) is ended before the interrupt goes on (:func:`stop_children`).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from spamits.errors import ReportError
from spamits.report import notebook as nbtools
from spamits.report.execute import execute_run
from spamits.report.interrupts import deferred_interrupts, stop_children
from spamits.report.records import Run, RunOutcome

__all__ = ["Job", "default_jobs", "execute_all"]

log = logging.getLogger(__name__)

_DASK_CONNECT_TIMEOUT = "30s"


@dataclass
class Job:
    """A run to execute, with its cache key and the inputs that key hashes (recorded in run_metadata.json)."""

    run: Run
    key: str
    inputs: dict[str, Any]
    self_contained: bool = False
    """Embed plotly.js in each page instead of loading the shared copy (``spamits report --self-contained``)."""


def default_jobs() -> int:
    """Runs at once by default: the number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def execute_all(todo: list[Job], out: Path, jobs: int, scheduler: str | None, static: bool) -> list[RunOutcome]:
    """Execute ``todo`` into the output folder ``out``: on the Dask cluster at ``scheduler`` if given, else in
    this process (``jobs`` 1 or a single run) or in ``jobs`` worker processes.  Returns the outcomes in the
    order the runs finish.  On KeyboardInterrupt every process started below this one is ended (and the Dask
    tasks cancelled) before it is re-raised."""
    if not todo:
        return []
    progress = _Progress(len(todo))
    try:
        if scheduler:
            return _execute_dask(todo, out, scheduler, static, progress)
        if jobs == 1 or len(todo) == 1:
            return [progress.done(_execute_job(job, out, static)) for job in todo]
        return _execute_pool(todo, out, min(jobs, len(todo)), static, progress)
    except KeyboardInterrupt:
        with deferred_interrupts():
            log.error("interrupted: stopping the runs")
            stop_children()
            nbtools.stop_image_server(timeout=2.0)  # its browser was just ended: do not wait for it
        raise
    finally:
        nbtools.stop_image_server()  # the in-process runs' browser, if one was started


def _execute_job(job: Job, out: Path, static: bool) -> RunOutcome:
    log.info("%s: running %s", job.run.name, job.run.notebook.name)
    return execute_run(job.run, out, static_images=static, cache_key=job.key, inputs=job.inputs,
                       self_contained=job.self_contained)


def _execute_pool(todo: list[Job], out: Path, jobs: int, static: bool, progress: _Progress) -> list[RunOutcome]:
    # spawn, not fork: the parent may already hold zmq sockets and threads from earlier kernels.
    root = logging.getLogger()
    fmt = getattr(root.handlers[0].formatter, "_fmt", None) if root.handlers else None
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"), initializer=_worker_logging,
                               initargs=(log.getEffectiveLevel(), fmt))
    try:
        futures = {pool.submit(_execute_job, job, out, static): job for job in todo}
        outcomes = _collect(futures, progress)
    except BaseException:
        # Not `with pool`: its exit would wait for the running notebooks to finish.  End the workers (and their
        # kernels) first, then let the pool go without waiting.
        with deferred_interrupts():
            stop_children()
            pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return outcomes


def _collect(futures: Mapping[Any, Job], progress: _Progress) -> list[RunOutcome]:
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


def _execute_dask(todo: list[Job], out: Path, address: str, static: bool, progress: _Progress) -> list[RunOutcome]:
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
                                   inputs=job.inputs, self_contained=job.self_contained, pure=False, key=task)
            futures[future] = job
        outcomes = []
        try:
            for future in dask_as_completed(futures, loop=client.loop):
                outcomes.append(progress.done(_future_outcome(future, futures[future].run)))
        except KeyboardInterrupt:
            client.cancel(list(futures))  # a task already running on a remote worker finishes there
            raise
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

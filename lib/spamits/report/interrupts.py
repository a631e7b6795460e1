"""Ctrl-C during a report build or a notebook run: end every process this one started, without being
interrupted again while doing so.

:func:`stop_children` ends the whole tree of processes below this one (local pool workers, the Jupyter kernels
they started in sessions of their own, kaleido's Chromium): SIGTERM, then SIGKILL for those still alive after
``timeout`` seconds.  The tree is listed before anything is ended, so that a kernel whose worker dies first is
not lost to re-parenting.  :func:`deferred_interrupts` holds off a second Ctrl-C while the cleanup runs.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["EXIT_INTERRUPTED", "deferred_interrupts", "stop_children"]

log = logging.getLogger(__name__)

EXIT_INTERRUPTED = 130
"""Exit code of a command stopped by Ctrl-C (128 + SIGINT), as shells report it."""
STOP_TIMEOUT = 2.0
"""Seconds the processes get to end after SIGTERM before they are killed."""


def stop_children(timeout: float = STOP_TIMEOUT) -> int:
    """End every descendant process of this process; return how many there were.

    SIGTERM to all of them at once, then SIGKILL to those still running after ``timeout`` seconds.
    """
    import psutil

    try:
        procs = [proc for proc in psutil.Process().children(recursive=True) if not _resource_tracker(proc)]
    except psutil.Error:  # pragma: no cover - this process is always there
        return 0
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.terminate()
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(alive, timeout=timeout)
    if procs:
        log.info("stopped %d process(es) (%d killed after %.0f s)", len(procs), len(alive), timeout)
    return len(procs)


def _resource_tracker(proc: Any) -> bool:
    """multiprocessing's resource tracker: it outlives the workers to clean up after them, and ends with this
    process (ending it early makes it print a traceback)."""
    try:
        return "multiprocessing.resource_tracker" in " ".join(proc.cmdline())
    except Exception:  # noqa: BLE001 - psutil.Error, imported lazily: a process gone is not the tracker
        return False


@contextlib.contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Ignore SIGINT inside the block (main thread only; elsewhere a no-op), then restore the handler."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)

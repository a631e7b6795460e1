"""Download progress for people (a redrawn bar on a terminal) and for logs (plain lines when not a terminal).

:class:`ProgressBar` is the ``progress`` callback of :func:`spamits.ingest.fetch.fetch_untroubled`: it is called
as ``bar(name, done_bytes, total_bytes)`` (``total_bytes`` None when the server did not say) when a download
starts and after every block; a download has ended when ``done_bytes >= total_bytes`` (the downloader makes a
last call with ``done == total`` when the size was unknown).

* On a terminal (``stream.isatty()``): a ``tqdm`` bar (already a dependency) redrawn in place, at most every
  :data:`REDRAW_SECONDS`, with bytes done and total, rate and time left::

      2008.7z:  33%|███▎      | 412M/1.25G [03:16<06:39, 2.10MB/s]

* Otherwise (CI, a log file): plain lines, never a carriage return: one when the download starts, one each time
  it passes another tenth (:data:`LINE_STEPS`) of its size or :data:`LINE_SECONDS` (30 s) after the previous
  line, whichever comes first, and one when it ends.

Sizes are in decimal units (1 MB = 10^6 bytes); the rate is in MB/s and counts only the bytes of this run (a
resumed download's earlier bytes are not part of it); time left = bytes left / that rate.  The plain-line mode is
written here because tqdm redraws with carriage returns, which a CI log shows as one unreadable line.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

from tqdm import tqdm

__all__ = ["LINE_SECONDS", "LINE_STEPS", "REDRAW_SECONDS", "ProgressBar", "human_bytes"]

REDRAW_SECONDS = 0.1
"""On a terminal, the bar is redrawn at most this often (seconds), except at start and end."""
LINE_STEPS = 10
"""Off a terminal, a line each time the download passes another 1/LINE_STEPS (a tenth) of its size..."""
LINE_SECONDS = 30.0
"""... or this many seconds after the previous line, whichever comes first."""
_UNITS = ((10**12, "TB"), (10**9, "GB"), (10**6, "MB"), (10**3, "kB"))


def human_bytes(count: int | float) -> str:
    """``count`` bytes in decimal units with one decimal, e.g. ``1.2 GB``, ``345.0 MB``, ``512 B``."""
    for size, label in _UNITS:
        if abs(count) >= size:
            return f"{count / size:.1f} {label}"
    return f"{int(count)} B"


def _unit(count: int) -> tuple[int, str]:
    """The unit a size is best shown in (MB below a GB, GB, TB; kB for small ones)."""
    for size, label in _UNITS:
        if count >= size:
            return size, label
    return 10**3, "kB"


def _duration(seconds: float | None) -> str:
    """``m:ss`` under an hour, ``h:mm:ss`` beyond; ``--:--`` when unknown."""
    if seconds is None or seconds != seconds or seconds < 0 or seconds > 360_000:
        return "--:--"
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ProgressBar:
    """Progress display for downloads; see the module docstring for what it draws and when.

    ``stream``: where to write (usually ``sys.stderr``).  ``tty``: force terminal mode on or off (default: ask
    ``stream.isatty()``).  ``clock``: seconds, monotonic (injectable for tests).
    """

    def __init__(self, stream: TextIO, *, tty: bool | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)()) if tty is None else tty
        self.clock = clock
        self._name: str | None = None
        self._started = 0.0  # clock at the first call for this download
        self._start_done = 0  # bytes already there at the first call (a resumed .part)
        self._last_draw = 0.0  # clock of the last redraw (tty) or line (plain)
        self._step = 0  # plain mode: tenths of the size done at the last line
        self._bar_tqdm: tqdm | None = None  # tty: the open bar of the current download
        self._ended = False

    def __call__(self, name: str, done: int, total: int | None) -> None:
        now = self.clock()
        if name != self._name:
            self._begin(name, done, now)
            self._emit_start(done, total, now)
            return
        if self._ended:
            return
        finished = total is not None and done >= total
        if finished:
            self._ended = True
            self._emit_end(done, total, now)
        elif self.tty:
            self._advance(done)
        else:
            step = done * LINE_STEPS // total if total else 0
            if step > self._step or now - self._last_draw >= LINE_SECONDS:
                self._line(f"{self._name}: {self._status(done, total, now)}", now)
                self._step = max(self._step, step)

    def close(self) -> None:
        """End a terminal bar left open (a download that failed half-way), so the next message starts clean."""
        if self._bar_tqdm is not None:
            self._bar_tqdm.close()
            self._bar_tqdm = None

    # --- internals -----------------------------------------------------------------------------------------------

    def _begin(self, name: str, done: int, now: float) -> None:
        self.close()
        self._name, self._started, self._start_done, self._ended = name, now, done, False

    def _emit_start(self, done: int, total: int | None, now: float) -> None:
        if total is not None and done >= total:  # nothing left to transfer
            self._ended = True
            self._emit_end(done, total, now)
            return
        if self.tty:
            self._bar_tqdm = tqdm(total=total, initial=done, desc=self._name, file=self.stream, unit="B",
                                  unit_scale=True, unit_divisor=1000, mininterval=REDRAW_SECONDS, leave=True,
                                  dynamic_ncols=True)
            return
        size = human_bytes(total) if total is not None else "size unknown"
        if done:
            self._line(f"{self._name}: resuming at {human_bytes(done)} of {size}", now)
        else:
            self._line(f"{self._name}: downloading, {size}", now)
        self._step = done * LINE_STEPS // total if total else 0

    def _emit_end(self, done: int, total: int | None, now: float) -> None:
        elapsed = now - self._started
        rate = self._rate(done, now)
        summary = (f"{human_bytes(done)} in {_duration(elapsed)}"
                   + (f", {rate / 1e6:.1f} MB/s" if rate is not None else ""))
        if self.tty:
            if self._bar_tqdm is not None:
                if self._bar_tqdm.total is None:
                    self._bar_tqdm.total = done
                self._advance(done)
                self.close()
            else:
                self.stream.write(f"{self._name}: {summary}\n")
        else:
            self._line(f"{self._name}: done, {summary}", now)

    def _rate(self, done: int, now: float) -> float | None:
        """Bytes per second over this run, None until some time has passed."""
        elapsed = now - self._started
        return (done - self._start_done) / elapsed if elapsed > 0 else None

    def _numbers(self, done: int, total: int | None, now: float) -> tuple[str, str, str]:
        """(``done/total unit``, ``x.y MB/s``, time left) as text."""
        size, label = _unit(total if total else done)
        amount = f"{done / size:.1f}/{total / size:.1f} {label}" if total else f"{done / size:.1f} {label}"
        rate = self._rate(done, now)
        speed = f"{rate / 1e6:.1f} MB/s" if rate is not None else "-- MB/s"
        left = (total - done) / rate if total and rate else None
        return amount, speed, _duration(left)

    def _status(self, done: int, total: int | None, now: float) -> str:
        amount, speed, left = self._numbers(done, total, now)
        if not total:
            return f"{amount}, {speed}"
        return f"{int(100 * min(1.0, done / total)):3d}% {amount}, {speed}, {left} left"

    def _advance(self, done: int) -> None:
        bar = self._bar_tqdm
        if bar is not None and done > bar.n:
            bar.update(done - bar.n)

    def _line(self, line: str, now: float) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()
        self._last_draw = now

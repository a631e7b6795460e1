"""Messages per UTC hour from a maildir, an mbox file or a folder of ``.eml`` files, reading headers only.

Each message is dated by :func:`spamits.ingest.dating.date_message` (top ``Received:`` header, the receipt time
stamped by the trap's own server; else ``Date:``; else, for maildir files, the epoch that starts the file
name) and counted in a :class:`~spamits.ingest.tally.CountReport`.  Only a bounded prefix of each message is
read (:data:`HEADER_LIMIT` bytes); bodies are never parsed.  Nothing is fatal per message: every message that is
not counted is skipped for a named reason, and malformed headers are tallied.

Rules (each tested in ``tests/test_ingest_hostile.py``):

* empty file, binary junk (NUL bytes, or no ``Name: value`` header line at the top): skipped;
* no rule gives a plausible date (before 1995-01-01 or more than one day after now): skipped (``no_date``);
* header section longer than :data:`HEADER_LIMIT`: only the prefix is used (``header truncated``);
* bytes that are not UTF-8 in a header: headers are handled as bytes, dates are ASCII, so they do no harm;
* symbolic links (files or folders) are never followed, and only regular files are opened (no FIFOs/devices);
* mbox: a message starts at a line ``From ...`` at the start of the file or after a blank line; a ``From ``
  line without the usual envelope (``From sender date``) still starts a message but is tallied as malformed;
  text before the first ``From`` line is skipped and reported.  Lines and headers are read with bounds, so a
  file without newlines cannot exhaust memory.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

from spamits.errors import DataValidationError
from spamits.ingest.dating import parse_date
from spamits.ingest.months import archive_kind
from spamits.ingest.tally import FROM_LINE, CountReport

__all__ = ["FORMATS", "HEADER_LIMIT", "CountReport", "count_path", "detect_format", "parse_date"]

logger = logging.getLogger(__name__)

FORMATS = ("maildir", "mbox", "eml", "untroubled")
HEADER_LIMIT = 64 * 1024
"""Bytes of a message read at most to find its headers."""
_CHUNK = 16 * 1024
_LINE_LIMIT = 64 * 1024


# ------------------------------------------------------------------------------------------- walking


def _walk(root: Path, report: CountReport) -> Iterator[tuple[str, str]]:
    """(path, parent folder name) of every regular file under ``root``; symlinks are reported, never followed."""
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            report.skip("unreadable", f"{folder} ({exc.strerror})")
            continue
        parent = os.path.basename(folder)
        subfolders = []
        for entry in entries:
            if entry.is_symlink():
                report.skip("symlink", entry.path)
            elif entry.is_dir(follow_symlinks=False):
                subfolders.append(entry.path)
            elif entry.is_file(follow_symlinks=False):
                yield entry.path, parent
            else:
                report.skip("not_regular", entry.path)
        stack.extend(reversed(subfolders))


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def _read_prefix(path: str, report: CountReport) -> tuple[bytes, bool] | None:
    """Up to :data:`HEADER_LIMIT` bytes: enough to hold the header; ``(bytes, whole file read)``."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        report.skip("symlink" if os.path.islink(path) else "unreadable", f"{path} ({exc.strerror})")
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            report.skip("not_regular", path)
            return None
        buf = os.read(fd, _CHUNK)
        if len(buf) < _CHUNK or b"\n\n" in buf or b"\n\r\n" in buf:
            return buf, len(buf) < _CHUNK
        parts = [buf]
        size = len(buf)
        while size < HEADER_LIMIT:
            more = os.read(fd, min(_CHUNK, HEADER_LIMIT - size))
            if not more:
                return b"".join(parts), True
            parts.append(more)
            size += len(more)
            if b"\n\n" in more or b"\n\r\n" in more:
                break
        return b"".join(parts), False
    except OSError as exc:
        report.skip("unreadable", f"{path} ({exc.strerror})")
        return None
    finally:
        os.close(fd)


def _count_files(root: Path, report: CountReport, now: float, keep) -> None:
    for path, parent in _walk(root, report):
        if not keep(path, parent):
            report.extra["ignored_files"] = report.extra.get("ignored_files", 0) + 1
            continue
        got = _read_prefix(path, report)
        if got is not None:
            report.add_message(got[0], path, complete=got[1], now=now, name=os.path.basename(path))


def _is_maildir_message(path: str, parent: str) -> bool:
    return parent in ("cur", "new") and not os.path.basename(path).startswith(".")


def _is_eml(path: str, parent: str) -> bool:
    return path.lower().endswith(".eml")


# ------------------------------------------------------------------------------------------- mbox


def _count_mbox(path: Path, report: CountReport, now: float) -> None:
    """Stream an mbox file line by line (bounded lines, bounded header buffer)."""

    def dater(header: bytes, where: str) -> None:
        report.add_message(header, where, complete=True, now=now)
    number = 0
    header = bytearray()
    state = "start"  # start (before the first From line), header, body
    at_line_start = prev_blank = True
    junk = False
    with open(path, "rb", buffering=1 << 20) as handle:
        while line := handle.readline(_LINE_LIMIT):
            whole = line.endswith(b"\n")
            if at_line_start and line.startswith(b"From ") and prev_blank:
                if state == "header":
                    dater(bytes(header), f"{path} message {number}")
                number += 1
                if FROM_LINE.match(line) is None:
                    report.problem("from_line_malformed", f"{path} message {number}")
                header.clear()
                state = "header"
            elif state == "header":
                if at_line_start and line in (b"\n", b"\r\n"):
                    dater(bytes(header), f"{path} message {number}")
                    state = "body"
                elif len(header) < HEADER_LIMIT:
                    header += line[: HEADER_LIMIT - len(header)]
                elif len(header) == HEADER_LIMIT:
                    report.problem("header_truncated", f"{path} message {number}")
                    header += b"\n"  # marks the truncation as reported
            elif state == "start" and line.strip():
                junk = True
            prev_blank = at_line_start and line in (b"\n", b"\r\n")
            at_line_start = whole
    if state == "header":
        dater(bytes(header), f"{path} message {number}")
    if junk:
        report.skip("mbox_leading_junk", str(path))
    report.extra["mbox_messages"] = number


# ------------------------------------------------------------------------------------------- entry point


def detect_format(path: str | os.PathLike) -> str:
    """``maildir``, ``mbox``, ``eml`` or ``untroubled`` for ``path``; raises DataValidationError when unknown.

    A folder holding ``cur``/``new`` is a maildir; one holding ``YYYY-MM.7z`` files is an untroubled archive
    folder; one holding ``.eml`` files is an eml folder.  A ``.7z`` file is an untroubled archive, a ``.eml``
    file one message, and a file starting with ``From `` an mbox.
    """
    p = Path(path)
    if p.is_dir():
        names = {entry.name for entry in os.scandir(p)}
        if names & {"cur", "new"}:
            return "maildir"
        if any(archive_kind(n) for n in names):
            return "untroubled"
        if any(n.lower().endswith(".eml") for n in names):
            return "eml"
        raise DataValidationError(
            f"{p}: cannot tell the format of this folder: no cur/ or new/ (maildir), no YYYY.7z or YYYY-MM.7z archives "
            f"(untroubled) and no .eml files. Pass --format maildir|mbox|eml|untroubled.")
    if not p.is_file():
        raise DataValidationError(f"{p}: no such file or folder. Give the path of a maildir, an mbox file, a "
                                  f"folder of .eml files or untroubled .7z archives.")
    if p.suffix.lower() == ".7z":
        return "untroubled"
    if p.suffix.lower() == ".eml":
        return "eml"
    with open(p, "rb") as handle:
        start = handle.read(5)
    if start == b"From ":
        return "mbox"
    raise DataValidationError(f"{p}: not a .7z archive, not a .eml file and does not start with 'From ' (mbox). "
                              f"Pass --format maildir|mbox|eml|untroubled if you know the format.")


def count_path(path: str | os.PathLike, fmt: str | None = None, *, now: float | None = None,
               months: list[str] | None = None, sources: dict[str, dict] | None = None) -> CountReport:
    """Count the messages under ``path`` per UTC hour (headers only; see the module docstring for the rules).

    ``fmt``: one of :data:`FORMATS` (``untroubled`` is handed to :func:`spamits.ingest.trap.count_archives`,
    with ``sources``), or None to detect it.  ``now``: the current time in seconds since 1970 (for the
    plausibility window; default: now).  ``months``: the ``YYYY-MM`` months to keep (default: all).
    Raises :class:`DataValidationError` for a missing path or an unknown format.
    """
    now = time.time() if now is None else now
    p = Path(path)
    fmt = fmt or detect_format(p)
    if fmt not in FORMATS:
        raise DataValidationError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    if fmt == "untroubled":
        from spamits.ingest import trap

        return trap.count_archives(p, now=now, months=months, sources=sources)
    if not p.exists():
        raise DataValidationError(f"{p}: no such file or folder.")
    report = CountReport(source=str(p), format=fmt)
    if fmt == "mbox":
        if not p.is_file():
            raise DataValidationError(f"{p}: --format mbox needs a file, got a folder.")
        _count_mbox(p, report, now)
    elif p.is_file():
        if fmt == "maildir":
            raise DataValidationError(f"{p}: --format maildir needs a folder with cur/ and new/, got a file.")
        got = _read_prefix(str(p), report)
        if got is not None:
            report.add_message(got[0], str(p), complete=got[1], now=now, name=p.name)
    else:
        _count_files(p, report, now, _is_maildir_message if fmt == "maildir" else _is_eml)
    if months:
        report.restrict(months)
    logger.info("counted %d messages in %s", report.messages, p)
    return report

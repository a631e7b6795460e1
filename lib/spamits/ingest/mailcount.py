"""Messages per UTC day from a maildir, an mbox file or a folder of ``.eml`` files, reading headers only.

Each message is dated by the date after the last ``;`` of its *first* ``Received:`` header (the one the trap's
own mail server added last, i.e. the receipt time), falling back to ``Date:`` when that header is missing or
unparseable, and is counted on the UTC day of that time.  Only a bounded prefix of each message is read
(:data:`HEADER_LIMIT` bytes); bodies are never parsed.  Nothing is fatal per message: every message that is not
counted is skipped for a named reason, and malformed headers are tallied, both in a :class:`CountReport`.

Rules (each tested in ``tests/test_ingest_hostile.py``):

* empty file, binary junk (NUL bytes, or no ``Name: value`` header line at the top): skipped;
* neither a usable ``Received:`` nor a usable ``Date:``: skipped (``no usable date``);
* a time before :data:`EARLIEST` or more than one day after now: skipped (``implausible date``);
* header section longer than :data:`HEADER_LIMIT`: only the prefix is used (``header truncated``);
* bytes that are not UTF-8 in a header: headers are handled as bytes, dates are ASCII, so they do no harm;
* symbolic links (files or folders) are never followed, and only regular files are opened (no FIFOs/devices);
* mbox: a message starts at a line ``From ...`` at the start of the file or after a blank line; a ``From ``
  line without the usual envelope (``From sender date``) still starts a message but is tallied as malformed;
  text before the first ``From`` line is skipped and reported.  Lines and headers are read with bounds, so a
  file without newlines cannot exhaust memory.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import stat
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from spamits.errors import DataValidationError

__all__ = [
    "EARLIEST",
    "FORMATS",
    "HEADER_LIMIT",
    "CountReport",
    "count_path",
    "detect_format",
    "header_time",
    "parse_date",
]

logger = logging.getLogger(__name__)

FORMATS = ("maildir", "mbox", "eml", "untroubled")
HEADER_LIMIT = 64 * 1024
"""Bytes of a message read at most to find its headers."""
_CHUNK = 16 * 1024
_LINE_LIMIT = 64 * 1024
EARLIEST = dt.datetime(1995, 1, 1, tzinfo=dt.UTC)
"""Messages dated before this are skipped as implausible (spam traps and these archives start later)."""
FUTURE_SLACK = 86_400.0
"""Seconds after the current time a message may be dated before it counts as implausible."""
_MAX_EXAMPLES = 5
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()

_RECEIVED = re.compile(rb"^received[ \t]*:([^\n]*(?:\n[ \t][^\n]*)*)", re.IGNORECASE | re.MULTILINE)
_DATE_HEADER = re.compile(rb"^date[ \t]*:([^\n]*(?:\n[ \t][^\n]*)*)", re.IGNORECASE | re.MULTILINE)
_FIRST_LINE = re.compile(rb"(?:From |[!-9;-~]{1,200}[ \t]*:)")
_FROM_LINE = re.compile(rb"From \S+ +.*\d\d:\d\d.*\d{4}")
_DATE = re.compile(
    rb"(\d{1,2})[ \t\r\n-]+([A-Za-z]{3})[A-Za-z]*\.?[ \t\r\n-]+(\d{2,4}),?[ \t\r\n]+(\d{1,2}):(\d{2})"
    rb"(?::(\d{2}))?(?:\.\d+)?[ \t\r\n]*([+-]\d{4}|[A-Za-z]{1,5})?"
)
_MONTHS = {m: i for i, m in enumerate(
    (b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec"), start=1)}
_ZONES = {b"ut": 0, b"utc": 0, b"gmt": 0, b"z": 0, b"est": -5, b"edt": -4, b"cst": -6, b"cdt": -5, b"mst": -7,
          b"mdt": -6, b"pst": -8, b"pdt": -7}

SKIP_REASONS = {
    "empty": "empty file or entry",
    "junk": "not a mail message (binary junk or no header lines)",
    "no_date": "no usable date (Received: and Date: both missing or unparseable)",
    "implausible_date": "date outside the plausible window (before 1995-01-01 or after now + 1 day)",
    "symlink": "symbolic link (never followed)",
    "not_regular": "not a regular file (FIFO, device or socket)",
    "unreadable": "could not be read (permission or I/O error)",
    "mbox_leading_junk": "text before the first 'From ' line of an mbox",
    "unsafe_name": "archive entry with an unsafe name (absolute path, '..', drive letter, backslash or NUL)",
    "absurd_size": "archive entry declaring an absurd size",
    "duplicate": "duplicate archive entry (same file name seen before)",
    "no_time": "archive entry with neither an epoch file name nor a modification time",
    "symlink_entry": "archive entry that is a symbolic link",
    "outside_months": "dated outside the months of the archives (those days would be incomplete)",
}
PROBLEMS = {
    "received_missing": "no Received: header (Date: used)",
    "received_malformed": "Received: header without a parseable date after ';' (Date: used if usable)",
    "date_missing": "no Date: header where it was needed",
    "date_malformed": "Date: header that could not be parsed",
    "header_truncated": f"header section longer than {HEADER_LIMIT // 1024} KiB (only the prefix was read)",
    "non_ascii_date": "date header with bytes outside ASCII (non-UTF-8 or 8-bit)",
    "from_line_malformed": "mbox 'From ' separator line without the usual sender and date",
}


# --------------------------------------------------------------------------------------------- report


@dataclass
class CountReport:
    """What a count found: messages per UTC day, and every message skipped or header found malformed.

    ``days``: {day number since 1970-01-01 (UTC): messages}.  ``skipped`` / ``problems``: {reason key: n}
    (keys of :data:`SKIP_REASONS` / :data:`PROBLEMS`), with up to five ``examples`` (file or entry names) per
    key.  ``methods``: how many messages were dated by ``received``, ``date``, ``name`` (epoch file name) or
    ``mtime``.  ``months``: for archives, the calendar months covered (``YYYY-MM``), else empty.
    """

    source: str
    format: str
    days: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    problems: Counter = field(default_factory=Counter)
    methods: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    months: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    @property
    def messages(self) -> int:
        """Messages counted (skipped ones excluded)."""
        return sum(self.days.values())

    def skip(self, reason: str, where: str) -> None:
        """Record one message or entry not counted, for ``reason`` (a key of :data:`SKIP_REASONS`)."""
        self.skipped[reason] += 1
        self._example(reason, where)

    def problem(self, key: str, where: str) -> None:
        """Record one malformed header (a key of :data:`PROBLEMS`); the message may still be counted."""
        self.problems[key] += 1
        self._example(key, where)

    def _example(self, key: str, where: str) -> None:
        shown = self.examples.setdefault(key, [])
        if len(shown) < _MAX_EXAMPLES:
            shown.append(where)

    def frame(self) -> pd.DataFrame:
        """``date,count`` rows, one per UTC day, zero-filled between the first and last day.

        With ``months`` set (archives), every day of those months is a row (zero where nothing arrived) and
        days outside them are absent (missing months are gaps, never zeros).
        """
        if self.months:
            days = _month_days(self.months)
        elif self.days:
            days = range(min(self.days), max(self.days) + 1)
        else:
            days = range(0)
        dates = [dt.date.fromordinal(d + _EPOCH_ORDINAL).isoformat() for d in days]
        return pd.DataFrame({"date": dates, "count": [int(self.days.get(d, 0)) for d in days]})

    def summary(self) -> list[str]:
        """Plain-language lines: what was counted, what was skipped and why, malformed headers."""
        lines = [f"{self.source} ({self.format}): {self.messages} messages counted on {len(self.days)} UTC days"]
        if self.methods:
            lines.append("dated by: " + ", ".join(f"{k} {v}" for k, v in sorted(self.methods.items())))
        for key, n in sorted(self.skipped.items()):
            lines.append(f"skipped {n}: {SKIP_REASONS.get(key, key)}; e.g. {', '.join(self.examples.get(key, []))}")
        for key, n in sorted(self.problems.items()):
            lines.append(f"malformed {n}: {PROBLEMS.get(key, key)}; e.g. {', '.join(self.examples.get(key, []))}")
        return lines

    def to_dict(self) -> dict:
        """JSON-ready summary (for the manifest written beside the output)."""
        return {"messages": self.messages, "days": len(self.days), "skipped": dict(sorted(self.skipped.items())),
                "problems": dict(sorted(self.problems.items())), "dated_by": dict(sorted(self.methods.items())),
                "examples": {k: v for k, v in sorted(self.examples.items())}, **self.extra}


def _month_days(months: list[str]) -> list[int]:
    out: list[int] = []
    for month in sorted(set(months)):
        year, mon = int(month[:4]), int(month[5:7])
        start = dt.date(year, mon, 1)
        end = dt.date(year + (mon == 12), mon % 12 + 1, 1)
        out.extend(range(start.toordinal() - _EPOCH_ORDINAL, end.toordinal() - _EPOCH_ORDINAL))
    return out


# ------------------------------------------------------------------------------------------- dates


def parse_date(value: bytes) -> float | None:
    """Seconds since 1970 (UTC) of an RFC 5322 date such as ``Tue, 11 Nov 2008 14:03:27 -0800``, else None.

    Accepts the obsolete forms found in old mail: two-digit years (00-49 = 2000s), missing seconds, zone names
    (GMT, UT, EST...; unknown names count as UTC) and a missing zone (UTC).  Returns None for impossible
    calendar values.
    """
    match = _DATE.search(value)
    if match is None:
        return None
    day, mon, year, hour, minute, second, zone = match.groups()
    month = _MONTHS.get(mon.lower())
    if month is None:
        return None
    y = int(year)
    if len(year) == 2:
        y += 2000 if y < 50 else 1900
    elif len(year) == 3:
        y += 1900
    h, mi, s = int(hour), int(minute), int(second or 0)
    if h > 23 or mi > 59 or s > 60:
        return None
    try:
        ordinal = dt.date(y, month, int(day)).toordinal()
    except ValueError:
        return None
    return (ordinal - _EPOCH_ORDINAL) * 86400.0 + h * 3600 + mi * 60 + min(s, 59) - _zone_seconds(zone)


def _zone_seconds(zone: bytes | None) -> int:
    if not zone:
        return 0
    if zone[:1] in b"+-":
        hours, minutes = int(zone[1:3]), int(zone[3:5])
        if hours > 23 or minutes > 59:
            return 0
        sign = -1 if zone[:1] == b"-" else 1
        return sign * (hours * 3600 + minutes * 60)
    return _ZONES.get(zone.lower(), 0) * 3600


def header_time(header: bytes, report: CountReport | None = None, where: str = "") -> tuple[float | None, str]:
    """Receipt time of a message from its header bytes: ``(seconds since 1970 UTC or None, method)``.

    ``method`` is ``"received"`` (date of the first ``Received:`` header) or ``"date"`` (``Date:`` fallback),
    or ``""`` when neither gives a date.  Malformed headers are tallied in ``report`` when given.
    """
    when: float | None = None
    received = _RECEIVED.search(header)
    if received is None:
        _note(report, "received_missing", where)
    else:
        value = received.group(1)
        _, sep, tail = value.rpartition(b";")
        when = parse_date(tail) if sep else None
        if when is None:
            _note(report, "received_malformed", where)
        elif not tail.isascii():
            _note(report, "non_ascii_date", where)
    if when is not None:
        return when, "received"
    date = _DATE_HEADER.search(header)
    if date is None:
        _note(report, "date_missing", where)
        return None, ""
    when = parse_date(date.group(1))
    if when is None:
        _note(report, "date_malformed", where)
        return None, ""
    if not date.group(1).isascii():
        _note(report, "non_ascii_date", where)
    return when, "date"


def _note(report: CountReport | None, key: str, where: str) -> None:
    if report is not None:
        report.problem(key, where)


def split_header(buf: bytes) -> tuple[bytes, bool]:
    """The header section of a message prefix (up to the first blank line) and whether it ended in ``buf``."""
    cut = buf.find(b"\n\n")
    crlf = buf.find(b"\n\r\n")
    if crlf != -1 and (cut == -1 or crlf < cut):
        cut = crlf
    if cut == -1:
        return buf, False
    return buf[: cut + 1], True


class _Dater:
    """Turns message prefixes into UTC day counts in a report, applying the junk and plausibility rules."""

    def __init__(self, report: CountReport, now: float | None) -> None:
        self.report = report
        self.low = EARLIEST.timestamp()
        self.high = (time.time() if now is None else now) + FUTURE_SLACK

    def add(self, prefix: bytes, where: str, *, complete: bool) -> None:
        """Count one message whose first bytes are ``prefix`` (``complete``: the whole message or header)."""
        report = self.report
        if not prefix.strip():
            report.skip("empty", where)
            return
        header, ended = split_header(prefix)
        if not ended and not complete:
            report.problem("header_truncated", where)
        if b"\x00" in header or _FIRST_LINE.match(header.lstrip(b"\r\n")) is None:
            report.skip("junk", where)
            return
        if b"\r" in header:
            header = header.replace(b"\r\n", b"\n")
        when, method = header_time(header, report, where)
        self.add_time(when, method, where)

    def add_time(self, when: float | None, method: str, where: str) -> None:
        if when is None:
            self.report.skip("no_date", where)
        elif not self.low <= when <= self.high:
            self.report.skip("implausible_date", where)
        else:
            self.report.days[int(when // 86400)] += 1
            self.report.methods[method] += 1


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


def _count_files(root: Path, report: CountReport, now: float | None, keep) -> None:
    dater = _Dater(report, now)
    for path, parent in _walk(root, report):
        if not keep(path, parent):
            report.extra["ignored_files"] = report.extra.get("ignored_files", 0) + 1
            continue
        got = _read_prefix(path, report)
        if got is not None:
            dater.add(got[0], path, complete=got[1])


def _is_maildir_message(path: str, parent: str) -> bool:
    return parent in ("cur", "new") and not os.path.basename(path).startswith(".")


def _is_eml(path: str, parent: str) -> bool:
    return path.lower().endswith(".eml")


# ------------------------------------------------------------------------------------------- mbox


def _count_mbox(path: Path, report: CountReport, now: float | None) -> None:
    """Stream an mbox file line by line (bounded lines, bounded header buffer)."""
    dater = _Dater(report, now)
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
                    dater.add(bytes(header), f"{path} message {number}", complete=True)
                number += 1
                if _FROM_LINE.match(line) is None:
                    report.problem("from_line_malformed", f"{path} message {number}")
                header.clear()
                state = "header"
            elif state == "header":
                if at_line_start and line in (b"\n", b"\r\n"):
                    dater.add(bytes(header), f"{path} message {number}", complete=True)
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
        dater.add(bytes(header), f"{path} message {number}", complete=True)
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
        if any(re.fullmatch(r"\d{4}-\d{2}\.7z", n) for n in names):
            return "untroubled"
        if any(n.lower().endswith(".eml") for n in names):
            return "eml"
        raise DataValidationError(
            f"{p}: cannot tell the format of this folder: no cur/ or new/ (maildir), no YYYY-MM.7z archives "
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


def count_path(path: str | os.PathLike, fmt: str | None = None, *, now: float | None = None) -> CountReport:
    """Count the messages under ``path`` per UTC day (headers only; see the module docstring for the rules).

    ``fmt``: one of :data:`FORMATS` (``untroubled`` is handed to :mod:`spamits.ingest.archive`), or None to
    detect it.  ``now``: the current time in seconds since 1970 (for the plausibility window; default: now).
    Raises :class:`DataValidationError` for a missing path or an unknown format.
    """
    p = Path(path)
    fmt = fmt or detect_format(p)
    if fmt not in FORMATS:
        raise DataValidationError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    if fmt == "untroubled":
        from spamits.ingest import archive

        return archive.count_untroubled(p, now=now)
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
        dater = _Dater(report, now)
        got = _read_prefix(str(p), report)
        if got is not None:
            dater.add(got[0], str(p), complete=got[1])
    else:
        _count_files(p, report, now, _is_maildir_message if fmt == "maildir" else _is_eml)
    logger.info("counted %d messages in %s", report.messages, p)
    return report

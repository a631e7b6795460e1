"""When did a trapped message arrive, and at which trap address: read from its header block alone.

Rules, in order (the first that gives a plausible time wins; :data:`RULES` names them):

1. ``received``: the date after the last ``;`` of the *top* ``Received:`` header, i.e. the line the trap's own
   mail server added last (on the untroubled archive a qmail line such as
   ``Received: (qmail 2847 invoked from network); 19 Nov 2007 08:01:43 -0000``).
2. ``date``: the ``Date:`` header (set by the sender, so only a fallback).
3. ``name``: the epoch that starts the entry's file name (``1195506634.10160_446.txt``), which on the archive is
   the time the message was *filed*, not when it arrived.

What this relies on, and where it was seen: the 102 real archive messages in ``tests/fixtures/untroubled/``
(1998-2007, copied from the untroubled.org archive with their original ``YYYY/MM/<name>`` paths).  On them the top
``Received:`` line is the trap's qmail line in 101 cases; once it carries no ``; date`` part at all
(``Received: (listrecv, mailbox 'linux-kernel' opened at Sun Oct  8 02:48:48 2000)``), so rule 2 applies; the
file-name epoch runs a median of 11 hours after the top ``Received:`` date (-0.1 to 329 hours), which is why the
name is only the last resort.  20 of the files start with an mbox ``From `` envelope line, the others with
``Return-Path:``; neither affects the rules.  The first ``Delivered-To:`` header names the trap address the
message was delivered to (e.g. ``em-ca-bait@em.ca``, ``bait@bruce-guenter.dyndns.org``).

Dates are parsed with the standard library's RFC 5322 tools (:func:`email.utils.parsedate_tz`), which accept the
obsolete forms old mail uses (no weekday, two-digit years, zone names such as ``EST``, a trailing comment);
a date without a zone is read as UTC.  A candidate time outside the plausible window (before
:data:`EARLIEST`, or more than a day in the future) is refused, and when the entry name carries an epoch a
``Date:`` more than :data:`MAX_NAME_LAG` before it or a day after it is refused too (senders' clocks lie; the
trap's own line is trusted up to the same window) -- each refusal is tallied as a problem and the next rule
is tried.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

__all__ = ["EARLIEST", "MAX_NAME_LAG", "PROBLEMS", "RULES", "Dated", "date_message", "name_epoch", "parse_date",
           "recipient", "split_header"]

RULES = ("received", "date", "name")
"""Dating rules in the order they are tried (see the module docstring)."""
EARLIEST = dt.datetime(1995, 1, 1, tzinfo=dt.UTC).timestamp()
"""Seconds since 1970 before which a date is implausible (spam traps and these archives start later)."""
FUTURE_SLACK = 86_400.0
"""Seconds after the current time a message may be dated before it counts as implausible."""
MAX_NAME_LAG = 30 * 86_400.0
"""Seconds a header date may lie before the file name's filing epoch (the real lag reached 329 hours)."""

PROBLEMS = {
    "received_missing": "no Received: header (next rule used)",
    "received_malformed": "top Received: header without a parseable date after ';' (next rule used)",
    "received_far_from_name": "top Received: date more than 30 days before, or a day after, the file name's epoch",
    "date_missing": "no Date: header where it was needed",
    "date_malformed": "Date: header that could not be parsed",
    "date_far_from_name": "Date: more than 30 days before, or a day after, the file name's epoch (name used)",
    "implausible_header_date": "header date before 1995-01-01 or after now + 1 day (next rule used)",
    "non_ascii_date": "date header with bytes outside ASCII (non-UTF-8 or 8-bit)",
    "header_truncated": "header section longer than the bytes read (only the prefix was used)",
    "from_line_malformed": "mbox 'From ' separator line without the usual sender and date",
}
"""Malformed-header keys: the message may still be counted (by a later rule)."""

_RECEIVED = re.compile(rb"^received[ \t]*:([^\n]*(?:\n[ \t][^\n]*)*)", re.IGNORECASE | re.MULTILINE)
_DATE_HEADER = re.compile(rb"^date[ \t]*:([^\n]*(?:\n[ \t][^\n]*)*)", re.IGNORECASE | re.MULTILINE)
_DELIVERED_TO = re.compile(rb"^delivered-to[ \t]*:[ \t]*([^\n]*)", re.IGNORECASE | re.MULTILINE)
_EPOCH_NAME = re.compile(r"^(\d{9,10})\.")
_ADDRESS = re.compile(r"[^\s<>\"',;()]+@[^\s<>\"',;()]+")


@dataclass(frozen=True)
class Dated:
    """A message's time: ``when`` (seconds since 1970, UTC, or None), the ``rule`` that gave it (one of
    :data:`RULES` or ``""``), ``lag`` (file-name epoch minus the top-``Received:`` time, seconds, when both exist),
    and the malformed-header ``problems`` met on the way (keys of :data:`PROBLEMS`)."""

    when: float | None
    rule: str
    lag: float | None = None
    problems: tuple[str, ...] = ()


def split_header(buf: bytes) -> tuple[bytes, bool]:
    """The header section of a message prefix (up to the first blank line) and whether it ended in ``buf``."""
    cut = buf.find(b"\n\n")
    crlf = buf.find(b"\n\r\n")
    if crlf != -1 and (cut == -1 or crlf < cut):
        cut = crlf
    if cut == -1:
        return buf, False
    return buf[: cut + 1], True


def parse_date(value: bytes) -> float | None:
    """Seconds since 1970 (UTC) of an RFC 5322 date (``Tue, 11 Nov 2008 14:03:27 -0800``), else None.

    Uses :func:`email.utils.parsedate_tz`; a date without a zone is taken as UTC.  Impossible calendar values
    (month 13, hour 25, 31 February) give None.
    """
    text = value.decode("ascii", "replace").strip()
    if not text:
        return None
    try:
        parts = email.utils.parsedate_tz(text)
    except (ValueError, IndexError, TypeError, OverflowError):
        return None
    if parts is None:
        return None
    year, month, day, hour, minute, second = parts[:6]
    if not (1 <= month <= 12 and 0 <= hour <= 23 and 0 <= minute <= 59 and 0 <= second <= 60):
        return None
    try:
        base = dt.datetime(year, month, day, hour, minute, min(second, 59), tzinfo=dt.UTC).timestamp()
    except (ValueError, OverflowError):
        return None
    return base - (parts[9] or 0)


def name_epoch(name: str | None) -> float | None:
    """The epoch that starts an entry's file name (``1226412000.12345_0.lorien`` -> 1226412000.0), else None."""
    if not name:
        return None
    match = _EPOCH_NAME.match(PurePosixPath(name).name)
    return float(match.group(1)) if match else None


def recipient(header: bytes) -> str | None:
    """The trap address of the first ``Delivered-To:`` header, lower-cased, else None."""
    match = _DELIVERED_TO.search(header)
    if match is None:
        return None
    found = _ADDRESS.search(match.group(1).decode("utf-8", "replace"))
    return found.group(0).lower()[:200] if found else None


def date_message(header: bytes, name: str | None = None, *, now: float) -> Dated:
    """Date one message from its header block (``\\n`` line ends) and entry name; see the module docstring.

    ``now``: the current time (seconds since 1970) bounding plausible dates.  Returns a :class:`Dated` whose
    ``when`` is None when no rule gave a plausible time.
    """
    problems: list[str] = []
    high = now + FUTURE_SLACK
    filed = name_epoch(name)
    filed = filed if filed is not None and EARLIEST <= filed <= high else None
    received = _top_received(header, problems)
    if received is not None and _plausible(received, filed, high, problems, "received_far_from_name"):
        lag = None if filed is None else filed - received
        return Dated(received, "received", lag, tuple(problems))
    date = _date_header(header, problems)
    if date is not None and _plausible(date, filed, high, problems, "date_far_from_name"):
        return Dated(date, "date", None, tuple(problems))
    if filed is not None:
        return Dated(filed, "name", None, tuple(problems))
    return Dated(None, "", None, tuple(problems))


def _plausible(when: float, filed: float | None, high: float, problems: list[str], far_key: str) -> bool:
    if not EARLIEST <= when <= high:
        problems.append("implausible_header_date")
        return False
    if filed is not None and not filed - MAX_NAME_LAG <= when <= filed + FUTURE_SLACK:
        problems.append(far_key)
        return False
    return True


def _top_received(header: bytes, problems: list[str]) -> float | None:
    match = _RECEIVED.search(header)
    if match is None:
        problems.append("received_missing")
        return None
    _, sep, tail = match.group(1).rpartition(b";")
    when = parse_date(tail) if sep else None
    if when is None:
        problems.append("received_malformed")
    elif not tail.isascii():
        problems.append("non_ascii_date")
    return when


def _date_header(header: bytes, problems: list[str]) -> float | None:
    match = _DATE_HEADER.search(header)
    if match is None:
        problems.append("date_missing")
        return None
    when = parse_date(match.group(1))
    if when is None:
        problems.append("date_malformed")
    elif not match.group(1).isascii():
        problems.append("non_ascii_date")
    return when

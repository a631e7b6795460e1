"""Count the messages of untroubled.org spam-trap archives per UTC hour, streaming headers only.

The archive as published (evidence: ``tests/fixtures/untroubled/README.md``): past years are one ``YYYY.7z``
each, recent months ``YYYY-MM.7z`` until they are rolled into their year, so a download folder may hold both a
month's own file and the year that also contains it.  Inside, one message per entry, named
``YYYY/MM/<epoch>.<pid>[_<n>].<suffix>``; a message starts with ``Return-Path:`` or with an mbox ``From `` line.

:func:`count_archives` reads every archive of a folder (or one archive) with :func:`spamits.ingest.sevenzip.
iter_entries` -- nothing is extracted to disk and only each entry's header block is kept -- and dates each
message by :func:`spamits.ingest.dating.date_message` (top ``Received:``, else ``Date:``, else the name's epoch).
Each message is counted once: a file name seen before in the same count (an overlapping monthly and yearly
archive, or a repeated entry) is skipped as ``duplicate``.  Names are remembered as 64-bit hashes, compacted into
a sorted array (8 bytes a message), so memory stays small for years of mail; two different names sharing a hash
(odds about 1 in 10^6 for ten million messages) would drop one message.

Hostile entries are skipped and reported, never fatal: unsafe names (absolute, ``..``, drive letters,
backslashes), symbolic links, declared sizes above :data:`~spamits.ingest.sevenzip.MAX_ENTRY_BYTES` (data never
read), empty entries, binary junk, entries no rule can date.  A corrupt or truncated archive is a
:class:`~spamits.errors.DataValidationError` naming the file.
"""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path

import numpy as np

from spamits.errors import DataValidationError
from spamits.ingest import sevenzip
from spamits.ingest.months import archive_months, next_month
from spamits.ingest.tally import CountReport, month_of

__all__ = ["archive_months", "count_archives", "find_archives"]

logger = logging.getLogger(__name__)

_FOLDER = re.compile(r"^(\d{4})/(\d{2})/")
_UNSAFE = re.compile(r"(^/|^[A-Za-z]:|\\|\x00|(^|/)\.\.(/|$))")


def find_archives(path: str | os.PathLike) -> list[Path]:
    """One ``.7z`` file, or every ``YYYY.7z`` and ``YYYY-MM.7z`` of a folder (years first, then months)."""
    p = Path(path)
    if p.is_file():
        return [p]
    if not p.is_dir():
        raise DataValidationError(f"{p}: no such file or folder. Give a .7z archive or the folder holding them "
                                  f"(default data/raw/untroubled after spamits data fetch).")
    found = [a for a in p.iterdir() if archive_months(a) and a.is_file() and not a.is_symlink()]
    if not found:
        raise DataValidationError(f"{p}: no YYYY.7z or YYYY-MM.7z archives here. Fetch them first: spamits data "
                                  f"fetch untroubled --from YYYY-MM --to YYYY-MM --dest {p}")
    return sorted(found, key=lambda a: (a.name[:4], len(a.name), a.name))


class _SeenNames:
    """File names met so far, as 64-bit hashes: a small set, compacted into a sorted uint64 array."""

    def __init__(self, batch: int = 50_000) -> None:
        self.batch = batch
        self.recent: set[int] = set()
        self.frozen = np.empty(0, dtype=np.uint64)

    def add(self, name: str) -> bool:
        """Remember ``name``; False if it was seen before."""
        key = hash(name) & 0xFFFF_FFFF_FFFF_FFFF
        if key in self.recent:
            return False
        if self.frozen.size:
            at = int(np.searchsorted(self.frozen, np.uint64(key)))
            if at < self.frozen.size and int(self.frozen[at]) == key:
                return False
        self.recent.add(key)
        if len(self.recent) >= self.batch:
            self.frozen = np.union1d(self.frozen, np.fromiter(self.recent, dtype=np.uint64, count=len(self.recent)))
            self.recent.clear()
        return True


def count_archives(path: str | os.PathLike, *, months: list[str] | None = None, now: float | None = None,
                   sources: dict[str, dict] | None = None) -> CountReport:
    """Count the messages of one archive or of every archive of a folder per UTC hour (see the module docstring).

    ``months``: the ``YYYY-MM`` months to count (messages dated outside them are skipped as
    ``outside_months``); default: every month whose ``YYYY/MM/`` folder was read, and every month a message
    was dated in (months with neither are gaps in the output, not zeros).  ``report.extra["edge_note"]`` says
    which months the folders read leave incomplete.  ``now``: current time in seconds (plausibility bound;
    default now).  ``sources``: {archive name: facts such as url and sha256} merged into each archive's row.
    ``report.extra["archives"]`` holds one dict per archive (name, sha256, bytes, entries, messages,
    dated_by, lag_hours, skipped, recipients, ...).
    """
    from spamits.data import file_sha256

    now = time.time() if now is None else now
    root = Path(path)
    total = CountReport(source=str(root), format="untroubled")
    seen = _SeenNames()
    folders: set[str] = set()
    reports = []
    for archive in find_archives(root):
        part = CountReport(source=archive.name, format="untroubled")
        _count_one(archive, part, seen, folders, now)
        reports.append((archive, part))
        total.merge(part)
    span = months or _default_months(folders, total)
    if span:
        total.restrict(span)
    total.extra["archives"] = [_archive_row(a, r, file_sha256(a), (sources or {}).get(a.name, {}), span)
                               for a, r in reports]
    total.extra["folders"] = sorted(folders)
    note = _edge_note(span, folders)
    if note:
        total.extra["edge_note"] = note
    return total


def _count_one(archive: Path, report: CountReport, seen: _SeenNames, folders: set[str], now: float) -> None:
    for entry in sevenzip.iter_entries(archive):
        if entry.is_dir:
            continue
        report.entries += 1
        where = f"{archive.name}:{entry.name}"
        reason = _entry_problem(entry)
        if reason:
            report.skip(reason, where)
            continue
        if not seen.add(entry.name.rpartition("/")[2]):
            report.skip("duplicate", where)
            continue
        folder = _FOLDER.match(entry.name)
        if folder:
            folders.add(f"{folder.group(1)}-{folder.group(2)}")
        report.add_message(entry.head, where, complete=entry.complete, now=now, name=entry.name)
    logger.info("%s: %d entries, %d messages counted", archive, report.entries, report.messages)


def _entry_problem(entry: sevenzip.Entry) -> str:
    if _UNSAFE.search(entry.name) or not entry.name.strip("/"):
        return "unsafe_name"
    if entry.is_symlink:
        return "symlink_entry"
    if entry.size is not None and entry.size > sevenzip.MAX_ENTRY_BYTES:
        return "absurd_size"
    if entry.size == 0 or (entry.complete and not entry.head):
        return "empty"
    return ""


def _default_months(folders: set[str], report: CountReport) -> list[str]:
    """Months with a folder read, and months some message was dated in (a late-filed message can sit in the
    next month's folder); a month with neither is left out, a gap rather than zeros."""
    return sorted(set(folders) | {month_of(hour * 3600) for hour in report.hours})


def _edge_note(months: list[str], folders: set[str]) -> str:
    """What the folders read leave incomplete: months without their folder, months whose next folder is absent."""
    if not months or not folders:
        return ""
    unread = [m for m in months if m not in folders]
    short = [m for m in months if next_month(m) not in folders and m in folders]
    notes = []
    if unread:
        notes.append(f"{_some(unread)}: no folder of {'this month' if len(unread) == 1 else 'these months'} was "
                     f"read; their counts hold only messages filed late, in the next month's folder")
    if short:
        notes.append(f"{_some(short)}: the last days may be short: a message is filed a median of about 11 hours "
                     f"(up to two weeks) after it arrives, and the next month's folder, where such late-filed "
                     f"messages sit, was not read")
    return "; ".join(notes)


def _some(months: list[str], shown: int = 4) -> str:
    return ", ".join(months[:shown]) + (f" and {len(months) - shown} more" if len(months) > shown else "")


def _archive_row(archive: Path, report: CountReport, sha: str, known: dict, months: list[str]) -> dict:
    inside = set(months)
    row = {"archive": archive.name, "sha256": sha, "bytes": archive.stat().st_size,
           "url": known.get("url", "unknown (not fetched by spamits)"), "fetched_utc": known.get("fetched_utc"),
           "months_in_name": archive_months(archive) or [],
           "messages_in_months": sum(n for h, n in report.hours.items() if month_of(h * 3600) in inside)
           if inside else report.messages}
    return {**row, **report.to_dict()}

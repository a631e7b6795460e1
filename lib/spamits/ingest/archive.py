"""Messages per UTC day from untroubled.org spam-trap archives (``YYYY-MM.7z``), from the listing alone.

Each archive entry is one message.  Its time is the epoch prefix of its file name (maildir style,
``1226412000.12345_0.lorien``) or, failing that, the entry's modification time; it is counted on that UTC day.
No message body is written to disk: the listing comes from the 7z header (py7zr), and a sample of entries is
decompressed in memory, keeping only the first :data:`SAMPLE_BYTES` bytes of each, to cross-check the entry time
against the message's first ``Received:`` (or ``Date:``) header.  Disagreement is reported, never silently
ignored.

Hostile entries are skipped and reported (see :data:`spamits.ingest.mailcount.SKIP_REASONS`): unsafe names
(absolute, ``..``, drive letters, backslashes, NUL), declared sizes above :data:`MAX_ENTRY_BYTES`, duplicates
(same file name in any archive of the run), symbolic links, entries without any time, empty entries and dates
outside the plausible window.  A corrupt or truncated archive is a :class:`DataValidationError` naming the file.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import py7zr
from py7zr.io import Py7zIO, WriterFactory

from spamits.errors import DataValidationError
from spamits.ingest import mailcount
from spamits.ingest.mailcount import CountReport

__all__ = ["MAX_ENTRY_BYTES", "SAMPLE_BYTES", "ArchiveEntry", "count_untroubled", "list_entries", "archive_month"]

logger = logging.getLogger(__name__)

MAX_ENTRY_BYTES = 64 * 1024 * 1024
"""Entries declaring more than this (64 MiB) are not plausible single spam messages: skipped and reported."""
SAMPLE_BYTES = 8 * 1024
"""Bytes kept in memory from each sampled entry (its header) for the cross-check."""
SAMPLE_SIZE = 40
"""Entries sampled per archive for the header cross-check."""
SAMPLE_BUDGET = 512 * 1024 * 1024
"""Bytes py7zr may decompress per archive while reaching the sampled entries (solid blocks); then it stops."""
MAX_ENTRIES = 5_000_000
"""Archives listing more entries than this are refused (the listing is held in memory)."""

_ARCHIVE_NAME = re.compile(r"^(\d{4})-(\d{2})\.7z$")
_EPOCH_NAME = re.compile(r"^(\d{9,10})\.")
_UNSAFE = re.compile(r"(^/|^[A-Za-z]:|\\|\x00|(^|/)\.\.(/|$))")


@dataclass
class ArchiveEntry:
    """One listed entry: ``name`` as stored, declared ``size`` in bytes, ``mtime`` (UTC seconds or None)."""

    name: str
    size: int
    mtime: float | None
    is_dir: bool = False
    is_symlink: bool = False
    folder: int | None = None
    """Which compressed block (7z folder) holds it; entries of one block are decompressed in sequence."""


@dataclass
class CrossCheck:
    """Entry time against header time on a sample of entries (the first :data:`SAMPLE_BYTES` of each)."""

    sampled: int = 0
    compared: int = 0
    same_day: int = 0
    no_header_date: int = 0
    offsets: list[float] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)
    stopped: str = ""

    def to_dict(self) -> dict:
        """JSON-ready summary: counts, median and largest absolute offset in minutes, examples."""
        absolute = [abs(x) for x in self.offsets]
        return {
            "sampled": self.sampled, "compared": self.compared, "same_utc_day": self.same_day,
            "different_utc_day": self.compared - self.same_day, "no_header_date": self.no_header_date,
            "median_abs_offset_minutes": round(statistics.median(absolute) / 60, 2) if absolute else None,
            "max_abs_offset_minutes": round(max(absolute) / 60, 2) if absolute else None,
            "disagreement_examples": self.disagreements[:5], "stopped": self.stopped,
        }


# ------------------------------------------------------------------------------------------- listing


def archive_month(path: str | os.PathLike) -> str | None:
    """``YYYY-MM`` for an archive named ``YYYY-MM.7z`` (a valid month), else None."""
    match = _ARCHIVE_NAME.match(Path(path).name)
    if match and 1 <= int(match.group(2)) <= 12:
        return f"{match.group(1)}-{match.group(2)}"
    return None


def _open(path: Path) -> py7zr.SevenZipFile:
    try:
        return py7zr.SevenZipFile(path, mode="r", max_extract_size=SAMPLE_BUDGET)
    except Exception as exc:  # noqa: BLE001 - a hostile header can raise anything; name the file

        raise DataValidationError(
            f"{path}: not a readable 7z archive (corrupt or truncated: {type(exc).__name__}: {exc}). Delete it "
            f"and fetch it again, e.g. spamits data fetch untroubled --from {archive_month(path) or 'YYYY-MM'} "
            f"--to {archive_month(path) or 'YYYY-MM'}.") from None


def list_entries(path: str | os.PathLike) -> list[ArchiveEntry]:
    """The entries of a 7z archive from its header (nothing is decompressed but the header itself)."""
    p = Path(path)
    with _open(p) as archive:
        return _entries(archive, p)


def _entries(archive: py7zr.SevenZipFile, path: Path) -> list[ArchiveEntry]:
    files = archive.files
    if len(files) > MAX_ENTRIES:
        raise DataValidationError(f"{path}: lists {len(files)} entries, more than the {MAX_ENTRIES} allowed.")
    folders: dict[int, int] = {}
    out = []
    for f in files:
        stamp = f.lastwritetime
        folder = f.folder
        out.append(ArchiveEntry(
            name=str(f.filename), size=int(f.uncompressed or 0),
            mtime=stamp.totimestamp() if stamp is not None else None,
            is_dir=bool(f.is_directory), is_symlink=bool(f.is_symlink),
            folder=None if folder is None else folders.setdefault(id(folder), len(folders)),
        ))
    return out


def _entry_time(entry: ArchiveEntry) -> tuple[float | None, str]:
    base = PurePosixPath(entry.name).name
    match = _EPOCH_NAME.match(base)
    if match:
        return float(match.group(1)), "name"
    if entry.mtime is not None:
        return entry.mtime, "mtime"
    return None, ""


# ------------------------------------------------------------------------------------------- counting


def _archives(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise DataValidationError(f"{path}: no such file or folder. Give a YYYY-MM.7z archive or the folder "
                                  f"holding them (default data/raw/untroubled after spamits data fetch).")
    found = sorted(p for p in path.iterdir() if archive_month(p) and p.is_file() and not p.is_symlink())
    if not found:
        raise DataValidationError(f"{path}: no YYYY-MM.7z archives here. Fetch them first: spamits data fetch "
                                  f"untroubled --from YYYY-MM --to YYYY-MM --dest {path}")
    return found


def count_untroubled(path: str | os.PathLike, *, now: float | None = None, sample: int = SAMPLE_SIZE,
                     digests: dict[str, str] | None = None) -> CountReport:
    """Count the messages of one ``.7z`` archive or of every ``YYYY-MM.7z`` in a folder, per UTC day.

    Days outside the archives' months are dropped (reported as ``outside_months``): those days are only
    partly covered.  A single archive not named ``YYYY-MM.7z`` keeps every day.  ``sample``: entries per
    archive cross-checked against their header.  ``digests``: {archive name: SHA-256} filled in when given.
    ``report.extra`` holds ``archives`` (name, month, sha256, entries, counted) and ``cross_check``.
    """
    from spamits.data import file_sha256

    root = Path(path)
    archives = _archives(root)
    report = CountReport(source=str(root), format="untroubled")
    months = [m for m in (archive_month(a) for a in archives) if m]
    if len(months) == len(archives):
        report.months = months
    dater = mailcount._Dater(report, now)
    seen: set[str] = set()
    check = CrossCheck()
    rows = []
    for archive_path in archives:
        before = report.messages
        with _open(archive_path) as archive:
            entries = _entries(archive, archive_path)
            chosen = _count_entries(entries, archive_path, report, dater, seen, sample)
            _cross_check(archive, archive_path, chosen, check, report)
        sha = file_sha256(archive_path)
        if digests is not None:
            digests[archive_path.name] = sha
        rows.append({"archive": archive_path.name, "month": archive_month(archive_path), "sha256": sha,
                     "bytes": archive_path.stat().st_size, "entries": len(entries),
                     "counted": report.messages - before})
    _drop_outside(report)
    report.extra["archives"] = rows
    report.extra["cross_check"] = check.to_dict()
    return report


def _count_entries(entries: list[ArchiveEntry], path: Path, report: CountReport, dater: mailcount._Dater,
                   seen: set[str], sample: int) -> list[tuple[ArchiveEntry, float]]:
    """Count the listed entries; return (entry, time) of the sample to cross-check."""
    bad_folders = set()
    candidates: list[tuple[ArchiveEntry, float]] = []
    for entry in entries:
        where = f"{path.name}:{entry.name!r}"
        if entry.is_dir:
            continue
        reason = _entry_problem(entry, seen)
        if reason:
            report.skip(reason, where)
            if reason == "absurd_size":
                bad_folders.add(entry.folder)
            continue
        seen.add(PurePosixPath(entry.name).name)
        when, method = _entry_time(entry)
        if when is None:
            report.skip("no_time", where)
            continue
        counted = report.messages
        dater.add_time(when, method, where)
        if report.messages > counted:
            candidates.append((entry, when))
    usable = [c for c in candidates if c[0].folder not in bad_folders]
    if len(usable) < len(candidates):
        report.extra.setdefault("cross_check_notes", []).append(
            f"{path.name}: {len(candidates) - len(usable)} entries not sampled: they share a compressed block "
            f"with an entry of absurd declared size, which is never decompressed")
    if not usable or sample <= 0:
        return []
    step = max(len(usable) / sample, 1.0)
    return [usable[int(i * step)] for i in range(min(sample, len(usable)))]


def _entry_problem(entry: ArchiveEntry, seen: set[str]) -> str:
    if _UNSAFE.search(entry.name) or not entry.name.strip("/"):
        return "unsafe_name"
    if entry.is_symlink:
        return "symlink_entry"
    if entry.size > MAX_ENTRY_BYTES:
        return "absurd_size"
    if entry.size == 0:
        return "empty"
    if PurePosixPath(entry.name).name in seen:
        return "duplicate"
    return ""


def _drop_outside(report: CountReport) -> None:
    if not report.months:
        return
    keep = set(mailcount._month_days(report.months))
    for day in [d for d in report.days if d not in keep]:
        n = report.days.pop(day)
        report.skipped["outside_months"] += n
        report._example("outside_months", f"{n} on {dt.date(1970, 1, 1) + dt.timedelta(days=day)}")


# ------------------------------------------------------------------------------------------- cross-check


class _Prefix(Py7zIO):
    """Keeps the first ``limit`` bytes written to it and discards the rest (bounded memory)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.data = bytearray()
        self.total = 0

    def write(self, s: bytes | bytearray) -> int:
        room = self.limit - len(self.data)
        if room > 0:
            self.data += s[:room]
        self.total += len(s)
        return len(s)

    def read(self, size: int | None = None) -> bytes:
        return b""

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def flush(self) -> None:
        return None

    def size(self) -> int:
        return self.total


class _PrefixFactory(WriterFactory):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.made: dict[str, _Prefix] = {}

    def create(self, filename: str) -> Py7zIO:
        return self.made.setdefault(filename, _Prefix(self.limit))


def _cross_check(archive: py7zr.SevenZipFile, path: Path, chosen: list[tuple[ArchiveEntry, float]],
                 check: CrossCheck, report: CountReport) -> None:
    if not chosen:
        return
    factory = _PrefixFactory(SAMPLE_BYTES)
    try:
        archive.extract(targets=[entry.name for entry, _ in chosen], factory=factory)
    except Exception as exc:  # noqa: BLE001 - any decompression failure only ends the cross-check
        check.stopped = f"{path.name}: {type(exc).__name__}: {exc}"
        logger.warning("cross-check of %s stopped: %s", path, check.stopped)
    prefixes = {PurePosixPath(k).as_posix(): v.data for k, v in factory.made.items()}
    for entry, when in chosen:
        data = prefixes.get(PurePosixPath(entry.name).as_posix())
        if data is None:
            continue
        check.sampled += 1
        header, _ = mailcount.split_header(bytes(data))
        header_when, _method = mailcount.header_time(header.replace(b"\r\n", b"\n"))
        if header_when is None:
            check.no_header_date += 1
            continue
        check.compared += 1
        check.offsets.append(header_when - when)
        if int(header_when // 86400) == int(when // 86400):
            check.same_day += 1
        else:
            check.disagreements.append(
                f"{path.name}:{entry.name}: entry {_iso(when)} vs header {_iso(header_when)}")
    if check.disagreements:
        report.extra["cross_check_disagrees"] = True


def _iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")

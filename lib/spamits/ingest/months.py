"""Calendar months (``YYYY-MM``) and the archive names that hold them (``YYYY.7z``, ``YYYY-MM.7z``).

The one place that parses a month, steps to the next one, spans a range and reads an archive's name; the index
reader, the downloader and the counters all use it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from spamits.errors import DataValidationError

__all__ = ["MAX_MONTHS", "MIN_YEAR", "archive_kind", "archive_months", "month_range", "next_month", "parse_month"]

MIN_YEAR = 1990
"""Months and archives before this year are not spam-trap months."""
MAX_MONTHS = 600
"""Longest range of months accepted at once (50 years)."""
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_ARCHIVE_NAME = re.compile(r"^(\d{4})(?:-(\d{2}))?\.7z$")


def parse_month(text: str, option: str = "month") -> tuple[int, int]:
    """``(year, month)`` of ``YYYY-MM``; a :class:`DataValidationError` naming ``option`` otherwise."""
    match = _MONTH.match(str(text))
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < MIN_YEAR:
        raise DataValidationError(f"{option} {text!r}: write a month as YYYY-MM, e.g. 2008-11.")
    return int(match.group(1)), int(match.group(2))


def next_month(month: str) -> str:
    """The ``YYYY-MM`` after ``month``."""
    year, number = int(month[:4]), int(month[5:7])
    return f"{year + (number == 12):04d}-{number % 12 + 1:02d}"


def month_range(start: str, end: str) -> list[str]:
    """Every month from ``start`` to ``end`` inclusive (``--from`` / ``--to``), as ``YYYY-MM`` strings."""
    first, last = parse_month(start, "--from"), parse_month(end, "--to")
    if last < first:
        raise DataValidationError(f"--to {end} is before --from {start}; give the months oldest first.")
    count = (last[0] - first[0]) * 12 + last[1] - first[1] + 1
    if count > MAX_MONTHS:
        raise DataValidationError(f"{start} to {end} is {count} months; fetch at most {MAX_MONTHS} at once.")
    out = [f"{first[0]:04d}-{first[1]:02d}"]
    for _ in range(count - 1):
        out.append(next_month(out[-1]))
    return out


def archive_kind(name: str) -> tuple[str, int, int | None] | None:
    """``("year", 2008, None)`` for ``2008.7z``, ``("month", 2008, 11)`` for ``2008-11.7z``; None for any other
    name (another pattern, a month outside 01-12, a year before :data:`MIN_YEAR`)."""
    match = _ARCHIVE_NAME.match(name)
    if not match or int(match.group(1)) < MIN_YEAR:
        return None
    year, month = int(match.group(1)), match.group(2)
    if month is None:
        return "year", year, None
    return ("month", year, int(month)) if 1 <= int(month) <= 12 else None


def archive_months(path: str | os.PathLike) -> list[str] | None:
    """Months an archive's name says it holds: ``2008.7z`` -> 2008-01..2008-12, ``2008-11.7z`` -> [2008-11]."""
    kind = archive_kind(Path(path).name)
    if kind is None:
        return None
    _, year, month = kind
    return [f"{year:04d}-{m:02d}" for m in range(1, 13)] if month is None else [f"{year:04d}-{month:02d}"]

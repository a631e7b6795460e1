"""``spamits data count``: count a trap archive or mailbox and write ``date,count`` with its manifest.

:func:`count_to_csv` counts ``path`` (:func:`spamits.ingest.mailcount.count_path`), writes the CSV per UTC day
or hour and ``<stem>.manifest.json`` beside it (:func:`spamits.ingest.manifest.write_derived`, both atomically),
and returns what it did.  The manifest holds, beside the file's hash: how the counts were made (``method``),
the data's terms (``licence``), ``months``, ``messages``, ``dated_by`` (messages per dating rule),
``lag_hours`` (file-name epoch minus top-``Received:`` time), ``skipped`` (with ``skip_reasons``), ``problems``,
``recipients`` (top trap addresses per month) and, for archives, one row per archive in ``archives`` (SHA-256,
URL and fetch time from the fetch log, and the same tallies per archive).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from spamits import paths
from spamits.data import DERIVED_SOURCES
from spamits.errors import DataValidationError
from spamits.ingest.dating import PROBLEMS
from spamits.ingest.mailcount import count_path, detect_format
from spamits.ingest.manifest import write_derived
from spamits.ingest.months import month_range
from spamits.ingest.tally import FREQS, SKIP_REASONS, CountReport

__all__ = ["LICENCES", "METHODS", "OUTPUTS", "count_to_csv", "default_output", "parse_months"]

OUTPUTS = {"day": DERIVED_SOURCES["untroubled"], "hour": "untroubled_hourly.csv"}
"""Default file names of the untroubled counts under ``data/derived/``."""

METHODS = {
    "untroubled": (
        "messages per UTC {freq} from the untroubled.org archives (yearly YYYY.7z and monthly YYYY-MM.7z), "
        "streamed through libarchive with only each entry's header block kept (nothing extracted to disk); "
        "each message dated by the trap's own top Received: line, else Date:, else the epoch of its file name "
        "(RFC 5322 dates via Python's email.utils); a file name met twice (overlapping archives) counted once"),
    "mail": (
        "messages per UTC {freq} from headers only (first 64 KiB of each message): top Received: date, else "
        "Date:, else a maildir file name's epoch; dates before 1995-01-01 or after now + 1 day refused"),
}
LICENCES = {
    "untroubled": ("counts derived from Bruce Guenter's spam-trap archive (http://untroubled.org/spam/); its "
                   "terms of reuse were not verified: do not redistribute the messages, ask before publishing"),
    "mail": "counts derived from the researcher's own mail; terms are the researcher's",
}


def default_output(freq: str = "day") -> Path:
    """``data/derived/untroubled_daily.csv`` (or ``untroubled_hourly.csv``) under the data folder."""
    return paths.data_dir() / "derived" / OUTPUTS[freq]


def parse_months(start: str | None, end: str | None) -> list[str] | None:
    """The months from ``start`` to ``end`` (``YYYY-MM``, inclusive); None when neither is given."""
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise DataValidationError("give both --from and --to (YYYY-MM), or neither to count every month found.")
    return month_range(start, end)


def count_to_csv(path: str | os.PathLike, out: str | os.PathLike | None = None, fmt: str | None = None, *,
                 freq: str = "day", months: list[str] | None = None,
                 now: float | None = None) -> tuple[CountReport, Path, Path]:
    """Count ``path`` per UTC ``freq`` (``day`` or ``hour``) and write ``out`` and its ``.manifest.json``.

    ``fmt``: one of :data:`spamits.ingest.mailcount.FORMATS` or None to detect.  ``out`` defaults to
    :func:`default_output` for untroubled archives and is required otherwise.  ``months``: ``YYYY-MM`` months
    to count (default: every month found).  Returns the report and the two paths written.  Nothing is written
    when nothing could be counted or the output folder cannot be written.
    """
    if freq not in FREQS:
        raise DataValidationError(f"--freq {freq!r}: must be one of {', '.join(FREQS)}.")
    fmt = fmt or detect_format(path)
    if out is None:
        if fmt != "untroubled":
            raise DataValidationError(f"{path}: give the output file with -o OUT.csv (only untroubled archives "
                                      f"have a default, data/derived/{OUTPUTS[freq]}).")
        out = default_output(freq)
    _check_output(Path(out))
    sources = _fetched(Path(path)) if fmt == "untroubled" else None
    report = count_path(path, fmt, now=now, months=months, sources=sources)
    if sources:
        _check_hashes(report, sources)
    if report.messages == 0:
        raise DataValidationError(f"{path}: no message could be counted ({'; '.join(report.summary()[1:]) or 'empty'}"
                                  f"); nothing written.")
    try:
        frame = report.frame(freq)
        written = write_derived(frame, out, _provenance(path, fmt, freq, report, frame))
    except OSError as exc:
        raise DataValidationError(f"-o {out}: could not be written ({exc.strerror or exc}); choose another output "
                                  f"path. Nothing was left half-written.") from None
    return (report, *written)


def _check_output(out: Path) -> None:
    if out.suffix.lower() != ".csv":
        raise DataValidationError(f"-o {out}: the output must be a .csv file (date,count).")
    folder = out.parent
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if existing is None or not existing.is_dir():
        raise DataValidationError(f"-o {out}: {existing} is not a folder; choose an output path in a folder.")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise DataValidationError(f"-o {out}: cannot write in {existing} (permission denied); choose another "
                                  f"output folder.")


def _provenance(path: str | os.PathLike, fmt: str, freq: str, report: CountReport, frame: pd.DataFrame) -> dict:
    kind = "untroubled" if fmt == "untroubled" else "mail"
    tallies = report.to_dict()
    out = {"format": fmt, "freq": freq, "method": METHODS[kind].format(freq=freq), "licence": LICENCES[kind],
           "data_note": "REAL: counts of real trapped messages, dated as stated in method",
           "source_path": str(path), "months": report.months or sorted({d[:7] for d in frame["date"]}),
           "skip_reasons": {k: SKIP_REASONS[k] for k in tallies["skipped"] if k in SKIP_REASONS},
           "problem_notes": {k: PROBLEMS[k] for k in tallies["problems"] if k in PROBLEMS}}
    return {**tallies, **out}


def _fetched(path: Path) -> dict[str, dict]:
    """{archive name: fetch-log row} of the download folder (empty when it was not filled by spamits)."""
    from spamits.ingest.fetch import read_fetch_log

    return read_fetch_log(path if path.is_dir() else path.parent)["archives"]


def _check_hashes(report: CountReport, sources: dict[str, dict]) -> None:
    """Refuse archives whose SHA-256 differs from the one logged when they were fetched."""
    for row in report.extra.get("archives", []):
        known = sources.get(row["archive"], {})
        if known.get("sha256") and known["sha256"] != row["sha256"]:
            raise DataValidationError(
                f"{row['archive']}: SHA-256 {row['sha256']} differs from {known['sha256']} recorded when it was "
                f"fetched from {known.get('url')}; the file changed since: delete it and fetch it again.")

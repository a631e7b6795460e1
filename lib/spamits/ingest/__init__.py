"""Real data in: spam-trap archives, maildirs and mbox files to ``date,count`` CSVs, with provenance.

* :mod:`~spamits.ingest.fetch`: download the monthly untroubled.org archives (resumable, polite, hashed).
* :mod:`~spamits.ingest.archive`: count an archive's messages per UTC day from its 7z listing (py7zr), with a
  header cross-check on a sample read in memory.
* :mod:`~spamits.ingest.mailcount`: count a maildir, an mbox or ``.eml`` files per UTC day from headers only.
* :mod:`~spamits.ingest.manifest`: ``data/MANIFEST`` (hashes, sources, licences), verification, and the
  ``*.manifest.json`` written beside every derived CSV.

:func:`count_to_csv` ties them together (``spamits data count``).  This package imports ``spamits.errors``,
``spamits.paths`` and ``spamits.data`` only; nothing in ``spamits.its`` imports it.
"""

from __future__ import annotations

import os
from pathlib import Path

from spamits import paths
from spamits.errors import DataValidationError
from spamits.ingest.fetch import DEFAULT_BASE_URL, FetchError, FetchResult, fetch_untroubled, month_range
from spamits.ingest.mailcount import FORMATS, CountReport, count_path, detect_format
from spamits.ingest.manifest import VerifyResult, update_hashes, verify, write_derived

__all__ = ["DEFAULT_BASE_URL", "FORMATS", "UNTROUBLED_OUTPUT", "CountReport", "FetchError", "FetchResult",
           "VerifyResult", "count_path", "count_to_csv", "default_output", "detect_format", "fetch_untroubled",
           "month_range", "update_hashes", "verify", "write_derived"]

UNTROUBLED_OUTPUT = "untroubled_daily.csv"

METHODS = {
    "untroubled": (
        "messages per UTC day from the 7z listing of each monthly archive (no message body written to disk): "
        "entry time = epoch prefix of the file name, else the entry's modification time; days outside the "
        "archives' months dropped; a sample of entries cross-checked against the first Received:/Date: header "
        "read in memory (first 8 KiB)"),
    "mail": (
        "messages per UTC day from headers only (first 64 KiB of each message): date of the first Received: "
        "header, else Date:; messages before 1995-01-01 or after now + 1 day skipped"),
}
LICENCES = {
    "untroubled": ("counts derived from Bruce Guenter's spam-trap archive (http://untroubled.org/spam/); its "
                   "terms of reuse were not verified: do not redistribute the messages, ask before publishing"),
    "mail": "counts derived from the researcher's own mail; terms are the researcher's",
}


def default_output() -> Path:
    """``data/derived/untroubled_daily.csv`` under the data folder."""
    return paths.data_dir() / "derived" / UNTROUBLED_OUTPUT


def count_to_csv(path: str | os.PathLike, out: str | os.PathLike | None = None, fmt: str | None = None, *,
                 now: float | None = None) -> tuple[CountReport, Path, Path]:
    """Count ``path`` per UTC day and write ``out`` (``date,count``) and its ``.manifest.json``.

    ``fmt``: one of :data:`FORMATS` or None to detect.  ``out`` defaults to :func:`default_output` for
    untroubled archives and is required otherwise.  Returns the report and the two paths written.
    """
    fmt = fmt or detect_format(path)
    if out is None:
        if fmt != "untroubled":
            raise DataValidationError(f"{path}: give the output file with -o OUT.csv (only untroubled archives "
                                      f"have a default, data/derived/{UNTROUBLED_OUTPUT}).")
        out = default_output()
    report = count_path(path, fmt, now=now)
    if report.messages == 0:
        raise DataValidationError(f"{path}: no message could be counted ({'; '.join(report.summary()[1:]) or 'empty'}"
                                  f"); nothing written.")
    kind = "untroubled" if fmt == "untroubled" else "mail"
    provenance = {"format": fmt, "method": METHODS[kind], "licence": LICENCES[kind], "report": report.to_dict()}
    if fmt == "untroubled":
        provenance["sources"] = _untroubled_sources(Path(path), report)
    else:
        provenance["sources"] = [{"path": str(Path(path).resolve())}]
    csv_path, sidecar = write_derived(report.frame(), out, provenance)
    return report, csv_path, sidecar


def _untroubled_sources(path: Path, report: CountReport) -> list[dict]:
    """Each archive with its URL (from the fetch log when present) and SHA-256, checked against the log."""
    from spamits.ingest.fetch import read_fetch_log

    folder = path if path.is_dir() else path.parent
    logged = read_fetch_log(folder)["archives"]
    out = []
    for row in report.extra.get("archives", []):
        known = logged.get(row["archive"], {})
        if known.get("sha256") and known["sha256"] != row["sha256"]:
            raise DataValidationError(
                f"{folder / row['archive']}: SHA-256 {row['sha256']} differs from {known['sha256']} recorded when it "
                f"was fetched from {known.get('url')}; the file changed since: delete it and fetch it again.")
        out.append({**row, "url": known.get("url", "unknown (not fetched by spamits)"),
                    "fetched_utc": known.get("fetched_utc")})
    return out

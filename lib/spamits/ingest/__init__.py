"""Real data in: spam-trap archives, maildirs and mbox files to ``date,count`` CSVs, with provenance.

* :mod:`~spamits.ingest.index` and :mod:`~spamits.ingest.fetch`: read the untroubled.org index page, resolve
  months to the yearly or monthly archive that holds them, download each once (resumable, polite, hashed).
* :mod:`~spamits.ingest.sevenzip`: stream a 7z archive's entries, keeping only each header block (libarchive).
* :mod:`~spamits.ingest.dating`: when a message arrived (top ``Received:``, else ``Date:``, else the file
  name's epoch) and at which trap address.
* :mod:`~spamits.ingest.tally`: the :class:`CountReport` (messages per UTC hour, rules used, skips, lags).
* :mod:`~spamits.ingest.trap`: count untroubled archives (overlapping yearly and monthly files counted once).
* :mod:`~spamits.ingest.mailcount`: count a maildir, an mbox or ``.eml`` files.
* :mod:`~spamits.ingest.derive`: :func:`count_to_csv` (``spamits data count``): CSV per UTC day or hour and
  its manifest.
* :mod:`~spamits.ingest.manifest`: ``data/MANIFEST`` (hashes, sources, licences), verification, and the
  ``*.manifest.json`` written beside every derived CSV.

This package imports ``spamits.errors``, ``spamits.paths``, ``spamits._atomic`` and ``spamits.data`` only;
nothing in ``spamits.its`` imports it.
"""

from __future__ import annotations

from spamits.ingest.derive import OUTPUTS, count_to_csv, default_output, parse_months
from spamits.ingest.fetch import DEFAULT_BASE_URL, FetchError, FetchResult, fetch_untroubled, month_range
from spamits.ingest.mailcount import FORMATS, count_path, detect_format
from spamits.ingest.manifest import VerifyResult, update_hashes, verify, write_derived
from spamits.ingest.tally import CountReport

__all__ = ["DEFAULT_BASE_URL", "FORMATS", "UNTROUBLED_OUTPUT", "CountReport", "FetchError", "FetchResult",
           "VerifyResult", "count_path", "count_to_csv", "default_output", "detect_format", "fetch_untroubled",
           "month_range", "parse_months", "update_hashes", "verify", "write_derived"]

UNTROUBLED_OUTPUT = OUTPUTS["day"]

"""Audit of spam-trap counts written by ``spamits data count``: what was counted, how it was dated, what it can fit.

* :func:`load_counts` reads a ``date,count`` CSV (daily ``YYYY-MM-DD`` or hourly ``YYYY-MM-DDTHH:00:00Z``, every
  period of each counted month present) and its ``<stem>.manifest.json``, checking the manifest's SHA-256.
* :func:`dating_table`, :func:`lag_table`, :func:`recipient_table` and :func:`recipient_breaks` turn the manifest
  into tables for people; :func:`event_windows` says which catalog events the counts can fit, with which window.
* :func:`findings` states the audit in plain computed sentences; :func:`to_dict` gives it all for ``results.json``.

Counts are messages per UTC period (messages per day or per hour); lags are hours (entry name's epoch minus the
trap's top ``Received:`` time).  No plotting here (see :mod:`spamits.plots.trap`).  Modules:
:mod:`~spamits.audit.counts` (loading), :mod:`~spamits.audit.tables`, :mod:`~spamits.audit.findings`.
"""

from spamits.audit.counts import counts_file, daily_from, load_counts, shown_path
from spamits.audit.findings import as_markdown, findings, to_dict
from spamits.audit.tables import (
    MAX_POST,
    MAX_PRE,
    MIN_DAYS,
    NEIGHBOUR_DAYS,
    RULES,
    dating_table,
    describe,
    event_windows,
    lag_hours,
    lag_share,
    lag_table,
    monthly_top,
    recipient_breaks,
    recipient_shares,
    recipient_table,
    run_events,
)

__all__ = ["MAX_POST", "MAX_PRE", "MIN_DAYS", "NEIGHBOUR_DAYS", "RULES", "as_markdown", "counts_file", "daily_from",
           "dating_table", "describe", "event_windows", "findings", "lag_hours", "lag_share", "lag_table",
           "load_counts", "monthly_top", "recipient_breaks", "recipient_shares", "recipient_table", "run_events",
           "shown_path", "to_dict"]

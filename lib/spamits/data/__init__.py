"""Spam-count series and vendor figures: loading and validation (no fitting, no plotting).

* :func:`load` reads a tidy CSV (``date,count``; one row per hour, day, week or month) or a simulated scenario
  name into a float Series on a regular :class:`~pandas.DatetimeIndex` with ``freq`` set (``"h"``, ``"D"``,
  ``"W-<DAY>"``, ``"MS"`` or ``"ME"``).  Missing periods become NaN and are reported (:class:`DataGapWarning`),
  never filled.
* :func:`validate` does the checks on an already-read table; every failure is a :class:`DataValidationError`
  naming the file, the 1-based data row, its line in the file (row + 1, the header being line 1), the problem
  and how to fix it.
* :func:`window` and :func:`period_position` cut the analysis window around an event date.
* :func:`vendor_figures` and :func:`vendor_series` read ``data/vendor_figures.csv`` (figures published by
  security vendors).  A series is always one vendor and one metric: vendors and metrics are never mixed.
* :func:`simulate` and :data:`SCENARIOS`: seeded SIMULATED series with their true counterfactual; ``simulate``
  also gives the stress cases of :mod:`~spamits.data.stress` (bursts, wandering level, AR(2) noise, an earlier
  event, low counts, a changing weekly pattern, hourly counts) by name.

Modules: :mod:`~spamits.data.series` (load, validate, describe), :mod:`~spamits.data.frequency` (frequency
inference, gaps, windows), :mod:`~spamits.data.vendor` (vendor figures), :mod:`~spamits.data.simulation`
(the simulator), :mod:`~spamits.data.stress` (the stress cases of issue 13).  This package imports only
``spamits.errors``, ``spamits.paths``, ``spamits._display`` and, lazily, ``spamits.events``.  Raw files are
only read, never modified.
"""

from __future__ import annotations

from spamits.data._text import DATE_COLUMN as DATE_COLUMN  # also importable from here, as before the split
from spamits.data._text import file_sha256
from spamits.data.frequency import MIXED_RUN as MIXED_RUN
from spamits.data.frequency import period_position, window
from spamits.data.series import DERIVED_SOURCES as DERIVED_SOURCES
from spamits.data.series import describe, load, validate
from spamits.data.simulation import SCENARIOS, simulate
from spamits.data.vendor import CONFLICT_POLICIES as CONFLICT_POLICIES
from spamits.data.vendor import VENDOR_COLUMNS, vendor_figures, vendor_series, vendor_table
from spamits.data.vendor import ConflictPolicy as ConflictPolicy

__all__ = [
    "SCENARIOS",
    "VENDOR_COLUMNS",
    "describe",
    "file_sha256",
    "period_position",
    "load",
    "simulate",
    "validate",
    "vendor_figures",
    "vendor_series",
    "vendor_table",
    "window",
]


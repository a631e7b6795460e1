"""Robustness of a takedown estimate: placebo dates, date and window sensitivity, and unknown break dates.

* :func:`placebo_in_time` — the same model refitted at every admissible date before the real event; where
  does the real estimate fall among estimates at dates with no event?  All refits are solved together
  (``spamits.its.batch``), so a 2-year daily series takes well under a second or two.
* :func:`date_sweep` / :func:`window_sweep` — refits over the catalog's date range (``date_lo``..``date_hi``)
  and over a grid of pre/post window lengths, as tidy tables.
* :func:`break_scan` — where does the data itself put a break?  A likelihood profile over candidate dates
  (sup-LR / sup-Wald scan) with a likelihood-ratio confidence set for the date.
* :func:`takedown_table` and :func:`cross_takedown_summary` — one row per event (immediate change and
  half-life with intervals, takedowns and pauses side by side, REAL fits beside SIMULATED ones) and a
  plain-language answer with its caveats.
* :func:`catalog_groups`, :func:`group_table` and :func:`group_findings` — the catalog by era and kind (2008-2012
  takedowns, 2013-2021 takedowns, 2022-2026 disruptions, pauses, surges), which events have a simulated or a real
  series, and what the real fits of each group support and cannot.

Every function takes the keywords of :func:`spamits.its.fit` (``family``, ``effect``, ``seasonality``,
``errors``, ``alpha``, ``offset``, ``control``, ...).  Result objects are frozen dataclasses; their tables say
SIMULATED (``columns.name``) when the series is simulated.  No plotting here (see ``spamits.plots``).
"""


from spamits._labels import SIMULATED
from spamits.robust._common import (
    BATCH_ERRORS,
    EFFECT_COLUMNS,
    HORIZON,
    batched_kwargs,
    default_min_periods,
)
from spamits.robust.across import (
    REAL,
    REAL_SUFFIX,
    TAKEDOWN_COLUMNS,
    cross_takedown_summary,
    data_label,
    fit_events,
    takedown_table,
)
from spamits.robust.breaks import BreakResult, break_scan, describe_break
from spamits.robust.groups import (
    GROUPS,
    NO_SIMULATION,
    GroupReading,
    catalog_groups,
    group_findings,
    group_of,
    group_readings,
    group_table,
)
from spamits.robust.placebo import PlaceboResult, describe_placebo, placebo_in_time
from spamits.robust.serialize import to_dict
from spamits.robust.sweeps import date_sweep, describe_sweep, window_sweep

__all__ = [
    "BATCH_ERRORS", "EFFECT_COLUMNS", "GROUPS", "HORIZON", "NO_SIMULATION", "REAL", "REAL_SUFFIX", "SIMULATED",
    "TAKEDOWN_COLUMNS", "BreakResult", "GroupReading", "PlaceboResult", "batched_kwargs", "break_scan",
    "catalog_groups",
    "cross_takedown_summary", "data_label", "date_sweep", "default_min_periods", "describe_break",
    "describe_placebo", "describe_sweep", "fit_events", "group_findings", "group_of", "group_readings", "group_table",
    "placebo_in_time", "takedown_table", "to_dict", "window_sweep",
]

"""The simulation study of the ITS estimators on SIMULATED series of known truth: one entry point,
:func:`simulation_study`.

* :mod:`~spamits.validation.study`: the design cells (decay, lasting and overlapping effects over AR(1)
  coefficients, drops and half-lives) fitted with ``(family, errors)`` pairs; :class:`StudyResult`.
* :mod:`~spamits.validation.measures`: the design cells' tables (per cell, per method, the errors model closest
  to nominal, the Monte Carlo interval of a median) and summary.
* :mod:`~spamits.validation.stress`: ``simulation_study(cases=[...], methods=[...])``, the stress cases of
  issue 13 (bursts, wandering level, AR(2) noise, an unmodelled earlier event, low counts, a changing weekly
  pattern, hourly counts) with the methods of :mod:`~spamits.validation.stress_methods` side by side;
  :class:`StressResult`.
"""

from __future__ import annotations

from spamits._labels import SIMULATED
from spamits.validation.measures import (
    BASE_SCENARIO,
    CELL_KEYS,
    HALF_LIFE_TOLERANCE,
    METHOD_KEYS,
    TABLE_COLUMNS,
    aggregate,
    by_method,
    median_interval,
    recommended_errors,
)
from spamits.validation.stress import METHODS as STRESS_METHODS
from spamits.validation.stress import TARGET, StressResult
from spamits.validation.study import (
    DEFAULT_METHODS,
    OVERLAP,
    OVERLAP_GAP,
    RUN_COLUMNS,
    Cell,
    StudyResult,
    simulation_study,
)

__all__ = ["BASE_SCENARIO", "CELL_KEYS", "DEFAULT_METHODS", "HALF_LIFE_TOLERANCE", "METHOD_KEYS", "OVERLAP",
           "OVERLAP_GAP", "RUN_COLUMNS", "SIMULATED", "STRESS_METHODS", "TABLE_COLUMNS", "TARGET", "Cell",
           "StressResult", "StudyResult", "aggregate", "by_method", "median_interval", "recommended_errors",
           "simulation_study"]

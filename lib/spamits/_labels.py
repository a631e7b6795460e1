"""The SIMULATED / REAL marks every table, figure and finding carries, in one place.

A result table says its data are simulated by naming its column axis ``SIMULATED`` (``table.columns.name``):
pandas keeps that name through the selections and copies the notebooks make, and the table formatters of
:mod:`spamits._display` move it into the caption. :func:`mark_simulated` sets the mark and :func:`is_simulated`
reads it; nothing else compares ``columns.name`` with the text.
"""

from __future__ import annotations

import pandas as pd

SIMULATED = "SIMULATED"
REAL = "REAL"

__all__ = ["REAL", "SIMULATED", "is_simulated", "mark_simulated"]


def mark_simulated(table: pd.DataFrame, simulated: bool = True) -> pd.DataFrame:
    """Mark ``table`` (in place, and return it) as holding SIMULATED numbers when ``simulated`` is true."""
    if simulated:
        table.columns.name = SIMULATED
    return table


def is_simulated(table: pd.DataFrame) -> bool:
    """Whether ``table`` carries the SIMULATED mark of :func:`mark_simulated`."""
    return table.columns.name == SIMULATED

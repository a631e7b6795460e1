"""Cells and CSV files shared by the series and vendor readers: missing-value tokens, row locations, hashes.

Private to :mod:`spamits.data`; raw files are only read, never modified.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pandas as pd

from spamits.errors import DataValidationError

__all__ = ["CSV_HINT", "DATE_COLUMN", "drop_trailing_blank_rows", "file_sha256", "is_missing", "iso_date",
           "read_csv", "row_location"]

DATE_COLUMN = "date"
CSV_HINT = "a header line 'date,count' then one row per period, dates as YYYY-MM-DD (or YYYY-MM for monthly)"
_MISSING_TOKENS = {"", "nan", "na", "n/a", "<na>", "nat", "null", "none"}


def read_csv(path: Path) -> pd.DataFrame:
    """Read every cell as text (messages quote it); blank lines stay rows so line numbers stay right."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False)
    except pd.errors.EmptyDataError:
        raise DataValidationError(f"{path}: the file is empty. It needs {CSV_HINT}.") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataValidationError(f"{path}: not a readable CSV file ({exc}). It needs {CSV_HINT}.") from exc
    except OSError as exc:  # e.g. permission denied
        raise DataValidationError(f"{path}: cannot be read ({exc.strerror or exc}); make the file readable.") from exc


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 digest of a file's bytes (for provenance in ``attrs`` and reports)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def row_location(path: str, i: int) -> str:
    """Location of 0-based frame row ``i``: data row ``i + 1``, line ``i + 2`` (line 1 is the header)."""
    return f"{path}: row {i + 1} (line {i + 2})"



def drop_trailing_blank_rows(frame: pd.DataFrame) -> pd.DataFrame:
    blank = frame.apply(lambda col: col.map(is_missing)).all(axis=1).to_numpy()
    keep = len(blank)
    while keep > 0 and blank[keep - 1]:
        keep -= 1
    return frame.iloc[:keep]


def is_missing(value: object) -> bool:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return True
    return str(value).strip().lower() in _MISSING_TOKENS



def iso_date(ts: pd.Timestamp) -> str:
    return ts.date().isoformat() if ts == ts.normalize() else ts.isoformat()


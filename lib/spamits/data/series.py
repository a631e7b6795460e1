"""Spam-count series: :func:`load` (a scenario name or a ``date,count`` CSV), :func:`validate`, :func:`describe`.

A loaded series is a float Series named ``count`` on a regular ``DatetimeIndex`` (``freq`` set: ``"D"``,
``"W-<DAY>"``, ``"MS"`` or ``"ME"``); missing periods are NaN and reported (:class:`DataGapWarning`), never
filled.  Every failure is a :class:`DataValidationError` naming the file, the 1-based data row, its line in the
file (row + 1, the header being line 1), the problem and how to fix it.  Raw files are only read.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from spamits import paths
from spamits._display import DisplayTable
from spamits.data._text import (
    CSV_HINT,
    DATE_COLUMN,
    drop_trailing_blank_rows,
    file_sha256,
    is_missing,
    iso_date,
    read_csv,
    row_location,
)
from spamits.data.frequency import check_series, gap_ranges, regular_index, warn_gaps
from spamits.data.simulation import SCENARIOS, simulate
from spamits.data.stress import STRESS_CASES
from spamits.errors import DataValidationError, ModelSpecError

__all__ = ["DERIVED_SOURCES", "describe", "load", "validate"]

logger = logging.getLogger(__name__)


def load(source: str | os.PathLike, *, seed: int = 0, value_column: str = "count") -> pd.Series:
    """Load a spam-count series from a simulated scenario name or a tidy CSV file.

    ``source``: a key of :data:`SCENARIOS` or of ``spamits.data.stress.STRESS_CASES`` (then
    ``simulate(source, seed)["observed"]``, marked simulated), or the path of a CSV with columns ``date`` and
    ``value_column`` (extra columns are ignored; hourly dates as UTC timestamps on the hour, e.g.
    ``2008-11-11T21:00:00Z`` as ``spamits data count --freq hour`` writes them).  Relative paths
    are tried against the working directory, then under ``paths.data_dir()/"derived"`` (``.csv`` may be left
    off there).  A scenario name wins over a file of the same name.  ``"untroubled"`` names the real series
    ``data/derived/untroubled_daily.csv`` made by ``spamits data fetch`` and ``spamits data count``.

    Returns a float Series named ``"count"`` (messages per period, or a positive rate) indexed by ``date`` on
    a regular index with ``freq`` set (``"h"`` for hourly files); missing periods are NaN.  ``attrs``:
    ``source`` (the file path; for a scenario, the simulator's description), ``simulated`` (bool), ``sha256``
    (of the file; None when simulated), ``gaps`` (list of ``(start, end)`` ISO dates of missing periods) and ``freq``.
    """
    if isinstance(source, str) and (source in SCENARIOS or source in STRESS_CASES):
        return _load_scenario(source, seed)
    if not isinstance(source, str | os.PathLike):
        hint = (" To check a series or table already in memory, use spamits.data.validate(frame, path=...)."
                if isinstance(source, pd.Series | pd.DataFrame) else "")
        shown = type(source).__name__ if hint else f"{type(source).__name__} {_short(source)}"
        raise ModelSpecError(
            f"source: expected a scenario name ({', '.join(sorted(SCENARIOS))}) or the path of a date,count CSV "
            f"file, got {shown}.{hint}")
    path = _resolve(source)
    series = _validate(read_csv(path), str(path), value_column, stacklevel=5)
    series.attrs.update({"source": str(path), "simulated": False, "sha256": file_sha256(path)})
    logger.info("loaded %s: %d %s rows", path, len(series), series.attrs["freq"])
    return series


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _load_scenario(scenario: str, seed: int) -> pd.Series:
    frame = simulate(scenario, seed)
    series = frame["observed"].astype(float).rename("count")
    series.attrs = {**frame.attrs, **series.attrs}
    if series.index.freq is None:
        series = series.asfreq(pd.infer_freq(series.index))
    series.index = series.index.rename(DATE_COLUMN)
    missing = series.index[series.isna().to_numpy()]
    defaults = {"source": scenario, "simulated": True, "scenario": scenario, "seed": seed, "sha256": None}
    for key, value in defaults.items():
        series.attrs.setdefault(key, value)
    series.attrs["gaps"] = gap_ranges(series.index, missing)
    series.attrs["freq"] = series.index.freqstr
    return series


DERIVED_SOURCES = {"untroubled": "untroubled_daily.csv"}
"""Named real series derived by ``spamits data count`` into ``data/derived/`` (not shipped)."""


def _resolve(source: str | os.PathLike) -> Path:
    if isinstance(source, str) and source in DERIVED_SOURCES:
        path = paths.data_dir() / "derived" / DERIVED_SOURCES[source]
        if not path.is_file():
            raise DataValidationError(
                f"{source!r}: {path} does not exist; it is derived from the spam-trap archive, not shipped. Create "
                f"it with: spamits data fetch untroubled --from 2008-08 --to 2009-03 (any months), then spamits "
                f"data count {paths.data_dir() / 'raw' / 'untroubled'} (writes {path}).")
        return path.resolve()
    given = Path(source).expanduser()
    candidates = [given if given.is_absolute() else Path.cwd() / given]
    if not given.is_absolute():
        derived = paths.data_dir() / "derived"
        candidates.append(derived / given)
        if not given.suffix:
            candidates.append(derived / given.with_suffix(".csv"))
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    tried = ", ".join(str(c) for c in candidates)
    raise DataValidationError(
        f"{os.fspath(source)!r} is neither a simulated scenario ({', '.join(sorted(SCENARIOS))}) nor a CSV "
        f"file (looked for {tried}). Give an existing file path or one of the scenario names."
    )



def validate(frame: pd.DataFrame, *, path: str | os.PathLike, value_column: str = "count") -> pd.Series:
    """Check a ``date,count`` table and return it as a regular series (see :func:`load` for the result).

    ``frame`` holds the file's rows in file order (row ``i`` of the frame is data row ``i + 1``, line
    ``i + 2``); cells may be text or already typed.  ``path`` is only used in messages.  Raises
    :class:`DataValidationError` on a missing column, an empty table, an empty or unparseable date, a
    duplicate date, unsorted rows, an empty, non-numeric, infinite or negative count, or mixed or unknown
    frequencies.  Time-zone-aware dates are converted to UTC and made naive.  Missing periods (gaps) are not
    errors: they become NaN, are listed in ``attrs["gaps"]`` and reported by a :class:`DataGapWarning`.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataValidationError(
            f"frame: expected a DataFrame with columns '{DATE_COLUMN}' and {value_column!r} (one row per period), "
            f"got {type(frame).__name__}; for a Series use series.rename({value_column!r}).rename_axis("
            f"'{DATE_COLUMN}').reset_index().")
    return _validate(frame, os.fspath(path), value_column, stacklevel=5)


def _validate(frame: pd.DataFrame, path: str, value_column: str, stacklevel: int) -> pd.Series:
    frame = frame.rename(columns=lambda c: str(c).strip())
    _check_columns(frame, path, value_column)
    frame = drop_trailing_blank_rows(frame)
    if len(frame) == 0:
        raise DataValidationError(f"{path}: empty file: a header but no data rows. It needs {CSV_HINT}.")
    dates = _parse_dates(frame[DATE_COLUMN], path)
    counts = _parse_counts(frame[value_column], path, value_column)
    _check_duplicates(dates, path)
    _check_sorted(dates, path)
    freq, full = regular_index(dates, path)
    series = pd.Series(counts, index=dates, name="count").reindex(full)
    series.index.name = DATE_COLUMN
    missing = full.difference(dates)
    gaps = gap_ranges(full, missing)
    if gaps:
        warn_gaps(path, freq, full, missing, gaps, stacklevel)
    series.attrs = {"source": path, "simulated": False, "gaps": gaps, "freq": freq}
    return series



def _check_columns(frame: pd.DataFrame, path: str, value_column: str) -> None:
    if frame.shape[1] == 0:
        raise DataValidationError(f"{path}: the file is empty. It needs {CSV_HINT}.")
    found = list(frame.columns)
    missing = [c for c in (DATE_COLUMN, value_column) if c not in found]
    if missing:
        hint = "; or pass value_column= naming the count column" if value_column not in found else ""
        raise DataValidationError(
            f"{path}: missing column(s) {missing}; found columns {found}. Rename the header to "
            f"'{DATE_COLUMN},{value_column}' (line 1){hint}."
        )



def _parse_dates(raw: pd.Series, path: str) -> pd.DatetimeIndex:
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed = pd.to_datetime(raw, utc=True)
        text = raw.astype(str)
    else:
        text = raw.map(lambda v: "" if is_missing(v) else str(v).strip())
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if len(bad):
        i = int(bad[0])
        value = text.iloc[i]
        problem = "empty date (a blank line or a missing value)" if is_missing(value) else (
            f"unparseable date {value!r}")
        raise DataValidationError(
            f"{row_location(path, i)}: {problem}. Write dates in ISO 8601 form, YYYY-MM-DD (YYYY-MM for monthly "
            f"data), and remove blank lines."
        )
    return pd.DatetimeIndex(parsed.dt.tz_convert(None), name=DATE_COLUMN)


def _parse_counts(raw: pd.Series, path: str, column: str) -> np.ndarray:
    text = raw.map(lambda v: "" if is_missing(v) else str(v).strip())
    empty = text.eq("").to_numpy()
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise DataValidationError(
            f"{row_location(path, i)}: empty {column!r} (missing count). Enter the count, or delete the whole row: "
            f"a missing period is then reported as a gap and kept as NaN."
        )
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    _first_bad(np.isnan(values), text, path, f"non-numeric {column!r}",
               "Counts must be plain numbers, e.g. 1234 or 12.5, without thousands separators or units.")
    _first_bad(~np.isfinite(values), text, path, f"infinite {column!r}", "Counts must be finite numbers.")
    _first_bad(values < 0, text, path, f"negative {column!r}", "Counts and rates must be >= 0; fix or delete "
               "the row.")
    return values


def _first_bad(mask: np.ndarray, text: pd.Series, path: str, problem: str, fix: str) -> None:
    if mask.any():
        i = int(np.flatnonzero(mask)[0])
        raise DataValidationError(f"{row_location(path, i)}: {problem} value {text.iloc[i]!r}. {fix}")


def _check_duplicates(dates: pd.DatetimeIndex, path: str) -> None:
    repeated = np.flatnonzero(dates.duplicated(keep="first"))
    if len(repeated):
        j = int(repeated[0])
        i = int(np.flatnonzero(dates == dates[j])[0])
        raise DataValidationError(
            f"{path}: rows {i + 1} and {j + 1} (lines {i + 2} and {j + 2}) have the same duplicate date "
            f"{iso_date(dates[j])}. Keep one row per period (add the counts up or delete the extra row)."
        )


def _check_sorted(dates: pd.DatetimeIndex, path: str) -> None:
    steps = np.diff(dates.asi8)
    backwards = np.flatnonzero(steps < 0)
    if len(backwards):
        i = int(backwards[0]) + 1
        raise DataValidationError(
            f"{row_location(path, i)}: unsorted rows: date {iso_date(dates[i])} comes before the previous row's "
            f"{iso_date(dates[i - 1])}. Sort the rows by date, oldest first."
        )



def _when(stamp: pd.Timestamp) -> str:
    """A period's start: its date, with the hour (UTC) when it is not a midnight (hourly series)."""
    return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.strftime("%Y-%m-%d %H:%M UTC")


def describe(y: pd.Series) -> DisplayTable:
    """A (field, value) table saying what a series is: SIMULATED or real, source, span, gaps; shown in full."""
    check_series(y, "y", regular=False)
    sim = bool(y.attrs.get("simulated", False))
    gaps = int(y.isna().sum())
    rows = [
        ("data", "SIMULATED (generated by spamits.data.simulate with a seed)" if sim else "real (read from file)"),
        ("title", y.attrs.get("title", "")),
        ("source", y.attrs.get("source", "")),
        ("unit", y.attrs.get("unit", "count per period")),
        ("first period", _when(y.index[0])),
        ("last period", _when(y.index[-1])),
        ("periods", str(len(y))),
        ("missing periods (not filled)", str(gaps)),
        ("mean per period", f"{float(y.mean()):.1f}"),
    ]
    if y.attrs.get("sha256"):
        rows.append(("sha256", y.attrs["sha256"]))
    caption = "SIMULATED series" if sim else "Real series"
    return DisplayTable(pd.DataFrame(rows, columns=["field", "value"]).set_index("field"), caption=caption)


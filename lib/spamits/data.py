"""Spam-count series and vendor figures: loading and validation (no fitting, no plotting).

* :func:`load` reads a tidy CSV (``date,count``; one row per day, week or month) or a simulated scenario name
  into a float Series on a regular :class:`~pandas.DatetimeIndex` with ``freq`` set (``"D"``, ``"W-<DAY>"``,
  ``"MS"`` or ``"ME"``).  Missing periods become NaN and are reported (:class:`DataGapWarning`), never filled.
* :func:`validate` does the checks on an already-read table; every failure is a :class:`DataValidationError`
  naming the file, the 1-based data row, its line in the file (row + 1, the header being line 1), the problem
  and how to fix it.
* :func:`vendor_figures` and :func:`vendor_series` read ``data/vendor_figures.csv`` (figures published by
  security vendors).  A series is always one vendor and one metric: vendors and metrics are never mixed.
* :func:`simulate` and :data:`SCENARIOS` are re-exported from :mod:`spamits._simulate`.

Raw files are only read, never modified.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from spamits import paths
from spamits._display import DisplayTable
from spamits._simulate import SCENARIOS, simulate
from spamits.errors import DataGapWarning, DataValidationError, ModelSpecError, warn

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

logger = logging.getLogger(__name__)

DATE_COLUMN = "date"
VENDOR_COLUMNS = ("vendor", "metric", "period", "value", "unit", "source_url", "note", "conflict")
MIXED_RUN = 3  # consecutive steps at another cadence (e.g. monthly rows in daily data) = mixed frequencies
_MAX_GAPS_SHOWN = 5
_MISSING_TOKENS = {"", "nan", "na", "n/a", "<na>", "nat", "null", "none"}
_FALSE_TOKENS = {"", "false", "0", "no", "n", "f"}
_TRUE_TOKENS = {"true", "1", "yes", "y", "t"}
_UNIT_NAMES = {"D": "day", "W": "week", "M": "month"}
_CSV_HINT = "a header line 'date,count' then one row per period, dates as YYYY-MM-DD (or YYYY-MM for monthly)"

ConflictPolicy = Literal["raise", "keep-first", "keep-last", "drop"]
CONFLICT_POLICIES: tuple[str, ...] = ("raise", "keep-first", "keep-last", "drop")


# --------------------------------------------------------------------------------------------------- load


def load(source: str | os.PathLike, *, seed: int = 0, value_column: str = "count") -> pd.Series:
    """Load a spam-count series from a simulated scenario name or a tidy CSV file.

    ``source``: a key of :data:`SCENARIOS` (then ``simulate(source, seed)["observed"]``, marked simulated), or
    the path of a CSV with columns ``date`` and ``value_column`` (extra columns are ignored).  Relative paths
    are tried against the working directory, then under ``paths.data_dir()/"derived"`` (``.csv`` may be left
    off there).  A scenario name wins over a file of the same name.  ``"untroubled"`` names the real series
    ``data/derived/untroubled_daily.csv`` made by ``spamits data fetch`` and ``spamits data count``.

    Returns a float Series named ``"count"`` (messages per period, or a positive rate) indexed by ``date`` on
    a regular index with ``freq`` set; missing periods are NaN.  ``attrs``: ``source`` (the file path; for a
    scenario, the simulator's description), ``simulated`` (bool), ``sha256`` (of the file; None when
    simulated), ``gaps`` (list of ``(start, end)`` ISO dates of missing periods) and ``freq``.
    """
    if isinstance(source, str) and source in SCENARIOS:
        return _load_scenario(source, seed)
    path = _resolve(source)
    series = _validate(_read_csv(path), str(path), value_column, stacklevel=5)
    series.attrs.update({"source": str(path), "simulated": False, "sha256": file_sha256(path)})
    logger.info("loaded %s: %d %s rows", path, len(series), series.attrs["freq"])
    return series


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
    series.attrs["gaps"] = _gap_ranges(series.index, missing)
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


def _read_csv(path: Path) -> pd.DataFrame:
    """Read every cell as text (messages quote it); blank lines stay rows so line numbers stay right."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False)
    except pd.errors.EmptyDataError:
        raise DataValidationError(f"{path}: the file is empty. It needs {_CSV_HINT}.") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataValidationError(f"{path}: not a readable CSV file ({exc}). It needs {_CSV_HINT}.") from exc


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 digest of a file's bytes (for provenance in ``attrs`` and reports)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------- validate


def validate(frame: pd.DataFrame, *, path: str | os.PathLike, value_column: str = "count") -> pd.Series:
    """Check a ``date,count`` table and return it as a regular series (see :func:`load` for the result).

    ``frame`` holds the file's rows in file order (row ``i`` of the frame is data row ``i + 1``, line
    ``i + 2``); cells may be text or already typed.  ``path`` is only used in messages.  Raises
    :class:`DataValidationError` on a missing column, an empty table, an empty or unparseable date, a
    duplicate date, unsorted rows, an empty, non-numeric, infinite or negative count, or mixed or unknown
    frequencies.  Time-zone-aware dates are converted to UTC and made naive.  Missing periods (gaps) are not
    errors: they become NaN, are listed in ``attrs["gaps"]`` and reported by a :class:`DataGapWarning`.
    """
    return _validate(frame, os.fspath(path), value_column, stacklevel=5)


def _validate(frame: pd.DataFrame, path: str, value_column: str, stacklevel: int) -> pd.Series:
    frame = frame.rename(columns=lambda c: str(c).strip())
    _check_columns(frame, path, value_column)
    frame = _drop_trailing_blank_rows(frame)
    if len(frame) == 0:
        raise DataValidationError(f"{path}: empty file: a header but no data rows. It needs {_CSV_HINT}.")
    dates = _parse_dates(frame[DATE_COLUMN], path)
    counts = _parse_counts(frame[value_column], path, value_column)
    _check_duplicates(dates, path)
    _check_sorted(dates, path)
    freq, full = _regular_index(dates, path)
    series = pd.Series(counts, index=dates, name="count").reindex(full)
    series.index.name = DATE_COLUMN
    missing = full.difference(dates)
    gaps = _gap_ranges(full, missing)
    if gaps:
        _warn_gaps(path, freq, full, missing, gaps, stacklevel)
    series.attrs = {"source": path, "simulated": False, "gaps": gaps, "freq": freq}
    return series


def _where(path: str, i: int) -> str:
    """Location of 0-based frame row ``i``: data row ``i + 1``, line ``i + 2`` (line 1 is the header)."""
    return f"{path}: row {i + 1} (line {i + 2})"


def _check_columns(frame: pd.DataFrame, path: str, value_column: str) -> None:
    if frame.shape[1] == 0:
        raise DataValidationError(f"{path}: the file is empty. It needs {_CSV_HINT}.")
    found = list(frame.columns)
    missing = [c for c in (DATE_COLUMN, value_column) if c not in found]
    if missing:
        hint = "; or pass value_column= naming the count column" if value_column not in found else ""
        raise DataValidationError(
            f"{path}: missing column(s) {missing}; found columns {found}. Rename the header to "
            f"'{DATE_COLUMN},{value_column}' (line 1){hint}."
        )


def _drop_trailing_blank_rows(frame: pd.DataFrame) -> pd.DataFrame:
    blank = frame.apply(lambda col: col.map(_is_missing)).all(axis=1).to_numpy()
    keep = len(blank)
    while keep > 0 and blank[keep - 1]:
        keep -= 1
    return frame.iloc[:keep]


def _is_missing(value: object) -> bool:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return True
    return str(value).strip().lower() in _MISSING_TOKENS


def _parse_dates(raw: pd.Series, path: str) -> pd.DatetimeIndex:
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed = pd.to_datetime(raw, utc=True)
        text = raw.astype(str)
    else:
        text = raw.map(lambda v: "" if _is_missing(v) else str(v).strip())
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if len(bad):
        i = int(bad[0])
        value = text.iloc[i]
        problem = "empty date (a blank line or a missing value)" if _is_missing(value) else (
            f"unparseable date {value!r}")
        raise DataValidationError(
            f"{_where(path, i)}: {problem}. Write dates in ISO 8601 form, YYYY-MM-DD (YYYY-MM for monthly "
            f"data), and remove blank lines."
        )
    return pd.DatetimeIndex(parsed.dt.tz_convert(None), name=DATE_COLUMN)


def _parse_counts(raw: pd.Series, path: str, column: str) -> np.ndarray:
    text = raw.map(lambda v: "" if _is_missing(v) else str(v).strip())
    empty = text.eq("").to_numpy()
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise DataValidationError(
            f"{_where(path, i)}: empty {column!r} (missing count). Enter the count, or delete the whole row: "
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
        raise DataValidationError(f"{_where(path, i)}: {problem} value {text.iloc[i]!r}. {fix}")


def _check_duplicates(dates: pd.DatetimeIndex, path: str) -> None:
    repeated = np.flatnonzero(dates.duplicated(keep="first"))
    if len(repeated):
        j = int(repeated[0])
        i = int(np.flatnonzero(dates == dates[j])[0])
        raise DataValidationError(
            f"{path}: rows {i + 1} and {j + 1} (lines {i + 2} and {j + 2}) have the same duplicate date "
            f"{_iso(dates[j])}. Keep one row per period (add the counts up or delete the extra row)."
        )


def _check_sorted(dates: pd.DatetimeIndex, path: str) -> None:
    steps = np.diff(dates.asi8)
    backwards = np.flatnonzero(steps < 0)
    if len(backwards):
        i = int(backwards[0]) + 1
        raise DataValidationError(
            f"{_where(path, i)}: unsorted rows: date {_iso(dates[i])} comes before the previous row's "
            f"{_iso(dates[i - 1])}. Sort the rows by date, oldest first."
        )


# ------------------------------------------------------------------------------------------- frequency


def _regular_index(dates: pd.DatetimeIndex, path: str) -> tuple[str, pd.DatetimeIndex]:
    """Infer the base frequency, check every row lies on its grid, and return (freq, full regular index)."""
    if len(dates) < 2:
        raise DataValidationError(
            f"{_where(path, 0)}: only one data row; at least two are needed to tell daily, weekly and "
            f"monthly data apart. Add the neighbouring periods."
        )
    kind = _base_kind(dates, path)
    freq = _freq_string(kind, dates)
    full = pd.date_range(dates[0], dates[-1], freq=freq, name=DATE_COLUMN)
    off_grid = np.flatnonzero(~dates.isin(full))
    if len(off_grid):
        i = int(off_grid[0])
        raise DataValidationError(
            f"{_where(path, i)}: mixed frequencies: date {_iso(dates[i])} is not on the {_grid_name(freq)} "
            f"grid that the other rows follow (spacing from the previous row: {_spacing(dates, i)}). One "
            f"file must hold one frequency: split the file or aggregate the rows to one frequency."
        )
    _check_cadence_switch(dates, full, kind, path)
    return freq, full


def _step_kind(a: pd.Timestamp, b: pd.Timestamp) -> str | None:
    """'D', 'W' or 'M' when b is exactly one day, one week or one calendar month (aligned) after a."""
    delta = b - a
    if delta == pd.Timedelta(days=1):
        return "D"
    if delta == pd.Timedelta(days=7):
        return "W"
    if _month_anchor(a) is not None and _month_anchor(a) == _month_anchor(b) and _months_between(a, b) == 1:
        return "M"
    return None


def _base_kind(dates: pd.DatetimeIndex, path: str) -> str:
    kinds = [_step_kind(a, b) for a, b in zip(dates[:-1], dates[1:], strict=True)]
    counts = {k: kinds.count(k) for k in "DWM"}
    best = max(counts.values())
    if best == 0:
        smallest = pd.Timedelta(np.diff(dates.asi8).min(), unit=dates.unit)
        raise DataValidationError(
            f"{path}: cannot infer the frequency: no two consecutive rows are one day, one week or one "
            f"calendar month apart (smallest spacing {_duration(smallest)}). spamits reads daily, weekly or "
            f"monthly series (monthly dates on the first or the last day of the month)."
        )
    return next(k for k in "DWM" if counts[k] == best)  # ties go to the finest frequency


def _freq_string(kind: str, dates: pd.DatetimeIndex) -> str:
    if kind == "D":
        return "D"
    if kind == "W":
        return "W-" + dates[0].day_name()[:3].upper()
    anchors = [_month_anchor(d) for d in dates]
    return max(("MS", "ME"), key=anchors.count)


def _month_anchor(ts: pd.Timestamp) -> str | None:
    if ts != ts.normalize():
        return None
    if ts.is_month_start:
        return "MS"
    return "ME" if ts.is_month_end else None


def _months_between(a: pd.Timestamp, b: pd.Timestamp) -> int:
    return (b.year - a.year) * 12 + (b.month - a.month)


def _check_cadence_switch(dates: pd.DatetimeIndex, full: pd.DatetimeIndex, kind: str, path: str) -> None:
    """Reject a file that switches to a coarser cadence (e.g. daily rows, then monthly rows).

    A gap is one long step between regular rows; :data:`MIXED_RUN` or more consecutive steps of the same
    longer spacing (k periods, or one calendar month inside daily data) mean the sampling changed.
    """
    pos = full.get_indexer(dates)
    run_start, run_len, previous = 0, 0, None
    for j in range(1, len(dates)):
        k = int(pos[j] - pos[j - 1])
        signature: int | str | None = None if k == 1 else k
        if k > 1 and kind == "D" and _step_kind(dates[j - 1], dates[j]) == "M":
            signature = "month"
        if signature is not None and signature == previous:
            run_len += 1
        else:
            run_start, run_len = j, int(signature is not None)
        previous = signature
        if run_len >= MIXED_RUN:
            raise DataValidationError(
                f"{_where(path, run_start)}: mixed frequencies: from date {_iso(dates[run_start])} the "
                f"rows are {_spacing(dates, run_start)} apart, while the file's base frequency is "
                f"{_grid_name(full.freqstr)}. One file must hold one frequency: split the file or aggregate "
                f"the rows to one frequency."
            )


def _grid_name(freq: str) -> str:
    if freq == "D":
        return "daily"
    if freq.startswith("W-"):
        return f"weekly ({freq})"
    return "monthly (first day of each month)" if freq == "MS" else "monthly (last day of each month)"


def _spacing(dates: pd.DatetimeIndex, i: int) -> str:
    if i == 0:
        return "none, first row"
    a, b = dates[i - 1], dates[i]
    if _month_anchor(a) and _month_anchor(a) == _month_anchor(b):
        months = _months_between(a, b)
        return f"{months} calendar month{'s' if months != 1 else ''}"
    return _duration(b - a)


def _duration(delta: pd.Timedelta) -> str:
    if delta != delta.floor("D"):
        return str(delta)
    return f"{delta.days} day{'s' if delta.days != 1 else ''}"


# ------------------------------------------------------------------------------------------------ gaps


def _gap_ranges(full: pd.DatetimeIndex, missing: pd.DatetimeIndex) -> list[tuple[str, str]]:
    """Runs of consecutive missing periods of ``full`` as ``(first, last)`` ISO dates."""
    if len(missing) == 0:
        return []
    pos = full.get_indexer(missing)
    breaks = np.flatnonzero(np.diff(pos) != 1)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [len(pos) - 1]])
    return [(_iso(missing[s]), _iso(missing[e])) for s, e in zip(starts, ends, strict=True)]


def _warn_gaps(
    path: str, freq: str, full: pd.DatetimeIndex, missing: pd.DatetimeIndex, gaps: list, stacklevel: int
) -> None:
    unit = _UNIT_NAMES["W" if freq.startswith("W") else freq[0]]
    shown = ", ".join(a if a == b else f"{a} to {b}" for a, b in gaps[:_MAX_GAPS_SHOWN])
    more = f" and {len(gaps) - _MAX_GAPS_SHOWN} more" if len(gaps) > _MAX_GAPS_SHOWN else ""
    warn(
        f"{path}: {len(missing)} missing {unit}(s) of {len(full)} in {len(gaps)} gap(s): {shown}{more}. "
        f"They are kept as NaN (not filled) and listed in attrs['gaps']; add the rows if the data exist.",
        DataGapWarning,
        stacklevel=stacklevel,
    )


def _iso(ts: pd.Timestamp) -> str:
    return ts.date().isoformat() if ts == ts.normalize() else ts.isoformat()


# --------------------------------------------------------------------------------------- vendor figures


def period_position(index: pd.DatetimeIndex, date: pd.Timestamp) -> int:
    """Position in a regular ``index`` of the period containing ``date`` (or the first one after it)."""
    freq = "M" if index.freqstr in {"MS", "ME", "M"} else index.freqstr
    ends = index.to_period(freq).end_time
    return int(np.searchsorted(ends.values, np.datetime64(pd.Timestamp(date)), side="left"))


def window(y: pd.Series, date: object, *, pre: int, post: int) -> pd.Series:
    """The part of ``y`` from ``pre`` periods before the period containing ``date`` to ``post`` periods from it.

    The event period is the first of the ``post`` periods (inclusive).  Raises :class:`DataValidationError`
    when the series does not reach back ``pre`` periods or forward ``post`` periods (the message gives how
    many it has); missing periods inside the window stay missing.
    """
    if pre < 1 or post < 1:
        raise ModelSpecError(f"window: pre={pre} and post={post} must both be >= 1 periods")
    when = pd.Timestamp(date)
    index = y.index
    pos = period_position(index, when)
    have_pre, have_post = pos, len(index) - pos
    if have_pre < pre or have_post < post:
        raise DataValidationError(
            f"{y.attrs.get('source', 'series')}: the window around {when.date()} needs {pre} periods before and "
            f"{post} from the event; the series has {have_pre} before and {max(have_post, 0)} from it "
            f"({index[0].date()} to {index[-1].date()}); shorten the window")
    out = y.iloc[pos - pre: pos + post].copy()
    out.index.freq = index.freq
    out.attrs = dict(y.attrs)
    return out


def describe(y: pd.Series) -> DisplayTable:
    """A (field, value) table saying what a series is: SIMULATED or real, source, span, gaps; shown in full."""
    sim = bool(y.attrs.get("simulated", False))
    gaps = int(y.isna().sum())
    rows = [
        ("data", "SIMULATED (generated by spamits.data.simulate with a seed)" if sim else "real (read from file)"),
        ("title", y.attrs.get("title", "")),
        ("source", y.attrs.get("source", "")),
        ("unit", y.attrs.get("unit", "count per period")),
        ("first period", y.index[0].date().isoformat()),
        ("last period", y.index[-1].date().isoformat()),
        ("periods", str(len(y))),
        ("missing periods (not filled)", str(gaps)),
        ("mean per period", f"{float(y.mean()):.1f}"),
    ]
    if y.attrs.get("sha256"):
        rows.append(("sha256", y.attrs["sha256"]))
    caption = "SIMULATED series" if sim else "Real series"
    return DisplayTable(pd.DataFrame(rows, columns=["field", "value"]).set_index("field"), caption=caption)


def vendor_figures(
    *, vendor: str | None = None, metric: str | None = None, event: str | None = None, months: int = 6
) -> pd.DataFrame:
    """Figures published by security vendors, from ``data/vendor_figures.csv``, optionally filtered.

    ``vendor``/``metric``: exact names (an unknown name raises :class:`ModelSpecError` listing the valid
    ones).  ``event``: an event id of :mod:`spamits.events`; keeps the monthly (``YYYY-MM``) and dated
    (``YYYY-MM-DD``) rows whose calendar month is within ``months`` months of the event's month (quarterly,
    half-year and annual figures are left out).  Returns the file's columns, with ``value`` as float and
    ``conflict`` as bool, plus ``period_start`` (Timestamp), ``period_kind`` (``day``, ``month``,
    ``quarter``, ``halfyear`` or ``year``) and ``row`` (the 1-based data row in the file), sorted by vendor,
    metric, period and row.  Rows from different vendors or metrics are separate rows; nothing is combined.
    """
    table = _read_vendor_table(paths.data_file("vendor_figures.csv"))
    if vendor is not None:
        _check_choice("vendor", vendor, table["vendor"])
        table = table[table["vendor"] == vendor]
    if metric is not None:
        scope = f" for vendor {vendor!r}" if vendor is not None else ""
        _check_choice("metric", metric, table["metric"], scope)
        table = table[table["metric"] == metric]
    if event is not None:
        table = table[_event_window(table, event, months)]
    return table.reset_index(drop=True)


def vendor_table(event: str, *, months: int = 6) -> DisplayTable:
    """The vendor figures within ``months`` of an event for display (full text, escaped), one row per figure.

    Real published figures, one vendor and metric per row, never combined; conflicting rows are marked.
    """
    table = vendor_figures(event=event, months=months)
    shown = table[["vendor", "metric", "period", "value", "unit", "conflict", "source_url"]]
    caption = (f"Figures published by vendors within {months} months of {event} (real, data/vendor_figures.csv); "
               "different vendors and metrics measure different things")
    return DisplayTable(shown.reset_index(drop=True), caption=caption)


def vendor_series(vendor: str, metric: str, *, conflict: ConflictPolicy = "raise") -> pd.Series:
    """One vendor's monthly figures for one metric as a monthly Series (``freq="MS"``), gaps as NaN.

    Only rows with a ``YYYY-MM`` period are used.  ``conflict`` decides what happens to a month with
    conflicting figures (more than one row, or a row flagged ``conflict``): ``"raise"`` (default) raises
    :class:`DataValidationError` listing them; ``"keep-first"`` / ``"keep-last"`` keep the row that comes
    first / last in the file; ``"drop"`` leaves that month NaN.  Never mixes vendors or metrics; missing
    months are NaN, never filled.  ``attrs``: vendor, metric, unit(s), source URLs, gaps, conflicts and
    how they were resolved.
    """
    if not vendor or not metric:
        raise ModelSpecError(
            "vendor_series needs exactly one vendor and one metric (got vendor="
            f"{vendor!r}, metric={metric!r}); see vendor_figures() for the available pairs."
        )
    if conflict not in CONFLICT_POLICIES:
        raise ModelSpecError(f"conflict must be one of {list(CONFLICT_POLICIES)}, got {conflict!r}.")
    rows = vendor_figures(vendor=vendor, metric=metric)
    monthly = rows[rows["period_kind"] == "month"]
    if monthly.empty:
        raise ModelSpecError(_no_monthly_message(vendor, metric, rows))
    monthly, conflicts = _resolve_conflicts(monthly, conflict, vendor, metric)
    if monthly.empty:
        raise DataValidationError(f"vendor {vendor!r}, metric {metric!r}: every month is in conflict and "
                                  f"conflict='drop' removed them all; choose 'keep-first' or 'keep-last'.")
    starts = pd.DatetimeIndex(monthly["period_start"])
    index = pd.date_range(starts.min(), starts.max(), freq="MS", name="period")
    series = pd.Series(monthly["value"].to_numpy(), index=starts, name=metric).reindex(index)
    series.attrs = {
        "vendor": vendor,
        "metric": metric,
        "unit": monthly["unit"].mode().iloc[0],
        "units": sorted(set(monthly["unit"])),
        "source_urls": list(dict.fromkeys(monthly["source_url"])),
        "source": str(paths.data_file("vendor_figures.csv")),
        "simulated": False,
        "gaps": _gap_ranges(index, index.difference(starts)),
        "conflicts": conflicts,
        "conflict_policy": conflict,
        "freq": "MS",
    }
    return series


def _read_vendor_table(path: Path) -> pd.DataFrame:
    frame = _read_csv(path)
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in VENDOR_COLUMNS if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"{path}: missing column(s) {missing}; found columns {list(frame.columns)}. The header must be "
            f"{','.join(VENDOR_COLUMNS)}."
        )
    frame = _drop_trailing_blank_rows(frame)
    if frame.empty:
        raise DataValidationError(f"{path}: no data rows after the header line.")
    frame = frame.map(lambda v: "" if _is_missing(v) else str(v).strip())
    records = [_parse_vendor_row(row, path, i) for i, row in enumerate(frame.to_dict("records"))]
    table = pd.DataFrame.from_records(records, columns=[*frame.columns, "period_start", "period_kind", "row"])
    table["value"] = table["value"].astype(float)
    table["conflict"] = table["conflict"].astype(bool)
    table["period_start"] = pd.DatetimeIndex(table["period_start"])
    return table.sort_values(["vendor", "metric", "period_start", "period", "row"])


def _parse_vendor_row(row: dict, path: Path, i: int) -> dict:
    where = _where(str(path), i)
    for column in ("vendor", "metric", "period", "value"):
        if not row[column]:
            raise DataValidationError(f"{where}: empty {column!r}. Every figure needs a vendor, metric, "
                                      f"period and value.")
    value = pd.to_numeric(row["value"], errors="coerce")
    if not np.isfinite(value):
        raise DataValidationError(f"{where}: non-numeric value {row['value']!r}. Write the number only; the "
                                  f"unit goes in the 'unit' column.")
    start, kind = _parse_period(row["period"], where)
    return {**row, "value": float(value), "conflict": _parse_flag(row["conflict"], where),
            "period_start": start, "period_kind": kind, "row": i + 1}


_PERIOD_PATTERNS = (
    (re.compile(r"^(\d{4})-(\d{2})$"), "month"),
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"), "day"),
    (re.compile(r"^(\d{4})Q([1-4])$"), "quarter"),
    (re.compile(r"^(\d{4})H([12])$"), "halfyear"),
    (re.compile(r"^(\d{4})$"), "year"),
)


def _parse_period(text: str, where: str) -> tuple[pd.Timestamp, str]:
    """Start of a period written YYYY-MM, YYYY-MM-DD, YYYYQn, YYYYHn or YYYY, and its kind."""
    for pattern, kind in _PERIOD_PATTERNS:
        match = pattern.match(text)
        if not match:
            continue
        parts = [int(p) for p in match.groups()]
        year, month, day = parts[0], 1, 1
        if kind in ("month", "day"):
            month = parts[1]
            day = parts[2] if kind == "day" else 1
        elif kind == "quarter":
            month = 3 * parts[1] - 2
        elif kind == "halfyear":
            month = 6 * parts[1] - 5
        try:
            return pd.Timestamp(year=year, month=month, day=day), kind
        except ValueError:
            break
    raise DataValidationError(
        f"{where}: unrecognised period {text!r}. Use YYYY-MM (a month), YYYY-MM-DD (a day), YYYYQn (a "
        f"quarter), YYYYHn (a half-year) or YYYY (a year)."
    )


def _parse_flag(text: str, where: str) -> bool:
    token = text.lower()
    if token in _FALSE_TOKENS:
        return False
    if token in _TRUE_TOKENS:
        return True
    raise DataValidationError(f"{where}: conflict flag {text!r} is not true or false. Write true or false.")


def _check_choice(name: str, value: str, available: pd.Series, scope: str = "") -> None:
    choices = sorted(set(available))
    if value not in choices:
        raise ModelSpecError(f"unknown {name} {value!r}{scope}; valid values: {choices}.")


def _event_window(table: pd.DataFrame, event: str, months: int) -> pd.Series:
    if isinstance(months, bool) or not isinstance(months, int | np.integer) or months < 0:
        raise ModelSpecError(f"months must be a whole number >= 0 (months either side of the event), got "
                             f"{months!r}.")
    from spamits import events  # imported lazily: loading series never needs the events catalog

    date = pd.Timestamp(events.get(event).date)
    starts = pd.DatetimeIndex(table["period_start"])
    offset = (starts.year - date.year) * 12 + (starts.month - date.month)
    dated = table["period_kind"].isin(["month", "day"]).to_numpy()
    return pd.Series(dated & (np.abs(offset) <= months), index=table.index)


def _no_monthly_message(vendor: str, metric: str, rows: pd.DataFrame) -> str:
    table = vendor_figures(vendor=vendor)
    monthly = sorted(set(table.loc[table["period_kind"] == "month", "metric"]))
    return (
        f"metric {metric!r} of vendor {vendor!r} has no monthly (YYYY-MM) rows (its periods: "
        f"{sorted(set(rows['period']))}); monthly metrics of this vendor: {monthly}. Use vendor_figures() "
        f"for non-monthly figures."
    )


def _resolve_conflicts(
    monthly: pd.DataFrame, policy: str, vendor: str, metric: str
) -> tuple[pd.DataFrame, list[dict]]:
    counts = monthly.groupby("period")["period"].transform("size")
    clash = (counts > 1) | monthly["conflict"]
    conflicts = [
        {"period": period, "rows": group["row"].tolist(), "values": group["value"].tolist(),
         "source_urls": group["source_url"].tolist()}
        for period, group in monthly[clash].groupby("period", sort=True)
    ]
    if not conflicts:
        return monthly, []
    if policy == "raise":
        listed = "; ".join(f"{c['period']}: values {c['values']} in rows {c['rows']}" for c in conflicts)
        raise DataValidationError(
            f"vendor {vendor!r}, metric {metric!r}: conflicting figures for {len(conflicts)} month(s) "
            f"({listed}). Read the rows' notes in vendor_figures.csv, then choose conflict='keep-first', "
            f"'keep-last' or 'drop' (drop leaves those months NaN)."
        )
    if policy == "drop":
        return monthly[~clash], conflicts
    keep = "first" if policy == "keep-first" else "last"
    return monthly[~monthly.duplicated("period", keep=keep)], conflicts

"""Figures published by security vendors (``data/vendor_figures.csv``): read, filter, one vendor's series.

A series is always one vendor and one metric: vendors and metrics are never mixed, conflicting months are
resolved only as the caller asks (``conflict=``).  The file is only read.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from spamits import paths
from spamits._display import DisplayTable
from spamits.data._text import drop_trailing_blank_rows, is_missing, read_csv, row_location
from spamits.data.frequency import gap_ranges
from spamits.errors import DataValidationError, ModelSpecError

__all__ = ["CONFLICT_POLICIES", "VENDOR_COLUMNS", "ConflictPolicy", "vendor_figures", "vendor_series",
           "vendor_table"]

VENDOR_COLUMNS = ("vendor", "metric", "period", "value", "unit", "source_url", "note", "conflict")
_FALSE_TOKENS = {"", "false", "0", "no", "n", "f"}
_TRUE_TOKENS = {"true", "1", "yes", "y", "t"}

ConflictPolicy = Literal["raise", "keep-first", "keep-last", "drop"]
CONFLICT_POLICIES: tuple[str, ...] = ("raise", "keep-first", "keep-last", "drop")


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
    table = _read_vendor_table(paths.data_file("vendor_figures.csv", must_exist=True))
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
        "gaps": gap_ranges(index, index.difference(starts)),
        "conflicts": conflicts,
        "conflict_policy": conflict,
        "freq": "MS",
    }
    return series


def _read_vendor_table(path: Path) -> pd.DataFrame:
    frame = read_csv(path)
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in VENDOR_COLUMNS if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"{path}: missing column(s) {missing}; found columns {list(frame.columns)}. The header must be "
            f"{','.join(VENDOR_COLUMNS)}."
        )
    frame = drop_trailing_blank_rows(frame)
    if frame.empty:
        raise DataValidationError(f"{path}: no data rows after the header line.")
    frame = frame.map(lambda v: "" if is_missing(v) else str(v).strip())
    records = [_parse_vendor_row(row, path, i) for i, row in enumerate(frame.to_dict("records"))]
    table = pd.DataFrame.from_records(records, columns=[*frame.columns, "period_start", "period_kind", "row"])
    table["value"] = table["value"].astype(float)
    table["conflict"] = table["conflict"].astype(bool)
    table["period_start"] = pd.DatetimeIndex(table["period_start"])
    return table.sort_values(["vendor", "metric", "period_start", "period", "row"])


def _parse_vendor_row(row: dict, path: Path, i: int) -> dict:
    where = row_location(str(path), i)
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

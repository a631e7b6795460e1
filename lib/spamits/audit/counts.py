"""Read the ``date,count`` CSV written by ``spamits data count`` and its manifest (checked against each other).

Daily (``YYYY-MM-DD``) or hourly (``YYYY-MM-DDTHH:00:00Z``, UTC) counts, messages per period; months not counted
are missing, never zeros.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from spamits import data, paths
from spamits.errors import DataValidationError

_FORMATS = {"D": (r"\d{4}-\d{2}-\d{2}", "%Y-%m-%d", "YYYY-MM-DD"),
            "h": (r"\d{4}-\d{2}-\d{2}T\d{2}:00:00Z", "%Y-%m-%dT%H:00:00Z", "YYYY-MM-DDTHH:00:00Z (UTC)")}
_UNITS, _MANIFEST_FREQ = {"D": "messages per day", "h": "messages per hour"}, {"day": "D", "hour": "h"}



def counts_file(source: str | os.PathLike) -> Path:
    """The file a counts source names: ``"untroubled"`` (the derived daily file), ``data/...`` (under
    :func:`spamits.paths.data_dir`, which honours ``SPAMITS_DATA_DIR``), else a path (relative to the cwd)."""
    if isinstance(source, str) and source in data.DERIVED_SOURCES:
        return paths.data_dir() / "derived" / data.DERIVED_SOURCES[source]
    path = Path(source).expanduser()
    if not path.is_absolute() and path.parts and path.parts[0] == "data":
        return paths.data_dir().joinpath(*path.parts[1:])
    return path.resolve()


def load_counts(csv_path: str | os.PathLike, manifest_path: str | os.PathLike | None = None) -> tuple[pd.Series,
                                                                                                       dict]:
    """Read counts and their manifest: ``(series, manifest)``.

    ``csv_path`` is resolved by :func:`counts_file`.  ``manifest_path`` None: ``<stem>.manifest.json`` beside the
    CSV if it exists, else ``{}``.  The series (float, name ``count``, messages per period) is indexed by a
    tz-naive UTC :class:`~pandas.DatetimeIndex` with ``freq`` ``"D"`` or ``"h"`` from the first counted month to
    the last; months not counted are NaN (never filled).  ``attrs``: source, simulated (False), freq, unit,
    sha256, months (``YYYY-MM`` counted), gaps (``(start, end)`` of uncounted stretches) and manifest (its path
    or None).  Raises :class:`DataValidationError` naming the file for a missing file, a bad header, a bad date
    or count, unsorted or duplicate rows, an incomplete month, or a manifest that does not match the CSV.
    """
    path = counts_file(csv_path)
    if not path.is_file():
        raise DataValidationError(f"{path}: counts file not found; write it with `spamits data count PATH -o "
                                  f"{path.name}`")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataValidationError(f"{path}: not a readable date,count CSV ({exc})") from exc
    if list(frame.columns) != ["date", "count"]:
        raise DataValidationError(f"{path}: bad header {','.join(map(str, frame.columns))!r}; expected 'date,count'")
    if frame.empty:
        raise DataValidationError(f"{path}: no data rows after the header 'date,count'")
    freq = next((f for f, (rx, _, _) in _FORMATS.items() if re.fullmatch(rx, frame["date"].iloc[0])), "D")
    rx, fmt, shown = _FORMATS[freq]
    dates = pd.to_datetime(frame["date"], format=fmt, errors="coerce")
    _first_bad(path, ~frame["date"].str.fullmatch(rx) | dates.isna(), frame["date"], f"is not a date {shown}")
    _first_bad(path, ~frame["count"].str.fullmatch(r"\d+"), frame["count"], "is not a count (a whole number >= 0)")
    _first_bad(path, np.r_[False, np.diff(dates.to_numpy()) <= np.timedelta64(0)], frame["date"],
               "is not after the row above it (rows must be sorted, each period once)")
    index = pd.DatetimeIndex(dates)
    months = index.to_period("M").unique()
    full = pd.date_range(months[0].start_time, months[-1].end_time.floor(freq), freq=freq, name="date")
    missing = full[full.to_period("M").isin(months)].difference(index)
    if len(missing):
        first = missing[0].date() if freq == "D" else f"{missing[0]:%Y-%m-%dT%H:00:00Z}"
        raise DataValidationError(f"{path}: month {missing[0]:%Y-%m} is incomplete: no row for {first} "
                                  f"({len(missing)} periods missing); every day or hour of a counted month needs "
                                  "a row, zeros included")
    series = pd.Series(frame["count"].astype(float).to_numpy(), index=index, name="count").reindex(full)
    sha = data.file_sha256(path)
    manifest, where = _read_manifest(path, manifest_path, sha, freq)
    gap = pd.period_range(months[0], months[-1], freq="M").difference(months)  # uncounted months, in stretches
    cut = np.flatnonzero(np.diff(gap.asi8, prepend=-2) != 1).tolist() + [len(gap)]
    series.attrs = {"source": str(path), "simulated": False, "freq": freq, "unit": _UNITS[freq], "sha256": sha,
                    "months": [str(m) for m in months], "manifest": where,
                    "gaps": [(str(gap[a]), str(gap[b - 1])) for a, b in zip(cut[:-1], cut[1:], strict=True)]}
    return series, manifest


def _first_bad(path: Path, bad: object, text: pd.Series, problem: str) -> None:
    hits = np.flatnonzero(np.asarray(bad, dtype=bool))
    if len(hits):
        i = int(hits[0])
        raise DataValidationError(f"{path}: line {i + 2}: {text.iloc[i]!r} {problem}")


def _read_manifest(path: Path, given: str | os.PathLike | None, sha: str, freq: str) -> tuple[dict, str | None]:
    target = Path(given) if given is not None else path.with_name(path.stem + ".manifest.json")
    if given is None and not target.is_file():
        return {}, None
    try:
        manifest = json.loads(target.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataValidationError(f"{target}: manifest not found (for {path})") from None
    except ValueError as exc:
        raise DataValidationError(f"{target}: manifest is not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict):
        raise DataValidationError(f"{target}: manifest must be a JSON object, got {type(manifest).__name__}")
    if manifest.get("sha256") != sha:
        raise DataValidationError(f"{target}: sha256 {manifest.get('sha256')!r} does not match {path} ({sha}); "
                                  "the CSV changed after it was counted: count it again with spamits data count")
    if manifest.get("freq") is not None and _MANIFEST_FREQ.get(manifest["freq"]) != freq:
        raise DataValidationError(f"{target}: freq {manifest['freq']!r} but {path} has {_UNITS[freq]}")
    return manifest, str(target)


def daily_from(series: pd.Series) -> pd.Series:
    """Daily counts (messages per UTC day) from daily or hourly counts; a day with a missing hour stays NaN."""
    out = series.copy() if series.index.freqstr == "D" else series.resample("D").sum(min_count=24)
    out.index.name, out.name = "date", "count"
    out.attrs = {**series.attrs, "freq": "D", "unit": _UNITS["D"]}
    return out


# ----------------------------------------------------------------------------------------------- tables


def shown_path(path: str | os.PathLike | None) -> str | None:
    """``path`` relative to the project (``data/...`` for the data folder) when inside it, else as given."""
    if path is None:
        return None
    for root, prefix in ((paths.data_dir(), "data"), (paths.PROJECT_ROOT, "")):
        if Path(path).is_relative_to(root):
            return (Path(prefix) / Path(path).relative_to(root)).as_posix()
    return str(path)



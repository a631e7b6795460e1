"""Frequency inference, gaps and windows of a regular series (hourly, daily, weekly or monthly).

* :func:`regular_index` infers the base frequency of sorted, unique dates, checks that every row lies on its
  grid and that the file does not switch cadence, and returns the full regular index (gaps included).
* :func:`gap_ranges` / :func:`warn_gaps` list and report runs of missing periods (never filled).
* :func:`period_position` and :func:`window` locate an event date on a regular index and cut the analysis
  window around it (the event period is the first post period, inclusive).

Every failure is a :class:`~spamits.errors.DataValidationError` naming the file (or series), the row and what
to do, or a :class:`~spamits.errors.ModelSpecError` naming the argument.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from spamits.data._text import DATE_COLUMN, iso_date, row_location
from spamits.errors import DataGapWarning, DataValidationError, ModelSpecError, warn

__all__ = ["MIXED_RUN", "as_date", "check_series", "gap_ranges", "period_position", "regular_index", "warn_gaps",
           "window"]

MIXED_RUN = 3  # consecutive steps at another cadence (e.g. monthly rows in daily data) = mixed frequencies
_MAX_GAPS_SHOWN = 5
_UNIT_NAMES = {"h": "hour", "D": "day", "W": "week", "M": "month"}


def regular_index(dates: pd.DatetimeIndex, path: str) -> tuple[str, pd.DatetimeIndex]:
    """Infer the base frequency, check every row lies on its grid, and return (freq, full regular index)."""
    if len(dates) < 2:
        raise DataValidationError(
            f"{row_location(path, 0)}: only one data row; at least two are needed to tell hourly, daily, weekly "
            f"and monthly data apart. Add the neighbouring periods."
        )
    code = _base_code(dates, path)
    freq = _freq_string(code, dates)
    full = pd.date_range(dates[0], dates[-1], freq=freq, name=DATE_COLUMN)
    off_grid = np.flatnonzero(~dates.isin(full))
    if len(off_grid):
        i = int(off_grid[0])
        raise DataValidationError(
            f"{row_location(path, i)}: mixed frequencies: date {iso_date(dates[i])} is not on the {_grid_name(freq)} "
            f"grid that the other rows follow (spacing from the previous row: {_spacing(dates, i)}). One "
            f"file must hold one frequency: split the file or aggregate the rows to one frequency."
        )
    _check_cadence_switch(dates, full, code, path)
    return freq, full


def _step_code(a: pd.Timestamp, b: pd.Timestamp) -> str | None:
    """'h', 'D', 'W' or 'M' when b is exactly one hour, one day, one week or one calendar month (aligned) after a."""
    delta = b - a
    if delta == pd.Timedelta(hours=1):
        return "h"
    if delta == pd.Timedelta(days=1):
        return "D"
    if delta == pd.Timedelta(days=7):
        return "W"
    if _month_anchor(a) is not None and _month_anchor(a) == _month_anchor(b) and _months_between(a, b) == 1:
        return "M"
    return None


def _base_code(dates: pd.DatetimeIndex, path: str) -> str:
    codes = [_step_code(a, b) for a, b in zip(dates[:-1], dates[1:], strict=True)]
    counts = {k: codes.count(k) for k in ("h", "D", "W", "M")}
    best = max(counts.values())
    if best == 0:
        smallest = pd.Timedelta(np.diff(dates.asi8).min(), unit=dates.unit)
        raise DataValidationError(
            f"{path}: cannot infer the frequency: no two consecutive rows are one hour, one day, one week or "
            f"one calendar month apart (smallest spacing {_duration(smallest)}). spamits reads hourly (on the "
            f"hour, UTC), daily, weekly or monthly series (monthly dates on the first or the last day of the month)."
        )
    code = next(k for k in ("h", "D", "W", "M") if counts[k] == best)  # ties go to the finest frequency
    if code == "h":
        _check_on_the_hour(dates, path)
    return code


def _check_on_the_hour(dates: pd.DatetimeIndex, path: str) -> None:
    """Hourly rows must sit on whole UTC hours (``2008-11-11T21:00:00Z``); name the first that does not."""
    off = np.flatnonzero(dates != dates.floor("h"))
    if len(off):
        i = int(off[0])
        raise DataValidationError(
            f"{row_location(path, i)}: irregular hourly index: {dates[i].isoformat()} is not on a whole hour. "
            f"Hourly counts must be stamped at the start of each UTC hour (e.g. 2008-11-11T21:00:00Z, as "
            f"spamits data count --freq hour writes them); re-count the data or aggregate to hours.")


def _freq_string(code: str, dates: pd.DatetimeIndex) -> str:
    if code in {"h", "D"}:
        return code
    if code == "W":
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


def _check_cadence_switch(dates: pd.DatetimeIndex, full: pd.DatetimeIndex, code: str, path: str) -> None:
    """Reject a file that switches to a coarser cadence (e.g. daily rows, then monthly rows).

    A gap is one long step between regular rows; :data:`MIXED_RUN` or more consecutive steps of the same
    longer spacing (k periods, or one calendar month inside daily data) mean the sampling changed.
    """
    pos = full.get_indexer(dates)
    run_start, run_len, previous = 0, 0, None
    for j in range(1, len(dates)):
        k = int(pos[j] - pos[j - 1])
        signature: int | str | None = None if k == 1 else k
        if k > 1 and code == "D" and _step_code(dates[j - 1], dates[j]) == "M":
            signature = "month"
        if signature is not None and signature == previous:
            run_len += 1
        else:
            run_start, run_len = j, int(signature is not None)
        previous = signature
        if run_len >= MIXED_RUN:
            raise DataValidationError(
                f"{row_location(path, run_start)}: mixed frequencies: from date {iso_date(dates[run_start])} the "
                f"rows are {_spacing(dates, run_start)} apart, while the file's base frequency is "
                f"{_grid_name(full.freqstr)}. One file must hold one frequency: split the file or aggregate "
                f"the rows to one frequency."
            )


def _grid_name(freq: str) -> str:
    if freq == "h":
        return "hourly"
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



def gap_ranges(full: pd.DatetimeIndex, missing: pd.DatetimeIndex) -> list[tuple[str, str]]:
    """Runs of consecutive missing periods of ``full`` as ``(first, last)`` ISO dates."""
    if len(missing) == 0:
        return []
    pos = full.get_indexer(missing)
    breaks = np.flatnonzero(np.diff(pos) != 1)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [len(pos) - 1]])
    return [(iso_date(missing[s]), iso_date(missing[e])) for s, e in zip(starts, ends, strict=True)]


def warn_gaps(
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



def period_position(index: pd.DatetimeIndex, date: object) -> int:
    """Position in a regular ``index`` of the period containing ``date`` (or the first one after it).

    ``index``: a tz-naive ``DatetimeIndex`` with ``freq`` set (daily, weekly or monthly).  ``date``: a date string
    (``YYYY-MM-DD``), ``Timestamp``, ``datetime``, ``date``, ``datetime64`` or catalog ``Event``, tz-naive.
    Returns an int in ``0..len(index)``.  Raises :class:`ModelSpecError` naming ``date`` for anything else.
    """
    _check_index(index, "index")
    when = as_date(date, "date")
    freq = "M" if index.freqstr in {"MS", "ME", "M"} else index.freqstr
    ends = index.to_period(freq).end_time
    return int(np.searchsorted(ends.values, np.datetime64(when), side="left"))


def window(y: pd.Series, date: object, *, pre: int, post: int) -> pd.Series:
    """The part of ``y`` from ``pre`` periods before the period containing ``date`` to ``post`` periods from it.

    ``y``: a series on a tz-naive regular ``DatetimeIndex`` (as :func:`spamits.data.load` returns); ``date``: as
    for :func:`period_position`; ``pre``, ``post``: whole numbers of periods, >= 1.  The event period is the
    first of the ``post`` periods (inclusive); returns ``pre + post`` periods with ``y``'s ``freq`` and ``attrs``.
    Raises :class:`DataValidationError` when ``y`` is not such a series or does not reach back ``pre`` periods
    or forward ``post`` periods (the message gives how many it has), :class:`ModelSpecError` for a bad
    ``date``, ``pre`` or ``post``; missing periods inside the window stay missing.
    """
    for name, value in (("pre", pre), ("post", post)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise ModelSpecError(f"window: {name}={value!r} must be a whole number of periods (an int >= 1).")
    if pre < 1 or post < 1:
        raise ModelSpecError(f"window: pre={pre} and post={post} must both be >= 1 periods")
    check_series(y, "y")
    when = as_date(date, "date")
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


_DATE_FORMS = "a date string 'YYYY-MM-DD', a pandas Timestamp, a datetime, a date, a datetime64 or a catalog Event"


def as_date(value: object, name: str) -> pd.Timestamp:
    """``value`` as a tz-naive Timestamp; :class:`ModelSpecError` naming argument ``name`` when it is not a date.

    Accepts a date string, ``Timestamp``, ``datetime``, ``date``, ``datetime64`` or an object with a ``date``
    Timestamp attribute (a catalog :class:`~spamits.events.Event`).  Numbers are refused (pandas would read
    ``20081111`` as nanoseconds after 1970), and so are time-zone-aware dates (spamits series are naive UTC).
    """
    if isinstance(value, bool | int | float | np.number):
        raise ModelSpecError(f"{name}={value!r}: a number is not a date (it would be read as nanoseconds after "
                             f"1970). Give {_DATE_FORMS}, e.g. '2008-11-11'.")
    attribute = getattr(value, "date", None)
    if attribute is not None and not callable(attribute):  # an Event (a Timestamp's .date is a method)
        value = attribute
    try:
        when = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ModelSpecError(f"{name}={value!r}: not a date. Give {_DATE_FORMS}.") from exc
    if when is pd.NaT:
        raise ModelSpecError(f"{name}={value!r}: a missing date (NaT). Give {_DATE_FORMS}.")
    if when.tzinfo is not None:
        raise ModelSpecError(f"{name}={value!r}: has a time zone, but spamits dates are naive UTC. Pass "
                             f"{name}.tz_convert(None) (here {when.tz_convert(None)}) or the date as 'YYYY-MM-DD'.")
    return when


def check_series(y: object, name: str, *, regular: bool = True) -> None:
    """Raise :class:`DataValidationError` naming argument ``name`` unless ``y`` is a Series on a tz-naive
    ``DatetimeIndex``, with ``freq`` set when ``regular`` (what :func:`spamits.data.load` returns)."""
    if not isinstance(y, pd.Series):
        raise DataValidationError(f"{name}: expected a pandas Series of counts (from spamits.data.load), got "
                                  f"{type(y).__name__}.")
    _check_index(y.index, name, regular=regular)


def _check_index(index: object, name: str, *, regular: bool = True) -> None:
    if not isinstance(index, pd.DatetimeIndex):
        raise DataValidationError(f"{name}: the index is a {type(index).__name__}, not a DatetimeIndex; load the "
                                  f"series with spamits.data.load, which puts it on a regular date index.")
    if index.tz is not None:
        raise DataValidationError(f"{name}: the dates have a time zone ({index.tz}), but spamits series are naive "
                                  f"UTC; convert them with {name}.tz_convert(None).")
    if regular and index.freq is None:
        raise DataValidationError(f"{name}: the DatetimeIndex has no frequency; load the series with "
                                  f"spamits.data.load, or set one with {name}.asfreq('D') (or 'W-SUN', 'MS').")

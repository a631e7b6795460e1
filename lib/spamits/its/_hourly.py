"""What an ITS fit does differently on hourly series (a regular hourly ``DatetimeIndex``, naive UTC).

* ``seasonality="auto"`` (the default of ``its.fit``) is ``"hod+dow"`` (hour-of-day and day-of-week dummies)
  on hourly series and ``None`` on daily, weekly and monthly ones (their default before hourly support, so
  their fits are unchanged);
* an event's time of day must be on the hourly grid (``"2008-11-11 21:00"``; a date alone is its midnight
  UTC): ``"21:30"`` on hourly data is a :class:`~spamits.errors.ModelSpecError` naming ``events``.  On daily,
  weekly or monthly data an event with a time of day falls in the period containing it, as before;
* impact tables use horizons of 24, 168 and 720 hours (a day, a week, 30 days) instead of 7, 30 and 90 periods;
* times are written with their hour (``2008-11-11 21:00``) when they are not a midnight.

Half-lives, recovery times and slopes are in periods, so in hours on hourly series (``ITSResult.unit``).
"""

from __future__ import annotations

import pandas as pd

from spamits.errors import ModelSpecError

AUTO = "auto"  # the default seasonality: resolved by frequency (default_seasonality)
DEFAULT_SEASONALITY: dict[str, str | None] = {"H": "hod+dow", "D": None, "W": None, "M": None}
DEFAULT_HORIZONS: dict[str, tuple[int, ...]] = {"H": (24, 168, 720), "D": (7, 30, 90), "W": (7, 30, 90),
                                                "M": (7, 30, 90)}


def resolve_seasonality(seasonality: object, freq: str) -> object:
    """``seasonality`` as the fit uses it: ``"auto"`` becomes :data:`DEFAULT_SEASONALITY` of ``freq`` (``"H"``,
    ``"D"``, ``"W"`` or ``"M"``); anything else is returned as given (checked by ``terms.seasonal_terms``)."""
    if isinstance(seasonality, str) and seasonality == AUTO:
        return DEFAULT_SEASONALITY[freq]
    return seasonality


def stamp(when: pd.Timestamp) -> str:
    """``when`` as text: the ISO date at midnight (``2008-11-11``), else date and time (``2008-11-11 21:00``)."""
    when = pd.Timestamp(when)
    if when == when.normalize():
        return when.date().isoformat()
    return when.strftime("%Y-%m-%d %H:%M" if when.second == 0 and when.microsecond == 0 else "%Y-%m-%d %H:%M:%S")


def check_on_grid(index: pd.DatetimeIndex, freq: str, when: pd.Timestamp, what: str = "events") -> None:
    """ModelSpecError naming ``what`` when ``when`` is not a whole hour of an hourly series (``freq == "H"``).

    Daily, weekly and monthly series take any time: the event falls in the period that contains it.
    """
    if freq != "H":
        return
    when = pd.Timestamp(when)
    if when != when.floor("h"):
        raise ModelSpecError(f"{what}: {stamp(when)} is not on the hourly grid of y (whole hours, UTC, from "
                             f"{stamp(index[0])} to {stamp(index[-1])}); give the hour the event starts in, e.g. "
                             f"{when.floor('h').strftime('%Y-%m-%d %H:00')}")


def horizons(freq: str) -> tuple[int, ...]:
    """The default horizons (periods) of ``ITSResult.impact_table`` for a series of frequency ``freq``."""
    return DEFAULT_HORIZONS[freq]

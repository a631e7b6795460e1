"""Events as an ITS fit takes them: every accepted form turned into one label and one date.

Accepted: a date string (``"2008-11-11"``), a catalog id (``"mccolo"``), a ``pd.Timestamp``, a
``datetime.datetime``, a ``datetime.date``, a ``np.datetime64`` or an ``Event`` (``spamits.events.get``).
Rejected with a :class:`~spamits.errors.ModelSpecError` naming the argument: numbers (an int is not a date),
time-zone-aware dates, missing dates (NaT) and anything else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from spamits import events as catalog
from spamits.errors import ModelSpecError, UnknownEventError
from spamits.its._hourly import stamp

DATE_TYPES = (pd.Timestamp, dt.datetime, dt.date, np.datetime64)


@dataclass(frozen=True)
class EventRef:
    """One event as a fit names it: ``label`` (catalog id, or the ISO date of a bare date, with ``HH:MM`` when
    it has a time of day), ``date`` (in the first post-event period, inclusive; naive UTC) and ``earliest``
    (the catalog's ``date_lo``, else ``date``)."""

    label: str
    date: pd.Timestamp
    earliest: pd.Timestamp


def as_event(item: object, what: str = "events") -> EventRef:
    """``item`` (any accepted event form, see the module docstring) as an :class:`EventRef`.

    ``what`` names the argument in the ModelSpecError raised for anything that is not an event or a date.
    """
    if isinstance(item, EventRef):
        return item
    if isinstance(item, catalog.Event):
        return EventRef(item.id, _naive(pd.Timestamp(item.date), what, item),
                        _naive(pd.Timestamp(item.date_lo), what, item) if pd.notna(item.date_lo)
                        else pd.Timestamp(item.date))
    if isinstance(item, bool | int | float | np.integer | np.floating):
        raise ModelSpecError(f"{what}: {item!r} is a number, not a date; give a date string such as "
                             "'2008-11-11', a Timestamp, a datetime.date or an Event (spamits.events.get)")
    if isinstance(item, str):
        return _from_string(item, what)
    if isinstance(item, DATE_TYPES):
        date = _naive(pd.Timestamp(item), what, item)
        return EventRef(stamp(date), date, date)
    if hasattr(item, "id") and hasattr(item, "date") and not callable(item.date):  # an Event-like record
        date = _naive(pd.Timestamp(item.date), what, item)
        earliest = getattr(item, "date_lo", None)
        return EventRef(str(item.id), date, _naive(pd.Timestamp(earliest), what, item)
                        if earliest is not None and pd.notna(earliest) else date)
    raise ModelSpecError(f"{what}: {item!r} ({type(item).__name__}) is neither a date nor an Event; give a date "
                         "string such as '2008-11-11', a Timestamp, a catalog id or spamits.events.get(id)")


def _from_string(item: str, what: str) -> EventRef:
    try:
        date = pd.Timestamp(item)
    except (TypeError, ValueError):
        date = None
    if date is not None and not pd.isna(date):
        date = _naive(date, what, item)
        return EventRef(stamp(date), date, date)
    try:
        return as_event(catalog.get(item), what)
    except UnknownEventError as exc:
        raise ModelSpecError(f"{what}: {item!r} is neither a date (such as '2008-11-11') nor a catalog id; "
                             f"{exc}") from exc


def _naive(date: pd.Timestamp, what: str, item: object) -> pd.Timestamp:
    if pd.isna(date):
        raise ModelSpecError(f"{what}: {item!r} is not a date (missing)")
    if date.tzinfo is not None:
        raise ModelSpecError(f"{what}: {item!r} is time-zone aware; give the local date without a zone "
                             "(e.g. pd.Timestamp(x).tz_localize(None)), as the series' index has none")
    return date


def as_events(events: object, what: str = "events") -> list[EventRef]:
    """One or several events (a list or tuple of them) as EventRefs, in the order given.

    Raises ModelSpecError for an empty list and for the same event given twice (the same label or date).
    """
    items = list(events) if isinstance(events, list | tuple) else [events]
    if not items:
        raise ModelSpecError(f"{what}: give at least one event date or Event")
    refs = [as_event(item, what) for item in items]
    _check_distinct(refs, what)
    return refs


def _check_distinct(refs: Sequence[EventRef], what: str) -> None:
    seen: dict[object, EventRef] = {}
    for ref in refs:
        for key in (("label", ref.label), ("date", ref.date)):
            if key in seen:
                other = seen[key]
                raise ModelSpecError(f"{what}: the same event is given twice ({other.label!r} and {ref.label!r}, "
                                     f"both on {stamp(ref.date)}); give each event once")
            seen[key] = ref

"""The catalog of spam-infrastructure takedowns and natural pauses, shipped as ``data/events.csv``.

One row per event: 18 takedowns (2008-2021) and 3 natural pauses (operator breaks with no intervention,
used as placebo or control events).  ``date`` is the best UTC day of the intervention (for a pause, the day
it starts); ``date_lo`` and ``date_hi`` bound it where sources disagree, for sensitivity analyses.  Every row
carries the URLs of the reports it was compiled from; see ``data/README.md`` for provenance.

>>> from spamits import events
>>> events.get("mccolo").date
Timestamp('2008-11-11 00:00:00')

This module holds no spam data, models or plots.
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from spamits import paths
from spamits._display import DisplayTable
from spamits.errors import DataFileNotFoundError, DataValidationError, UnknownEventError

__all__ = ["MECHANISMS", "KINDS", "REQUIRED_COLUMNS", "Event", "load", "get"]

#: Mechanism codes (column ``mechanism``; several are joined with ``+``, e.g. ``CIVIL+SINK``).
MECHANISMS: dict[str, str] = {
    "DEPEER": "upstream providers cut the hoster's transit (de-peering)",
    "CIVIL": "civil court order (e.g. a temporary restraining order): domains or servers seized",
    "CRIM": "criminal seizure of servers or arrest of operators",
    "C2": "researchers take down command-and-control servers with hosters and registrars",
    "SINK": "sinkholing of a peer-to-peer network or of generated (DGA) domains",
    "VOL": "voluntary closure, possibly under pressure",
    "NAT": "unexplained pause by the operators, no intervention (placebo or control)",
}

#: Values of the optional ``kind`` column; without it, ``NAT`` rows are pauses and the rest takedowns.
KINDS: tuple[str, ...] = ("takedown", "pause")

REQUIRED_COLUMNS: tuple[str, ...] = (
    "id", "name", "date", "date_lo", "date_hi", "mechanism", "botnets", "reported_effect", "sources",
)
_DATE_COLUMNS = ("date", "date_lo", "date_hi")
_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Event:
    """One catalog row.

    Dates are UTC days (tz-naive ``pd.Timestamp`` at midnight); the event day belongs to the post-intervention
    period.  ``botnets`` and ``sources`` (URLs) are split from the file's ``;``- and space-separated lists.
    """

    id: str
    name: str
    date: pd.Timestamp
    date_lo: pd.Timestamp
    date_hi: pd.Timestamp
    mechanism: str
    botnets: tuple[str, ...]
    reported_effect: str
    sources: tuple[str, ...]
    kind: str = "takedown"
    catalog_ref: str = ""

    @property
    def mechanisms(self) -> tuple[str, ...]:
        """The mechanism codes, e.g. ``("CIVIL", "SINK")`` for ``CIVIL+SINK``."""
        return tuple(self.mechanism.split("+"))


def load(path: str | Path | None = None) -> pd.DataFrame:
    """Read and validate the event catalog; default ``data/events.csv`` of the package.

    Returns one row per event with the columns of :data:`REQUIRED_COLUMNS` plus ``kind`` (and any extra
    columns of the file, such as ``catalog_ref``); ``date``, ``date_lo`` and ``date_hi`` are ``datetime64``.
    The default file is read once per session (re-read if it changes); each call returns a fresh copy.
    Raises :class:`~spamits.errors.DataValidationError` naming the file, row, id and problem.
    """
    if path is not None:
        return _read(Path(path))
    default = paths.data_file("events.csv")
    try:
        stamp = default.stat().st_mtime_ns
    except FileNotFoundError:
        stamp = -1  # _read reports the missing file
    return _read_cached(default, stamp).copy(deep=True)


def get(event_id: str, *, path: str | Path | None = None) -> Event:
    """The catalog event with this id (case-insensitive), e.g. ``get("mccolo")``.

    Raises :class:`~spamits.errors.UnknownEventError` listing close matches and all valid ids.
    """
    frame = load(path)
    ids = frame["id"].tolist()
    key = str(event_id).strip().lower()
    if key not in ids:
        close = difflib.get_close_matches(key, ids, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise UnknownEventError(
            f"unknown event id {event_id!r}.{hint} Valid ids: {', '.join(ids)} "
            "(see spamits.events.load() or data/events.csv)."
        )
    return _to_event(frame.loc[frame["id"] == key].iloc[0])


@functools.lru_cache(maxsize=8)
def _read_cached(path: Path, mtime_ns: int) -> pd.DataFrame:
    """Cache of :func:`_read` keyed on the path and its modification time."""
    return _read(path)


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        if path == paths.data_file("events.csv"):
            raise DataFileNotFoundError(f"event catalog: {paths.missing_file_message(path)}")
        raise DataFileNotFoundError(
            f"event catalog not found: {path}. Pass path= or set SPAMITS_DATA_DIR to the folder holding "
            "events.csv."
        )
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataValidationError(f"{path}: not a readable UTF-8 CSV file ({exc}).") from exc
    except OSError as exc:  # e.g. permission denied
        raise DataValidationError(f"{path}: cannot be read ({exc.strerror or exc}); make the file readable.") from exc
    raw.columns = [str(c).strip() for c in raw.columns]
    _check_columns(raw, path)
    if raw.empty:
        raise DataValidationError(f"{path}: no events after the header line; add at least one row.")
    frame = raw.apply(lambda col: col.str.strip())
    if "kind" not in frame.columns:
        frame["kind"] = ["pause" if m == "NAT" else "takedown" for m in frame["mechanism"]]
    first_row: dict[str, int] = {}
    for number, record in enumerate(frame.to_dict("records"), start=1):
        _check_row(record, number, path, first_row)
    for column in _DATE_COLUMNS:
        frame[column] = pd.to_datetime(frame[column], format="%Y-%m-%d").astype("datetime64[ns]")
    ordered = list(REQUIRED_COLUMNS) + ["kind"]
    return frame[ordered + [c for c in frame.columns if c not in ordered]].reset_index(drop=True)


def _check_columns(raw: pd.DataFrame, path: Path) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    if missing:
        raise DataValidationError(
            f"{path} header: missing required column(s) {', '.join(missing)}; the header must hold "
            f"{','.join(REQUIRED_COLUMNS)} (optionally kind, catalog_ref)."
        )


def _check_row(record: dict[str, str], number: int, path: Path, first_row: dict[str, int]) -> None:
    """Raise DataValidationError for the first problem of one data row (``number`` is 1-based)."""
    problem = _row_problem(record, first_row)
    if problem:
        raise DataValidationError(f"{path} row {number} (id {record['id']!r}): {problem}")
    first_row[record["id"]] = number


def _row_problem(record: dict[str, str], first_row: dict[str, int]) -> str | None:
    event_id = record["id"]
    if not event_id:
        return "id is empty; give every event a unique lowercase slug such as 'mccolo'."
    if not _ID_PATTERN.match(event_id):
        return "id must be a lowercase slug (letters a-z, digits and '-'), e.g. 'kelihos-2011'."
    if event_id in first_row:
        return f"duplicate id, already used in row {first_row[event_id]}; ids must be unique."
    if not record["name"]:
        return "name is empty; give a short description of the event."
    return (
        _dates_problem(record)
        or _mechanism_problem(record["mechanism"])
        or _kind_problem(record["kind"])
        or _sources_problem(record["sources"])
    )


def _parse_date(value: str) -> pd.Timestamp | None:
    """The day ``value`` names if it is a valid ``YYYY-MM-DD`` date, else None."""
    if not _ISO_DATE.match(value):
        return None
    try:
        return pd.Timestamp(pd.to_datetime(value, format="%Y-%m-%d"))
    except ValueError:
        return None


def _dates_problem(record: dict[str, str]) -> str | None:
    for column in _DATE_COLUMNS:
        if _parse_date(record[column]) is None:
            return f"{column} {record[column]!r} is not a valid ISO date YYYY-MM-DD (e.g. 2008-11-11)."
    lo, date, hi = (_parse_date(record[column]) for column in ("date_lo", "date", "date_hi"))
    if lo > date:
        return f"date_lo {record['date_lo']} is after date {record['date']}; need date_lo <= date <= date_hi."
    if date > hi:
        return f"date {record['date']} is after date_hi {record['date_hi']}; need date_lo <= date <= date_hi."
    return None


def _mechanism_problem(value: str) -> str | None:
    unknown = [code for code in value.split("+") if code not in MECHANISMS]
    if unknown:
        return (
            f"unknown mechanism code(s) {', '.join(repr(c) for c in unknown)} in {value!r}; known codes: "
            f"{', '.join(MECHANISMS)}; join several with '+', e.g. 'CIVIL+SINK'."
        )
    return None


def _kind_problem(value: str) -> str | None:
    return None if value in KINDS else f"kind {value!r} is not one of {', '.join(KINDS)}."


def _sources_problem(value: str) -> str | None:
    urls = value.split()
    if not urls:
        return "no source: list at least one http(s) URL in sources (separate several with spaces)."
    bad = [url for url in urls if not url.startswith(("http://", "https://"))]
    if bad:
        return f"source {bad[0]!r} is not an http(s) URL; separate several URLs with spaces."
    return None


def _to_event(row: pd.Series) -> Event:
    return Event(
        id=row["id"],
        name=row["name"],
        date=pd.Timestamp(row["date"]),
        date_lo=pd.Timestamp(row["date_lo"]),
        date_hi=pd.Timestamp(row["date_hi"]),
        mechanism=row["mechanism"],
        botnets=tuple(b.strip() for b in row["botnets"].split(";") if b.strip()),
        reported_effect=row["reported_effect"],
        sources=tuple(row["sources"].split()),
        kind=row["kind"],
        catalog_ref=str(row.get("catalog_ref", "")),
    )


def describe(event: Event) -> DisplayTable:
    """A (field, value) table of one catalog row for display, sources one per row, shown in full and escaped."""
    rows = [("id", event.id), ("name", event.name), ("date (UTC)", event.date.date().isoformat()),
            ("date range in sources", f"{event.date_lo.date().isoformat()} to {event.date_hi.date().isoformat()}"),
            ("mechanism", f"{event.mechanism} ({'; '.join(MECHANISMS.get(m, m) for m in event.mechanism.split('+'))})"),
            ("kind", event.kind), ("botnets", ", ".join(event.botnets)),
            ("reported effect", event.reported_effect)]
    rows += [(f"source {i}", url) for i, url in enumerate(event.sources, 1)]
    return DisplayTable(pd.DataFrame(rows, columns=["field", "value"]).set_index("field"),
                        caption=f"Catalog entry {event.id} (data/events.csv)")

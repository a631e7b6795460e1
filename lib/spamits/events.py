"""The catalog of spam-infrastructure takedowns, natural pauses and surges, shipped as ``data/events.csv``.

One row per event: 45 takedowns or disruptions (2008-2026), 11 natural pauses (operator breaks with no
intervention, used as placebo or control events) and 1 surge (a sudden campaign, a positive control).
``date`` is the best UTC day of the intervention (for a pause or surge, the day it starts); ``date_lo`` and
``date_hi`` bound it where sources disagree, for sensitivity analyses.  ``end_date`` is the day a pause or surge
ended (the operators' return), where sources give it; ``uncertainty`` marks approximate dates and claims that
rest on weak sources (:data:`UNCERTAINTY`).  Every row carries the URLs of the reports it was compiled from; see
``data/README.md`` for provenance.  :func:`with_ends` adds each end as an event of its own (``<id>-end``).

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

__all__ = ["END_SUFFIX", "KINDS", "MECHANISMS", "REQUIRED_COLUMNS", "UNCERTAINTY", "Event", "get", "load",
           "with_ends"]

#: Mechanism codes (column ``mechanism``; several are joined with ``+``, e.g. ``CIVIL+SINK``).
MECHANISMS: dict[str, str] = {
    "DEPEER": "upstream providers cut the hoster's transit (de-peering)",
    "CIVIL": "civil court order (e.g. a temporary restraining order): domains or servers seized",
    "CRIM": "criminal seizure of servers or arrest of operators",
    "C2": "researchers take down command-and-control servers with hosters and registrars",
    "SINK": "sinkholing of a peer-to-peer network or of generated (DGA) domains",
    "VOL": "voluntary closure, possibly under pressure",
    "NAT": "unexplained pause by the operators, no intervention (placebo or control)",
    "SANCTION": "economic sanctions (e.g. OFAC, EU, UK, Australia) on the operator or its hoster",
    "CAMPAIGN": "the operators start a large campaign, no intervention (a surge: positive control)",
}

#: Values of the optional ``kind`` column; without it, ``NAT`` rows are pauses and the rest takedowns.
KINDS: tuple[str, ...] = ("takedown", "pause", "surge")

#: Codes of the optional ``uncertainty`` column (several joined with ``+``; empty: nothing marked uncertain).
UNCERTAINTY: dict[str, str] = {
    "approx-date": "no source gives the day: date (or a bound of its range) is an estimate",
    "approx-end": "no source gives the day the pause or surge ended: end_date is an estimate",
    "uncertain-claim": "a claim of the row rests on one weak, undated or truncated source",
    "recurring": "the row stands for a recurring event and is dated to one of its occurrences",
}

#: Kinds that may have an ``end_date`` (the day the operators came back, or the surge stopped).
ENDING_KINDS: tuple[str, ...] = ("pause", "surge")
END_SUFFIX = "-end"
"""Appended to an event's id for the event of its end (:func:`with_ends`), e.g. ``emotet-pause-2022-07-end``."""

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
    end_date: pd.Timestamp | None = None
    uncertainty: str = ""
    phase: str = "start"

    @property
    def uncertainties(self) -> tuple[str, ...]:
        """The uncertainty codes, e.g. ``("approx-date", "uncertain-claim")``; empty when none is marked."""
        return tuple(code for code in self.uncertainty.split("+") if code)

    @property
    def mechanisms(self) -> tuple[str, ...]:
        """The mechanism codes, e.g. ``("CIVIL", "SINK")`` for ``CIVIL+SINK``."""
        return tuple(self.mechanism.split("+"))


def load(path: str | Path | None = None) -> pd.DataFrame:
    """Read and validate the event catalog; default ``data/events.csv`` of the package.

    Returns one row per event with the columns of :data:`REQUIRED_COLUMNS` plus ``kind``, ``end_date`` and
    ``uncertainty`` (empty when the file has no such column) and any extra columns of the file, such as
    ``catalog_ref``; ``date``, ``date_lo``, ``date_hi`` and ``end_date`` (NaT when empty) are ``datetime64``.
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
    """The catalog event with this id (case-insensitive), e.g. ``get("mccolo")``; ``"<id>-end"`` is the end of a
    pause or surge with an ``end_date`` (see :func:`with_ends`).

    Raises :class:`~spamits.errors.UnknownEventError` listing close matches and all valid ids.
    """
    frame = with_ends(load(path))
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
    for column in ("end_date", "uncertainty"):
        if column not in frame.columns:
            frame[column] = ""
    first_row: dict[str, int] = {}
    for number, record in enumerate(frame.to_dict("records"), start=1):
        _check_row(record, number, path, first_row)
    _check_end_ids(frame, path)
    for column in _DATE_COLUMNS:
        frame[column] = pd.to_datetime(frame[column], format="%Y-%m-%d").astype("datetime64[ns]")
    frame["end_date"] = pd.to_datetime(frame["end_date"].replace("", None), format="%Y-%m-%d").astype(
        "datetime64[ns]")
    ordered = list(REQUIRED_COLUMNS) + ["kind", "end_date", "uncertainty"]
    return frame[ordered + [c for c in frame.columns if c not in ordered]].reset_index(drop=True)


def _check_columns(raw: pd.DataFrame, path: Path) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    if missing:
        raise DataValidationError(
            f"{path} header: missing required column(s) {', '.join(missing)}; the header must hold "
            f"{','.join(REQUIRED_COLUMNS)} (optionally kind, catalog_ref, end_date, uncertainty)."
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
        or _end_problem(record)
        or _uncertainty_problem(record)
        or _sources_problem(record["sources"])
    )


def _check_end_ids(frame: pd.DataFrame, path: Path) -> None:
    """No id may be the end event of another row (``<id>-end`` of a row with an ``end_date``)."""
    ends = {f"{i}{END_SUFFIX}" for i, end in zip(frame["id"], frame["end_date"], strict=True) if end}
    for number, event_id in enumerate(frame["id"], start=1):
        if event_id in ends:
            raise DataValidationError(
                f"{path} row {number} (id {event_id!r}), column id: {event_id!r} is the name of the end event of "
                f"{event_id.removesuffix(END_SUFFIX)!r} (its end_date); choose another id."
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
    return None if value in KINDS else f"column kind: kind {value!r} is not one of {', '.join(KINDS)}."


def _end_problem(record: dict[str, str]) -> str | None:
    value = record["end_date"]
    if not value:
        return None
    end = _parse_date(value)
    if end is None:
        return f"column end_date: {value!r} is not a valid ISO date YYYY-MM-DD (or leave it empty)."
    if record["kind"] not in ENDING_KINDS:
        return (f"column end_date: only a {' or '.join(ENDING_KINDS)} has an end (the day the operators came back); "
                f"this row is a {record['kind']}, leave end_date empty.")
    if end <= _parse_date(record["date_hi"]):
        return f"column end_date: {value} is not after date_hi {record['date_hi']}; the end must follow the start."
    return None


def _uncertainty_problem(record: dict[str, str]) -> str | None:
    value = record["uncertainty"]
    codes = value.split("+") if value else []
    unknown = [code for code in codes if code not in UNCERTAINTY]
    if unknown:
        return (f"column uncertainty: unknown code(s) {', '.join(repr(c) for c in unknown)} in {value!r}; known codes: "
                f"{', '.join(UNCERTAINTY)}; join several with '+', or leave it empty when nothing is uncertain.")
    if "approx-end" in codes and not record["end_date"]:
        return "column uncertainty: 'approx-end' needs an end_date to qualify."
    return None


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
        end_date=pd.Timestamp(row["end_date"]) if pd.notna(row["end_date"]) else None,
        uncertainty=str(row.get("uncertainty", "")),
        phase=str(row.get("phase", "start")) if pd.notna(row.get("phase", "start")) else "start",
    )


def with_ends(frame: pd.DataFrame) -> pd.DataFrame:
    """The catalog ``frame`` (from :func:`load`) with, for each pause or surge that has an ``end_date``, one more
    row for its end: id ``<id>-end``, ``date`` = ``date_lo`` = ``date_hi`` = the end day, the same kind, the
    name suffixed ``(end)`` and column ``phase`` ``"end"`` (``"start"`` for the catalog rows).

    An ITS fit takes such an end as an event of its own: the operators' return after a pause (a rise) or the
    end of a surge (a fall), the other break of the same episode.  Rows stay in date order of the catalog.
    """
    out = frame.assign(phase="start")
    has_end = out[out["end_date"].notna()]
    if has_end.empty:
        return out
    ends = has_end.assign(id=has_end["id"] + END_SUFFIX, name=has_end["name"] + " (end)", date=has_end["end_date"],
                          date_lo=has_end["end_date"], date_hi=has_end["end_date"], phase="end")
    return pd.concat([out, ends], ignore_index=True)


def describe(event: Event) -> DisplayTable:
    """A (field, value) table of one catalog row for display, sources one per row, shown in full and escaped."""
    rows = [("id", event.id), ("name", event.name), ("date (UTC)", event.date.date().isoformat()),
            ("date range in sources", f"{event.date_lo.date().isoformat()} to {event.date_hi.date().isoformat()}"),
            ("mechanism", f"{event.mechanism} ({'; '.join(MECHANISMS.get(m, m) for m in event.mechanism.split('+'))})"),
            ("kind", event.kind), ("botnets", ", ".join(event.botnets)),
            ("reported effect", event.reported_effect)]
    if event.end_date is not None:
        rows.insert(4, ("end (return) date", event.end_date.date().isoformat()))
    if event.uncertainty:
        rows.append(("uncertainty", "; ".join(f"{c}: {UNCERTAINTY.get(c, c)}" for c in event.uncertainties)))
    rows += [(f"source {i}", url) for i, url in enumerate(event.sources, 1)]
    return DisplayTable(pd.DataFrame(rows, columns=["field", "value"]).set_index("field"),
                        caption=f"Catalog entry {event.id} (data/events.csv)")

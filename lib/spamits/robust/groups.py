"""Events grouped by era and kind, which of them have a simulated or a real series, and what the real fits say.

* :func:`catalog_groups` — one row per catalog event: its group (:data:`GROUPS`), whether it has a SIMULATED
  series (a scenario of :mod:`spamits.data.simulation`, made only where a measured effect was reported) and
  whether it was fitted to REAL counts (``real_series``, with the ends of its pauses).
* :func:`group_table` — one row per group: how many events, with a simulated series, with a real fit.
* :func:`group_readings` (fields) and :func:`group_findings` (text) — per group, what the real fits (from
  :func:`~spamits.robust.takedown_table`) support and what they cannot.

Tables in, tables and text out; the figure is :func:`spamits.plots.fig_groups`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from spamits import events
from spamits.data.simulation import SCENARIOS
from spamits.errors import ModelSpecError
from spamits.robust.across import REAL, REAL_SUFFIX

__all__ = ["GROUPS", "NO_SIMULATION", "GroupReading", "catalog_groups", "group_findings", "group_of", "group_readings",
           "group_table"]

GROUPS: dict[str, str] = {
    "takedowns 2008-2012": "hosting companies de-peered and spam botnets taken down (McColo, Rustock, Grum...)",
    "takedowns 2013-2021": "botnet takedowns between the eras (Kelihos, Necurs, Emotet)",
    "disruptions 2022-2026": "loaders, bulletproof hosters (seizures and sanctions), proxy botnets and phishing "
                             "services",
    "pauses": "natural pauses of the operators, no intervention (negative controls), with their returns",
    "surges": "sudden campaigns, no intervention (positive controls)",
}
"""The groups, in display order, with what each holds."""
NO_SIMULATION = "no simulated series: no measured effect reported"
"""The ``simulated`` cell of a 2022-2026 event without a scenario: its sources give no size of a change in spam
(presence, absence, return times or volumes without a before-figure), and none is invented."""
_NOT_MADE = "no simulated series (none made for this event)"
_STATUSES = ("real fit", "simulated only", "neither")
RECENT_YEAR = 2022  # the events added from the 2022-2026 research note


def group_of(kind: str, date: pd.Timestamp) -> str:
    """The group of an event of this ``kind`` (takedown, pause or surge) on ``date``."""
    if kind == "pause":
        return "pauses"
    if kind == "surge":
        return "surges"
    if kind != "takedown":
        raise ModelSpecError(f"group_of: unknown kind {kind!r}; one of {', '.join(events.KINDS)}")
    year = pd.Timestamp(date).year
    return "takedowns 2008-2012" if year <= 2012 else "takedowns 2013-2021" if year <= 2021 else \
        "disruptions 2022-2026"


def catalog_groups(real_series: dict | None = None, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per catalog event (``frame``: default :func:`spamits.events.load`), in group then date order.

    Columns: ``group``, ``id``, ``date`` (ISO day), ``kind``, ``mechanism``, ``uncertainty``, ``simulated`` (the
    scenario in short; else :data:`NO_SIMULATION` for an event from 2022 on, or that none was made for an older
    one), ``real`` (the ids fitted to real counts, the event's
    ``<id>-end`` included, or ``"no real series"``) and ``status`` (``real fit``, ``simulated only`` or
    ``neither``).  ``real_series`` is the ``{event_id: counts}`` of the real fits (ends as ``<id>-end``).
    """
    frame = events.load() if frame is None else frame
    real = set(real_series or {})
    unknown = sorted(r for r in real if r.removesuffix(events.END_SUFFIX) not in set(frame["id"]))
    if unknown:
        raise ModelSpecError(f"catalog_groups: real_series names events that are not in the catalog: {unknown}")
    rows = []
    for ev in frame.itertuples(index=False):
        fitted = [i for i in (ev.id, f"{ev.id}{events.END_SUFFIX}") if i in real]
        simulated = ev.id in SCENARIOS
        rows.append({
            "group": group_of(ev.kind, ev.date), "id": ev.id, "date": pd.Timestamp(ev.date).date().isoformat(),
            "kind": ev.kind, "mechanism": ev.mechanism, "uncertainty": getattr(ev, "uncertainty", "") or "",
            "simulated": f"SIMULATED: {SCENARIOS[ev.id].shape}, drop {SCENARIOS[ev.id].drop:.0%}" if simulated
            else NO_SIMULATION if pd.Timestamp(ev.date).year >= RECENT_YEAR else _NOT_MADE,
            "real": ", ".join(fitted) if fitted else "no real series",
            "status": "real fit" if fitted else "simulated only" if simulated else "neither"})
    table = pd.DataFrame(rows)
    order = {g: i for i, g in enumerate(GROUPS)}
    return table.sort_values(["group", "date"], key=lambda c: c.map(order) if c.name == "group" else c,
                             kind="stable").reset_index(drop=True)


def group_table(groups: pd.DataFrame) -> pd.DataFrame:
    """One row per group of :func:`catalog_groups`: ``events``, ``first`` and ``last`` day, and how many events
    have a ``real fit``, a simulated series only (``simulated only``) or ``neither``; ``real ids`` lists the
    events fitted to real counts."""
    rows = []
    for group in GROUPS:
        part = groups[groups["group"] == group]
        if part.empty:
            continue
        counts = part["status"].value_counts()
        rows.append({"group": group, "events": len(part), "first": part["date"].min(), "last": part["date"].max(),
                     **{s: int(counts.get(s, 0)) for s in _STATUSES},
                     "real ids": ", ".join(part.loc[part["status"] == "real fit", "id"]) or "none"})
    return pd.DataFrame(rows, columns=["group", "events", "first", "last", *_STATUSES, "real ids"])


@dataclass(frozen=True)
class GroupReading:
    """What one group's real fits support and what they cannot (:func:`group_readings`).

    ``events``: events in the group; ``simulated``: of them with a SIMULATED series; ``real_fits``: with a fit to
    REAL counts; ``supports`` and ``cannot``: sentences (empty when nothing was fitted to real counts).
    """

    group: str
    events: int
    simulated: int
    real_fits: int
    supports: tuple[str, ...]
    cannot: tuple[str, ...]

    @property
    def head(self) -> str:
        """The group with its counts, e.g. ``pauses (11 events, 2 with a simulated series, 0 with a real fit)``."""
        return (f"{self.group} ({self.events} event{'s' if self.events != 1 else ''}, {self.simulated} with a "
                f"simulated series, {self.real_fits} with a real fit)")


def group_readings(groups: pd.DataFrame, table: pd.DataFrame | None = None) -> list[GroupReading]:
    """One :class:`GroupReading` per non-empty group of :func:`catalog_groups`, read against a
    :func:`~spamits.robust.takedown_table` (its REAL rows; None or no REAL row: nothing was fitted to real counts).

    A real fit is read by its immediate change: a drop (interval below zero), a rise (above zero) or no clear
    change.  Groups without a real fit say nothing about the trap: their reported effects are vendor figures.
    """
    real_rows = table[table["data"] == REAL] if table is not None and "data" in table else pd.DataFrame()
    readings = []
    for group in GROUPS:
        part = groups[groups["group"] == group]
        if part.empty:
            continue
        fitted = part[part["status"] == "real fit"]
        supports: list[str] = []
        cannot: list[str] = []
        if not fitted.empty:
            ids = [i for r in fitted["real"] for i in r.split(", ")]
            rows = real_rows[real_rows["event"].str.removesuffix(REAL_SUFFIX).isin(ids)] if not real_rows.empty \
                else real_rows
            supports = [_reading(r) for r in rows.itertuples()]
            if not supports:
                cannot.append("real fits were asked for but none is in the table.")
            if len(fitted) < len(part):
                cannot.append(f"the other {len(part) - len(fitted)} events of the group have no real series; one "
                              "trap's fits do not stand for the group.")
            cannot += _group_caveat(group, rows)
        readings.append(GroupReading(group, len(part), int(part["simulated"].str.startswith("SIMULATED").sum()),
                                     len(fitted), tuple(supports), tuple(cannot)))
    return readings


def group_findings(groups: pd.DataFrame, table: pd.DataFrame | None = None) -> str:
    """:func:`group_readings` as text: per group its head line, then ``supports:`` and ``cannot:`` lines."""
    lines = []
    for r in group_readings(groups, table):
        lines.append(f"{r.head}:")
        if not r.real_fits:
            lines.append("  cannot: no event of this group was fitted to real counts, so the trap data say "
                         "nothing about it here; derive the counts for its months (README) to add its runs.")
            continue
        lines += [f"  supports: {line}" for line in r.supports]
        lines += [f"  cannot: {line}" for line in r.cannot]
    return "\n".join(lines)


def _reading(row: object) -> str:
    """One real fit in words: the event, its immediate change with interval and what that shows."""
    est, lo, hi = (100 * getattr(row, c) for c in ("immediate_change", "immediate_change_low",
                                                    "immediate_change_high"))
    what = "a drop" if hi < 0 else "a rise" if lo > 0 else "no clear change (the interval spans zero)"
    return f"{row.event}: immediate change {est:+.0f}% [{lo:+.0f}%, {hi:+.0f}%], {what} in the trap's counts."


def _group_caveat(group: str, rows: pd.DataFrame) -> list[str]:
    """What a group's real fits cannot show, from their readings."""
    if rows.empty:
        return []
    if group == "surges":
        seen = bool((rows["immediate_change_low"] > 0).any())
        return ["the trap saw the surge, so it does receive botnet malspam; that alone does not size a takedown's "
                "effect." if seen else "the trap did not show the surge, so a takedown row with no clear change "
                "may only mean the trap does not receive that botnet's mail."]
    if group == "pauses":
        return ["a pause shows what a drop with no intervention looks like; it does not show that any "
                "takedown worked."]
    return ["a drop at a takedown is not proof that the takedown caused it (compare the pauses); "
            "no clear change may mean the botnet's mail never reached this trap."]

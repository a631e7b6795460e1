"""Tables for people from an audit's counts and manifest: dating rules, lags, trap addresses, event windows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from spamits import events
from spamits._display import DisplayTable
from spamits.audit.counts import shown_path

MIN_DAYS, MAX_PRE, MAX_POST = 28, 90, 120
"""Fit windows on real counts: ``pre = min(MAX_PRE, counted days before)``, ``post = min(MAX_POST, counted days
from the event on)``, each at least ``MIN_DAYS`` days (counted days: the unbroken run of counted days next to the
event day, so a window never spans an uncounted month)."""
NEIGHBOUR_DAYS = 7
"""Other catalog events at least this many days inside an event's window are fitted jointly with it."""
RULES = {"received": "the trap's top Received: line", "date": "the Date: header", "name": "the entry name's epoch"}

def describe(series: pd.Series, manifest: dict) -> DisplayTable:
    """A (field, value) provenance table of counts and manifest (no machine-specific paths), shown in full."""
    a, m = series.attrs, manifest
    rows = [("data", m.get("data_note") or "REAL (read from file; no data note)"), ("file", shown_path(a["source"])),
            ("sha256", a["sha256"]), ("manifest", shown_path(a["manifest"]) or "none"), ("unit", a["unit"]),
            ("first period", str(series.index[0])), ("last period", str(series.index[-1])),
            ("months counted", f"{len(a['months'])} ({a['months'][0]} to {a['months'][-1]})"),
            ("periods not counted (missing)", str(int(series.isna().sum()))),
            ("messages", f"{np.nansum(series.to_numpy()):.0f}")]
    rows += [(k, str(m[k])) for k in ("format", "package", "method", "licence") if m.get(k)]
    return DisplayTable(pd.DataFrame(rows, columns=["field", "value"]).set_index("field"), caption="Real counts")


def dating_table(manifest: dict) -> pd.DataFrame:
    """Messages per dating rule: ``rule``, ``dated by``, ``messages``, ``share (%)`` (of the dated messages)."""
    dated = {**dict.fromkeys(RULES, 0), **(manifest.get("dated_by") or {})}
    total = sum(dated.values())
    rows = [(k, RULES.get(k, k), int(n), round(100 * n / total, 1) if total else np.nan) for k, n in dated.items()]
    return pd.DataFrame(rows, columns=["rule", "dated by", "messages", "share (%)"])


def lag_hours(manifest: dict) -> dict:
    """The manifest's ``lag_hours`` with defaults: ``n``, ``quantiles`` (hours), ``edges`` (hours), ``counts``."""
    lag = manifest.get("lag_hours") or {}
    return {"n": int(lag.get("n") or 0), "quantiles": lag.get("quantiles") or {}, "edges": lag.get("edges") or [],
            "counts": lag.get("counts") or []}


def lag_share(manifest: dict, hours: float) -> float | None:
    """Share (%) of the lag-measured messages whose lag is at least ``hours`` either way, from the manifest's
    histogram; None when no message has a lag or a histogram bin straddles ``±hours``."""
    lag = lag_hours(manifest)
    edges, counts = lag["edges"], lag["counts"]
    if not lag["n"] or len(counts) != len(edges) - 1 or sum(counts) != lag["n"]:
        return None
    beyond = 0
    for lo, hi, n in zip(edges[:-1], edges[1:], counts, strict=True):
        if lo >= hours or hi <= -hours:
            beyond += n
        elif n and not -hours <= lo < hi <= hours:
            return None
    return round(100 * beyond / lag["n"], 1)


def lag_table(manifest: dict) -> pd.DataFrame:
    """Lag of the entry name's epoch behind the top Received: time: ``statistic``, ``value``, ``unit``."""
    lag = lag_hours(manifest)
    rows = [("messages with both times", lag["n"], "messages")]
    rows += [(q, lag["quantiles"].get(q), "hours") for q in ("min", "p10", "p50", "p90", "max")]
    rows += [(f"lag of {h} h or more", lag_share(manifest, h), "% of those messages") for h in (1, 24)]
    rows = [(k, v if v is None or isinstance(v, int) else round(float(v), 2), u) for k, v, u in rows]
    return pd.DataFrame(rows, columns=["statistic", "value", "unit"], dtype=object)


def monthly_top(manifest: dict) -> list[tuple[str, list[tuple[str, int]]]]:
    """``[(month, [(address, messages), ...]), ...]``: the listed top trap addresses of each month, months sorted."""
    rec = manifest.get("recipients") or {}
    return [(m, [(str(a), int(n)) for a, n in rec[m]]) for m in sorted(rec) if rec[m]]


def recipient_shares(manifest: dict, series: pd.Series | None = None) -> pd.DataFrame:
    """One row per month and listed address: ``month``, ``address``, ``messages``, ``share (%)`` of the month's
    messages in ``series`` (when given; else of the month's listed addresses), ``leader`` (tied for the top)."""
    totals = series.groupby(series.index.to_period("M")).sum() if series is not None else None
    rows = []
    for month, top in monthly_top(manifest):
        base = float(totals.get(pd.Period(month, "M"), np.nan)) if totals is not None else sum(n for _, n in top)
        rows += [(month, a, n, round(100 * n / base, 1) if base else np.nan, n == top[0][1]) for a, n in top]
    return pd.DataFrame(rows, columns=["month", "address", "messages", "share (%)", "leader"])


def recipient_breaks(manifest: dict) -> list[dict]:
    """Months whose top trap address (first ``Delivered-To:``) differs from the previous counted month's.

    A change counts only when the previous top address is no longer among the month's leaders (ties kept).
    Each: ``month``, ``date`` (its first day), ``previous_month``, ``from``, ``to``, ``messages`` (to the new top).
    Such changes are structural breaks in volume that a takedown fit must not straddle unknowingly.
    """
    out, prev = [], None
    for month, top in monthly_top(manifest):
        leaders = [a for a, n in top if n == top[0][1]]
        if prev is not None and prev[1] not in leaders:
            out.append({"month": month, "date": f"{month}-01", "previous_month": prev[0], "from": prev[1],
                        "to": top[0][0], "messages": top[0][1]})
        prev = (month, prev[1] if prev is not None and prev[1] in leaders else top[0][0])
    return out


def recipient_table(manifest: dict, series: pd.Series | None = None) -> pd.DataFrame:
    """Per month: ``month``, ``top address``, ``messages`` to it, ``share (%)`` (see :func:`recipient_shares`),
    ``addresses listed`` (distinct, at most 5) and ``break`` (the top changed, see :func:`recipient_breaks`)."""
    shares = recipient_shares(manifest, series)
    table = shares.groupby("month", sort=True).agg(**{"top address": ("address", "first"), "messages": (
        "messages", "first"), "share (%)": ("share (%)", "first"), "addresses listed": ("address", "nunique")})
    table["break"] = table.index.isin([b["month"] for b in recipient_breaks(manifest)])
    return table.reset_index()


def event_windows(daily: pd.Series, events_frame: pd.DataFrame | None = None, *, min_days: int = MIN_DAYS,
                  max_pre: int = MAX_PRE, max_post: int = MAX_POST) -> pd.DataFrame:
    """The catalog events inside the span of ``daily`` counts and the fit window each can have.

    Columns: ``id``, ``name``, ``kind``, ``date``, ``days_before`` / ``days_after`` (unbroken counted days before
    the event day / from it on), ``pre_periods`` = min(max_pre, days_before), ``post_periods`` = min(max_post,
    days_after), ``fits`` (both at least ``min_days``), ``joint`` (catalog ids at least NEIGHBOUR_DAYS inside the
    window, the event included: fitted together) and ``reason`` (why not, else "").

    ``events_frame`` defaults to :func:`run_events` (the catalog with the ends of its pauses).  When it holds both
    ends of a pause (a row and its ``<id>-end`` row of :func:`spamits.events.with_ends`), the start's window stops
    before the end and the end's window starts after the start, so each end is fitted as one break of its own.
    """
    frame = run_events() if events_frame is None else events_frame
    caps = _episode_caps(frame)
    ok, index = daily.notna().to_numpy(), daily.index
    inside = frame[(frame["date"] >= index[0]) & (frame["date"] <= index[-1])].sort_values("date")
    rows = []
    for ev in inside.itertuples():
        pos = index.get_loc(pd.Timestamp(ev.date).normalize())
        before = pos - (np.flatnonzero(~ok[:pos])[-1] + 1 if (~ok[:pos]).any() else 0)
        after = int(np.argmin(ok[pos:])) if not ok[pos:].all() else len(ok) - pos
        cap_pre, cap_post = caps.get(ev.id, (max_pre, max_post))
        pre, post = min(max_pre, before, cap_pre), min(max_post, after, cap_post)
        fits = pre >= min_days and post >= min_days
        lo, hi = ev.date - pd.Timedelta(days=pre - NEIGHBOUR_DAYS), ev.date + pd.Timedelta(days=post - NEIGHBOUR_DAYS)
        near = frame[(frame["date"] >= lo) & (frame["date"] <= hi)].sort_values("date")["id"].tolist()
        reason = "" if fits else (f"{before} counted days before and {after} from the event on"
                                  + (f" (the other end of its pause {min(cap_pre, cap_post)} days away)"
                                     if ev.id in caps else "") + f"; a fit needs at least {min_days} on each side")
        rows.append((ev.id, ev.name, ev.kind, ev.date.date().isoformat(), int(before), int(after), int(pre),
                     int(post), fits, near if fits else [], reason))
    return pd.DataFrame(rows, columns=["id", "name", "kind", "date", "days_before", "days_after", "pre_periods",
                                       "post_periods", "fits", "joint", "reason"])


def run_events() -> pd.DataFrame:
    """The events fitted to real counts: the catalog with the end of each pause that has an ``end_date`` as an
    event of its own (``<id>-end``, see :func:`spamits.events.with_ends`).  A surge's end is left out: a decaying
    effect already lets the surge fade."""
    frame = events.with_ends(events.load())
    return frame[~((frame["phase"] == "end") & (frame["kind"] == "surge"))].reset_index(drop=True)


def _episode_caps(frame: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """``{id: (most days before, most days after)}`` for both ends of each pause in ``frame`` (none without a
    ``phase`` column): the days between its start and its end."""
    if "phase" not in frame.columns:
        return {}
    starts = frame.loc[frame["phase"] != "end"].set_index("id")["date"]
    caps: dict[str, tuple[int, int]] = {}
    for row in frame.loc[frame["phase"] == "end"].itertuples():
        stem = row.id.removesuffix(events.END_SUFFIX)
        if stem in starts.index:
            days = int((pd.Timestamp(row.date) - pd.Timestamp(starts[stem])).days)
            caps[stem], caps[row.id] = (MAX_PRE, days), (days, MAX_POST)
    return caps


# ----------------------------------------------------------------------------------------------- findings



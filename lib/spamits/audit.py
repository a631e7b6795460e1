"""Audit of spam-trap counts written by ``spamits data count``: what was counted, how it was dated, what it can fit.

* :func:`load_counts` reads a ``date,count`` CSV (daily ``YYYY-MM-DD`` or hourly ``YYYY-MM-DDTHH:00:00Z``, every
  period of each counted month present) and its ``<stem>.manifest.json``, checking the manifest's SHA-256.
* :func:`dating_table`, :func:`lag_table`, :func:`recipient_table` and :func:`recipient_breaks` turn the manifest
  into tables for people; :func:`event_windows` says which catalog events the counts can fit, with which window.
* :func:`findings` states the audit in plain computed sentences; :func:`to_dict` gives it all for ``results.json``.

Counts are messages per UTC period (messages per day or per hour); lags are hours (entry name's epoch minus the
trap's top ``Received:`` time).  No plotting here (see :mod:`spamits.audit_plots`).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from spamits import data, events, paths
from spamits._display import DisplayTable
from spamits.errors import DataValidationError

__all__ = ["MAX_POST", "MAX_PRE", "MIN_DAYS", "RULES", "as_markdown", "counts_file", "daily_from", "dating_table",
           "describe", "event_windows", "findings", "lag_hours", "lag_share", "lag_table", "load_counts",
           "monthly_top", "recipient_breaks", "recipient_shares", "recipient_table", "shown_path", "to_dict"]

MIN_DAYS, MAX_PRE, MAX_POST = 28, 90, 120
"""Fit windows on real counts: ``pre = min(MAX_PRE, counted days before)``, ``post = min(MAX_POST, counted days
from the event on)``, each at least ``MIN_DAYS`` days (counted days: the unbroken run of counted days next to the
event day, so a window never spans an uncounted month)."""
NEIGHBOUR_DAYS = 7
"""Other catalog events at least this many days inside an event's window are fitted jointly with it."""
RULES = {"received": "the trap's top Received: line", "date": "the Date: header", "name": "the entry name's epoch"}
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
    """
    frame = events.load() if events_frame is None else events_frame
    ok, index = daily.notna().to_numpy(), daily.index
    inside = frame[(frame["date"] >= index[0]) & (frame["date"] <= index[-1])].sort_values("date")
    rows = []
    for ev in inside.itertuples():
        pos = index.get_loc(pd.Timestamp(ev.date).normalize())
        before = pos - (np.flatnonzero(~ok[:pos])[-1] + 1 if (~ok[:pos]).any() else 0)
        after = int(np.argmin(ok[pos:])) if not ok[pos:].all() else len(ok) - pos
        pre, post = min(max_pre, before), min(max_post, after)
        fits = pre >= min_days and post >= min_days
        lo, hi = ev.date - pd.Timedelta(days=pre - NEIGHBOUR_DAYS), ev.date + pd.Timedelta(days=post - NEIGHBOUR_DAYS)
        near = frame[(frame["date"] >= lo) & (frame["date"] <= hi)].sort_values("date")["id"].tolist()
        reason = "" if fits else (f"{before} counted days before and {after} from the event on; a fit needs at "
                                  f"least {min_days} on each side")
        rows.append((ev.id, ev.name, ev.kind, ev.date.date().isoformat(), int(before), int(after), int(pre),
                     int(post), fits, near if fits else [], reason))
    return pd.DataFrame(rows, columns=["id", "name", "kind", "date", "days_before", "days_after", "pre_periods",
                                       "post_periods", "fits", "joint", "reason"])


# ----------------------------------------------------------------------------------------------- findings


def findings(series: pd.Series, manifest: dict, events_frame: pd.DataFrame | None = None) -> list[str]:
    """The audit in plain sentences, computed from the counts, their manifest and the event catalog.

    In order: what the data are (the manifest's ``data_note``, REAL first), months and messages, dating rules,
    the lag of name-based dating, changes of the top trap address, catalog events a fit can use, skipped entries,
    and the manifest's ``problems`` and ``edge_note`` when it has them.
    """
    attrs, total = series.attrs, float(np.nansum(series.to_numpy()))
    months, breaks = attrs["months"], recipient_breaks(manifest)
    note = manifest.get("data_note") or "REAL: counts read from a file (the manifest has no data note)"
    out = [f"{note} (file {Path(attrs['source']).name}).",
           f"{total:.0f} messages counted over {len(months)} months ({months[0]} to {months[-1]}), {attrs['unit']} "
           "(UTC)."]
    gaps = sum(len(pd.period_range(a, b, freq="M")) for a, b in attrs["gaps"])
    if gaps:
        out[-1] = out[-1][:-1] + f"; {gaps} months in that span were not counted and are left missing."
    empty = [m for m in months if m not in set(manifest.get("folders", months))]
    if empty:
        out[-1] += (f" {len(empty)} of these months have no folder in the archives read ({', '.join(empty[:3])}"
                    f"{', ...' if len(empty) > 3 else ''}): their zeros mean nothing was read, not that no spam came.")
    if manifest.get("messages") not in (None, round(total)):
        out[-1] += f" The manifest records {manifest['messages']} messages: it and the CSV disagree."
    dated = dating_table(manifest)
    n_dated, by_received = int(dated["messages"].sum()), int(dated["messages"].iloc[0])
    out.append("The manifest does not say how the messages were dated." if not n_dated else "Dating: " + ", ".join(
        f"{r['messages']} ({r['share (%)']:.1f}%) by {r['dated by']}" for _, r in dated.iterrows())
        + f"; the fallback rules dated {100 * (n_dated - by_received) / n_dated:.1f}% of messages.")
    out.append(_lag_sentence(manifest))
    tops = monthly_top(manifest)
    if not tops:
        out.append("The manifest lists no trap addresses (Delivered-To:), so changes of the trap cannot be seen.")
    elif not breaks:
        out.append(f"The top trap address is {tops[0][1][0][0]} in every counted month: no change of trap.")
    else:
        listed = "; ".join(f"{b['month']} ({b['from']} → {b['to']})" for b in breaks[:6])
        more = f"; and {len(breaks) - 6} more" if len(breaks) > 6 else ""
        out.append(f"The top trap address changes {'once' if len(breaks) == 1 else f'{len(breaks)} times'}: "
                   f"{listed}{more}. Each change is a structural break in volume: a takedown fit whose window "
                   "crosses one mixes the change of trap with the event.")
        if np.median([b["messages"] for b in breaks]) < 10:
            out[-1] += " Most of these months have fewer than 10 messages to their top address: many may be chance."
    out += _event_sentences(daily_from(series), events.load() if events_frame is None else events_frame, breaks)
    skipped = {k: int(v) for k, v in (manifest.get("skipped") or {}).items() if int(v)}
    reasons = manifest.get("skip_reasons") or {}
    if skipped:
        out.append(f"{sum(skipped.values())} entries were skipped and not counted: "
                   + "; ".join(f"{n} {reasons.get(k, k)}" for k, n in skipped.items()) + ".")
    elif "skipped" in manifest:
        out.append("No entry was skipped.")
    problems, notes = manifest.get("problems") or {}, manifest.get("problem_notes") or {}
    if any(problems.values()):
        out.append("Problems met in entries that were still counted: "
                   + "; ".join(f"{n} {notes.get(k, k)}" for k, n in problems.items() if n) + ".")
    if manifest.get("edge_note"):
        out.append(f"Edge of the counted span: {manifest['edge_note']}.")
    return out


def _lag_sentence(manifest: dict) -> str:
    lag = lag_hours(manifest)
    if "lag_hours" not in manifest:
        return "The manifest records no lag between the entry name's epoch and the top Received: time."
    if not lag["n"]:
        return ("No message has both a top Received: time and a name epoch: the lag of name-based dating cannot be "
                "measured, and the hourly counts rely on the Received: line alone.")
    q = {k: float("nan") if v is None else v for k, v in lag["quantiles"].items()}
    text = (f"Where both times are known ({lag['n']} messages), the entry name's epoch runs a median of "
            f"{q.get('p50', np.nan):.1f} h after the top Received: time (90th percentile {q.get('p90', np.nan):.1f} h,"
            f" maximum {q.get('max', np.nan):.1f} h)")
    day, hour = lag_share(manifest, 24), lag_share(manifest, 1)
    if day is None:
        return text + "; the hourly counts therefore rely on the Received: line."
    return (text + f"; dating by the name would put at least {day:.1f}% of them on another UTC day"
            + (f" and {hour:.1f}% in another hour" if hour is not None else "")
            + ", which is why the counts are dated by Received:.")


def _event_sentences(daily: pd.Series, frame: pd.DataFrame, breaks: list[dict]) -> list[str]:
    table = event_windows(daily, frame)
    first, last = daily.index[0], daily.index[-1]
    if table.empty:
        gap = (frame["date"] - last).where(frame["date"] > last, first - frame["date"]).dt.days
        near = frame.loc[gap.idxmin()]
        return [f"No catalog event falls inside the counted span ({first.date()} to {last.date()}), so these counts "
                f"cannot measure a takedown; the nearest is {near['id']} ({near['date'].date()}), {gap.min()} days "
                f"{'after the last' if near['date'] > last else 'before the first'} counted day: count months "
                "around it (e.g. spamits data fetch untroubled --from 2008-08 --to 2009-03)."]
    fit = table[table["fits"]]
    text = (f"Catalog events inside the counted span ({first.date()} to {last.date()}): {len(table)}; with at "
            f"least {MIN_DAYS} counted days before and after for a fit: {len(fit)}")
    if len(fit):
        text += " (" + "; ".join(f"{r.id} on {r.date}, {r.pre_periods} days before and {r.post_periods} from it"
                                 for r in fit.itertuples()) + ")"
    text += "." + "".join(f" Too few days for {r.id}: {r.reason}." for r in table[~table["fits"]].itertuples())
    if fit.empty:
        return [text, "No takedown fit is possible on these counts: count more months around the events."]
    meaning = (f"{'It' if len(fit) == 1 else 'Each of them'} can get a takedown fit on these real daily counts "
               f"(report runs untroubled-<id>, window of up to {MAX_PRE} days before and {MAX_POST} from the event; "
               "neighbours fitted jointly).")
    for r in fit.itertuples():
        date = pd.Timestamp(r.date)
        start, end = date - pd.Timedelta(days=r.pre_periods), date + pd.Timedelta(days=r.post_periods - 1)
        inside = [b["month"] for b in breaks if start < pd.Timestamp(b["date"]) <= end]
        if inside:
            meaning += f" The window of {r.id} contains a change of the top trap address ({', '.join(inside)})."
    return [text, meaning]


def as_markdown(lines: list[str]) -> str:
    """A Markdown bullet list of ``lines`` with Markdown's special characters escaped (text from data files)."""
    return "\n".join("- " + re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", line) for line in lines)


def to_dict(series: pd.Series, manifest: dict, events_frame: pd.DataFrame | None = None) -> dict:
    """Everything the audit shows, JSON-ready (not yet rounded: pass it through ``spamits.results.clean``)."""
    daily = daily_from(series)
    frame = events.load() if events_frame is None else events_frame
    attrs = series.attrs
    return {
        "data": {"source": shown_path(attrs.get("source")), "simulated": False, "sha256": attrs.get("sha256"),
                 "freq": attrs.get("freq"), "unit": attrs.get("unit"), "months": attrs.get("months"),
                 "gaps": attrs.get("gaps"), "start": series.index[0], "end": series.index[-1],
                 "messages": int(np.nansum(series.to_numpy())), "manifest_messages": manifest.get("messages"),
                 "data_note": manifest.get("data_note"), "manifest": shown_path(attrs.get("manifest"))},
        "daily": {"days_counted": int(daily.notna().sum()), "mean": float(daily.mean()), "max": float(daily.max())},
        "dating": dating_table(manifest).to_dict(orient="records"),
        "lag": {**lag_hours(manifest), "share_24h": lag_share(manifest, 24), "share_1h": lag_share(manifest, 1)},
        "recipients": recipient_table(manifest, series).to_dict(orient="records"),
        "recipient_breaks": recipient_breaks(manifest),
        "events": event_windows(daily, frame).to_dict(orient="records"),
        "findings": findings(series, manifest, frame),
    }

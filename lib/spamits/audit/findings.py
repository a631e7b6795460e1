"""The audit in plain computed sentences (:func:`findings`) and as JSON for ``results.json`` (:func:`to_dict`)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from spamits import events
from spamits.audit.counts import daily_from, shown_path
from spamits.audit.tables import (
    MAX_POST,
    MAX_PRE,
    MIN_DAYS,
    dating_table,
    event_windows,
    lag_hours,
    lag_share,
    monthly_top,
    recipient_breaks,
    recipient_table,
)


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
                    f"{', ...' if len(empty) > 3 else ''}): they hold only messages filed late, in the next "
                    f"month's folder, so their low counts mean little was read, not that little spam came.")
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


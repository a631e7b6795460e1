"""Findings of the robustness checks (``notebooks/robustness.ipynb``) and across takedowns
(``notebooks/compare_takedowns.ipynb``)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from spamits._display import fmt_date, fmt_p, fmt_pct
from spamits.findings._core import Findings, change_phrase, data_sentence, half_life_phrase, row

__all__ = ["across_findings", "robustness_findings"]


def robustness_findings(placebo: object, *, date_table: pd.DataFrame | None = None,
                        window_table: pd.DataFrame | None = None, scan: object = None,
                        catalog_date: object = None) -> Findings:
    """Findings of the robustness checks: the real estimate, placebo p-value, date and window sweeps, break date.

    ``placebo``: ``robust.placebo_in_time``; the tables: ``robust.date_sweep`` and ``robust.window_sweep``;
    ``scan``: ``robust.break_scan``; ``catalog_date``: the catalog's date of the event.
    """
    opening, data = data_sentence(placebo.simulated, "the series")
    if not placebo.simulated:
        opening = "REAL data: measured counts."
    lines, rows = [opening], []
    alpha = float(placebo.spec.get("alpha", 0.05))
    change = math.exp(placebo.observed) - 1
    n_big = int(np.sum(np.abs(placebo.table["estimate"]) >= abs(placebo.observed)))
    what = "immediate change" if placebo.term == "level" else "change of trend"
    floor = 1 / (1 + placebo.n)
    verdict = ("a change this large is rare at dates with no event, so it is unlikely to be chance"
               if placebo.p_value < alpha else
               "a change this large is common at dates with no event: the series alone cannot tell it from noise")
    lines.append(f"Placebo in time: {n_big} of {placebo.n} dates before {placebo.event} with no event gave an "
                 f"estimate as large as the real {what} ({fmt_pct(change)}); empirical p = {fmt_p(placebo.p_value)}"
                 + (" (the smallest possible with this many dates)" if placebo.p_value <= floor * 1.0001 else "")
                 + f": {verdict}.")
    rows.append(row("placebo p-value", placebo.p_value, unit="probability"))
    for table, by in ((date_table, "date"), (window_table, "window")):
        if table is not None and len(table):
            lines.append(_sweep_sentence(table, by))
    if scan is not None:
        lines.append(_break_sentence(scan, catalog_date, rows))
    lines.append("Caveat: placebo estimates at neighbouring dates share most of their data, so they are not "
                 "independent draws; the scans fit with 'ar1-sandwich' where 'ar1' was asked (see the summaries).")
    return Findings(data=data, lines=tuple(lines), table=pd.DataFrame(rows))


def _sweep_sentence(table: pd.DataFrame, by: str) -> str:
    level = table[table["term"] == "level"]
    if level.empty:
        return f"The {by} sweep has no immediate-change term to compare."
    pct = level["ratio"] - 1
    n_sig = int(((level["ci_high"] < 0) | (level["ci_low"] > 0)).sum())
    if by == "date":
        dates = pd.DatetimeIndex(level["date"])
        span = (f"the {len(level)} event dates the sources allow ({fmt_date(dates.min(), long=True)} to "
                f"{fmt_date(dates.max(), long=True)})")
    else:
        span = f"{len(level)} analysis windows"
    agree = ("every interval excludes zero" if n_sig == len(level)
             else f"the interval excludes zero in {n_sig} of {len(level)} fits")
    return (f"Across {span} the immediate change ranges from {fmt_pct(pct.min())} to {fmt_pct(pct.max())}; "
            f"{agree}.")


def _break_sentence(scan: object, catalog_date: object, rows: list) -> str:
    level = 100 * (1 - float(scan.spec.get("alpha", 0.05)))
    span = ("that day alone" if scan.date_low == scan.date_high else
            f"{fmt_date(scan.date_low, long=True)} to {fmt_date(scan.date_high, long=True)}")
    text = (f"Break date: the data put the sharpest level break on {fmt_date(scan.date, long=True)} ({level:.0f}% "
            f"confidence set: {span})")
    rows.append(row("break date offset from catalog (days)",
                    float((scan.date - pd.Timestamp(catalog_date)).days) if catalog_date is not None else np.nan,
                    unit="days", text=fmt_date(scan.date)))
    if catalog_date is None:
        return text + "."
    cat = pd.Timestamp(catalog_date)
    days = (scan.date - cat).days
    inside = scan.date_low <= cat <= scan.date_high
    rel = ("the catalog date itself" if days == 0 else
           f"{abs(days)} day{'s' if abs(days) != 1 else ''} {'after' if days > 0 else 'before'} the catalog date")
    return (f"{text}: {rel}, which is {'inside' if inside else 'outside'} the set"
            + ("." if inside else ", so the catalog date may be wrong or another change dominates."))


def across_findings(table: pd.DataFrame, groups: Sequence[object] = ()) -> Findings:
    """Findings across events from ``robust.takedown_table``: drops, recoveries, negative controls, caveats.

    ``groups`` (optional, :func:`spamits.robust.group_readings`): what the real fits of each era and kind support
    and what they cannot, one finding per group with a real fit, before the caveat."""
    data_kinds = set(table["data"]) if "data" in table else {"SIMULATED"}
    sim = "SIMULATED" in data_kinds
    real = table.loc[table["data"] == "REAL", "event"].tolist() if "data" in table else []
    if sim and real:
        opening = (f"SIMULATED data in every row but {', '.join(real)} (REAL, fitted to spam-trap counts): the "
                   "simulated rows show what the method recovers, not what happened to real spam.")
        data = "SIMULATED and REAL"
    elif sim:
        opening, data = data_sentence(True, "every series", "each event")
    else:
        opening, data = "REAL data: every row is fitted to measured spam counts.", "REAL"
    lines, rows = [opening], []
    take, pause = table[table["kind"] == "takedown"], table[table["kind"] == "pause"]
    clear = take[(take["immediate_change_high"] < 0) | (take["immediate_change_low"] > 0)]
    lines.append(f"Immediate effect: {len(clear)} of {len(take)} takedowns changed spam clearly (interval excludes "
                 "zero): " + (_changes(clear) if len(clear) else "none") + ".")
    unclear = take.drop(clear.index)
    if len(unclear):
        lines.append("No clear immediate change at " + _changes(unclear) + ".")
    for r in take.itertuples():
        rows.append(row(f"{r.event}: immediate change", r.immediate_change, r.immediate_change_low,
                        r.immediate_change_high, "fraction"))
    decay = take[(take["effect"] == "decay") & take.index.isin(clear.index)]
    if len(decay):
        recov = [f"{r.event}, " + half_life_phrase(r.half_life, r.half_life_low, r.half_life_high, r.unit,
                                                   at_bound=bool(r.half_life_at_bound)) for r in decay.itertuples()]
        lines.append("Recovery: " + "; ".join(recov) + ".")
        lasting = decay[decay["half_life_at_bound"] | ~np.isfinite(decay["half_life_high"].astype(float))]
        lines.append(f"Lasting effect: {len(lasting)} of {len(decay)} clear drops cannot rule one out"
                     + (f" ({', '.join(lasting['event'])})." if len(lasting) else
                        "; every other drop faded with a bounded half-life."))
    if len(pause):
        paused = [change_phrase(r.immediate_change, r.immediate_change_low, r.immediate_change_high)
                  for r in pause.itertuples()]
        lines.append("Negative controls (pauses with no intervention): " + "; ".join(
            f"{r.event}: {p[0][0].lower()}{p[0][1:]}" for r, p in zip(pause.itertuples(), paused, strict=True))
                     + (". A pause that looks like a takedown shows that a drop alone does not prove an intervention "
                        "worked." if any(p[1] for p in paused) else "."))
    lines += group_lines(groups)
    lines.append("Caveat: one series and one model per event; events close together share their series (fitted "
                 "jointly where listed); vendor figures behind the simulated effect sizes measure different things."
                 + (" Real counts come from one spam trap, whose volume also moves when the trap changes."
                    if real else ""))
    return Findings(data=data, lines=tuple(lines), table=pd.DataFrame(rows))


def group_lines(readings: Sequence[object]) -> list[str]:
    """One finding per group of :func:`spamits.robust.group_readings` that has a real fit (what it supports, then
    what it cannot), and one line naming the groups without any."""
    lines = [f"Group {r.head}: supports " + "; ".join(r.supports) + ("" if not r.cannot else
             "; cannot: " + " ".join(r.cannot)) for r in readings if r.real_fits]
    unfitted = [r.group for r in readings if not r.real_fits]
    if unfitted:
        lines.append(f"No real fit in {', '.join(unfitted)}: the trap data say nothing about these groups here; "
                     "derive the counts for their months (README) to add their runs.")
    return lines


def _changes(rows: pd.DataFrame) -> str:
    parts = []
    for r in rows.itertuples():
        a, b = sorted((abs(r.immediate_change_low), abs(r.immediate_change_high)))
        if r.immediate_change_high < 0:
            parts.append(f"{r.event} fell {fmt_pct(-r.immediate_change, sign=False)} ({fmt_pct(a, sign=False)} to "
                         f"{fmt_pct(b, sign=False)})")
        elif r.immediate_change_low > 0:
            parts.append(f"{r.event} rose {fmt_pct(r.immediate_change, sign=False)} ({fmt_pct(a, sign=False)} to "
                         f"{fmt_pct(b, sign=False)})")
        else:
            parts.append(f"{r.event} ({fmt_pct(r.immediate_change)}, interval {fmt_pct(r.immediate_change_low)} to "
                         f"{fmt_pct(r.immediate_change_high)})")
    return "; ".join(parts)


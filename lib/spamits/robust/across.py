"""Across takedowns: one fit per catalog event, a table of them and a plain-language answer."""

from __future__ import annotations

import numpy as np
import pandas as pd

from spamits import audit, data, events
from spamits import its as its_pkg
from spamits._labels import REAL, SIMULATED, is_simulated
from spamits.errors import DataValidationError, ModelSpecError
from spamits.robust._common import (
    HORIZON,
    _check_kwargs,
    _label,
)

# --- across takedowns ---------------------------------------------------------------------------------------

REAL_SUFFIX = f" ({REAL})"
"""Appended to the event id in the keys of :func:`fit_events` (and the ``event`` column of
:func:`takedown_table`) for fits to real counts, e.g. ``"mccolo (REAL)"``."""
TAKEDOWN_COLUMNS = ["event", "data", "name", "kind", "date", "effect", "immediate_change", "immediate_change_low",
                    "immediate_change_high", "half_life", "half_life_low", "half_life_high", "half_life_at_bound",
                    f"relative_{HORIZON}", f"relative_{HORIZON}_low", f"relative_{HORIZON}_high", "post_periods",
                    "unit"]


def takedown_table(fits: dict) -> pd.DataFrame:
    """One row per event from ``{event_id: ITSResult}``: immediate change, half-life and 30-period effect.

    Changes are fractions (-0.65 = 65% fewer messages) with their intervals; the half-life (periods) comes
    from a decay fit (NaN for other shapes), ``half_life_at_bound`` says the estimate reached the search bound
    (no recovery seen in the window).  ``kind`` is the catalog's ``takedown``, ``pause`` or ``surge``.  ``data``
    is REAL or SIMULATED (the fit's series); a key ``"<event_id> (REAL)"`` (a real fit of :func:`fit_events`) is the
    row's ``event``.  The columns are named SIMULATED when any row is.
    """
    if not isinstance(fits, dict) or not fits:
        raise ModelSpecError("takedown_table: fits must be a non-empty dict {event_id: ITSResult}")
    rows = [_takedown_row(label, result) for label, result in fits.items()]
    sim = any(r.simulated for r in fits.values())
    table = _label(pd.DataFrame(rows, columns=TAKEDOWN_COLUMNS), sim)
    table.attrs["source"] = _sources(fits)
    return table


def _sources(fits: dict) -> str:
    """One line naming where every row's series comes from (for the forest plot's caption)."""
    simulated = [label for label, r in fits.items() if r.simulated]
    seeds = sorted({str(r.frame.attrs.get("seed", "?")) for r in fits.values() if r.simulated})
    parts = []
    if simulated:
        parts.append(f"{SIMULATED} series from spamits.data.simulate, one scenario per event (seed "
                     f"{', '.join(seeds)})")
    real = sorted({str(r.frame.attrs.get("source", "")).rsplit("/", 1)[-1] for r in fits.values() if not r.simulated})
    if real:
        parts.append(f"{REAL} spam-trap counts ({', '.join(real)})")
    return "; ".join(parts) + "; event dates from data/events.csv"


def _takedown_row(label: str, result: object) -> dict:
    event_id = label.removesuffix(REAL_SUFFIX)
    if event_id not in result.events:
        raise ModelSpecError(f"takedown_table: {event_id!r} is not an event of its fit ({result.events})")
    ev = events.get(event_id)
    eff = result.effects[result.effects["event"] == event_id].set_index("term")
    row = {"event": label, "data": SIMULATED if result.simulated else REAL, "name": ev.name, "kind": ev.kind,
           "date": ev.date.date().isoformat(), "unit": result.unit, "post_periods": result.n_post}
    level = eff.loc["level"] if "level" in eff.index else None
    row["effect"] = "decay" if "half_life" in eff.index else ("step" if level is not None else "slope")
    for key, col in (("immediate_change", "ratio"), ("immediate_change_low", "ratio_low"),
                     ("immediate_change_high", "ratio_high")):
        row[key] = float(level[col]) - 1 if level is not None else np.nan
    half = eff.loc["half_life"] if "half_life" in eff.index else None
    for key, col in (("half_life", "estimate"), ("half_life_low", "ci_low"), ("half_life_high", "ci_high")):
        row[key] = float(half[col]) if half is not None else np.nan
    row["half_life_at_bound"] = bool(half is not None and "upper" in result.decay_at_bound.get(event_id, ()))
    impact = result.impact(start=ev.date, end=ev.date + pd.Timedelta(days=HORIZON - 1), events=[event_id])
    row.update({f"relative_{HORIZON}": impact["relative"], f"relative_{HORIZON}_low": impact["relative_low"],
                f"relative_{HORIZON}_high": impact["relative_high"]})
    return row


def cross_takedown_summary(table: pd.DataFrame) -> str:
    """A plain-language answer across events (from :func:`takedown_table`), with its caveats."""
    sim = is_simulated(table)
    take = table[table["kind"] == "takedown"]
    pause = table[table["kind"] == "pause"]
    real = table.loc[table["data"] == REAL, "event"].tolist() if "data" in table else []
    lines = []
    if sim and real:
        lines.append(f"{SIMULATED} DATA in every row not marked {REAL}: those series are simulated from the figures "
                     "reported for each event, so they show what the method recovers, not what happened to real "
                     "spam.")
    elif sim:
        lines.append(f"{SIMULATED} DATA: every series here is simulated from the figures reported for each "
                     "event, so this shows what the method recovers, not what happened to real spam.")
    if real:
        lines.append(f"{REAL} DATA: {', '.join(real)} {'is' if len(real) == 1 else 'are'} fitted to real spam "
                     "counts (a spam trap's messages per day), each with the window its counts allow.")
    drops = take[take["immediate_change_high"] < 0]
    lines.append(f"Immediate effect: {len(drops)} of {len(take)} takedowns cut spam right away (interval below "
                 "zero): " + _list(drops, "immediate_change") + ".")
    decay = take[take["effect"] == "decay"]
    bounded = np.isfinite(decay["half_life_high"].to_numpy(dtype=float))
    long_ = decay["half_life_at_bound"] | (decay["half_life"] > decay["post_periods"])
    recovering, lasting = decay[bounded & ~long_], decay[long_]
    unclear = decay[~bounded & ~long_]
    if len(recovering):
        lines.append("Spam came back (half-life interval bounded) after " + _list_half(recovering) + ".")
    if len(lasting):
        lines.append("No recovery within the window (half-life longer than the post-period) after "
                     + _list_half(lasting) + ".")
    if len(unclear):
        lines.append("The data cannot bound how fast spam came back after " + _list_half(unclear) + ".")
    if (take["effect"] != "decay").any():
        lines.append("Fits without a decay term give no half-life: "
                     + ", ".join(take.loc[take["effect"] != "decay", "event"]) + ".")
    if len(pause):
        lines.append("Negative controls (pauses with no intervention): " + _list(pause, "immediate_change") +
                     "; a pause that looks like a takedown shows that a drop alone does not prove an intervention"
                     " worked.")
    surge = table[table["kind"] == "surge"]
    if len(surge):
        lines.append("Positive controls (surges, no intervention): " + _list(surge, "immediate_change") + "; a surge "
                     "the data show is a rise the method can see; one it misses makes a missing drop elsewhere "
                     "uninformative.")
    lines.append("Caveats: one series per event and one model each; events close together share their series "
                 "(fitted jointly where listed); half-life intervals that reach the search bound mean the data "
                 "cannot rule out a lasting effect; vendor figures behind the effect sizes measure different "
                 "things." + (" Real counts come from one spam trap, whose volume also moves when the trap itself "
                              "changes (see the trap audit)." if real else ""))
    return "\n".join(lines)


def data_label(table: pd.DataFrame) -> str:
    """What the rows of a :func:`takedown_table` are: ``"SIMULATED"``, ``"REAL"`` or ``"SIMULATED and REAL"``."""
    kinds = [k for k in (SIMULATED, REAL) if (table["data"] == k).any()] if "data" in table else [SIMULATED]
    return " and ".join(kinds)


def _list(rows: pd.DataFrame, col: str) -> str:
    if rows.empty:
        return "none"
    return ", ".join(f"{r.event} {100 * getattr(r, col):+.0f}% [{100 * getattr(r, col + '_low'):+.0f}%, "
                     f"{100 * getattr(r, col + '_high'):+.0f}%]" for r in rows.itertuples())


def _list_half(rows: pd.DataFrame) -> str:
    return ", ".join(f"{r.event} (half-life {r.half_life:.1f} {r.unit}, interval {r.half_life_low:.1f} to "
                     f"{r.half_life_high:.1f})" for r in rows.itertuples())


def fit_events(event_ids: list[str], *, series: dict | None = None, joint_events: dict | None = None, seed: int = 0,
               pre_periods: int = 365, post_periods: int = 180, real_series: dict | None = None,
               **fit_kwargs: object) -> dict:
    """One ``its.fit`` per catalog event: ``{event_id: ITSResult}``, then ``{"<event_id> (REAL)": ITSResult}``.

    Each event's series is ``data.load(series.get(id, id), seed=seed)`` (by default the simulated scenario of
    the same name) cut to ``pre_periods`` before and ``post_periods`` from the event; ``joint_events[id]``
    (a list of catalog ids, the event among them) are fitted together in that series, each with ``effect``.

    ``real_series`` ``{event_id: counts}`` adds a fit of each event to real counts (``"untroubled"`` or the path
    of a ``spamits data count`` CSV, daily or hourly, read by :func:`spamits.audit.load_counts` and summed to
    days), with the window those counts allow (:func:`spamits.audit.event_windows`: up to 90 days before and 120
    from the event, at least 28 each side, the catalog events inside it fitted jointly); ``pre_periods``,
    ``post_periods`` and ``joint_events`` do not apply to them.  An event the counts cannot fit raises
    :class:`~spamits.errors.DataValidationError` with the reason.
    """
    _check_kwargs("fit_events", fit_kwargs)
    if not isinstance(event_ids, list | tuple) or not event_ids:
        raise ModelSpecError(f"fit_events: event_ids={event_ids!r} must be a non-empty list of catalog ids")
    series, joint_events = dict(series or {}), dict(joint_events or {})
    out = {}
    for event_id in event_ids:
        ev = events.get(event_id)
        joint = list(joint_events.get(event_id) or [event_id])
        if event_id not in joint:
            raise ModelSpecError(f"fit_events: joint_events[{event_id!r}]={joint} must include {event_id!r}")
        y = data.window(data.load(series.get(event_id, event_id), seed=seed), ev.date, pre=pre_periods,
                        post=post_periods)
        out[event_id] = its_pkg.fit(y, [events.get(e) for e in joint], **fit_kwargs)
    windows: dict[str, tuple[pd.Series, pd.DataFrame]] = {}
    for event_id, source in dict(real_series or {}).items():
        ev = events.get(event_id)
        if str(source) not in windows:
            daily = audit.daily_from(audit.load_counts(source)[0])
            windows[str(source)] = (daily, audit.event_windows(daily, audit.run_events()).set_index("id"))
        daily, table = windows[str(source)]
        row = table.loc[ev.id] if ev.id in table.index else None
        if row is None or not row["fits"]:
            reason = row["reason"] if row is not None else (f"the event is outside the counted span "
                                                            f"{daily.index[0].date()} to {daily.index[-1].date()}")
            raise DataValidationError(f"fit_events: real_series[{event_id!r}] = {source!r}: {reason}")
        y = data.window(daily, ev.date, pre=int(row["pre_periods"]), post=int(row["post_periods"]))
        out[f"{ev.id}{REAL_SUFFIX}"] = its_pkg.fit(y, [events.get(e) for e in row["joint"]], **fit_kwargs)
    return out


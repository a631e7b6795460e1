"""Date and window sweeps: refits over the catalog's date range and over pre/post window lengths."""

from __future__ import annotations

import numpy as np
import pandas as pd

from spamits import data, events
from spamits import its as its_pkg
from spamits._labels import SIMULATED, is_simulated
from spamits.errors import ModelSpecError
from spamits.robust._common import (
    EFFECT_COLUMNS,
    HORIZON,
    _check_kwargs,
    _event_date,
    _label,
)

# --- date and window sweeps --------------------------------------------------------------------------------


def _with_source(table: pd.DataFrame, y: pd.Series) -> pd.DataFrame:
    """The swept series' source on the table (``attrs["source"]``), for the figures' captions."""
    if y.attrs.get("source"):
        table.attrs["source"] = str(y.attrs["source"])
    return table


def _fit_rows(result: object, label: str, extra: dict) -> list[dict]:
    """Tidy rows of one fit: every effect term of ``label`` plus the relative effect over HORIZON periods."""
    eff = result.effects
    table = result.impact_table(horizons=(HORIZON,))
    first = table[table["window"].str.startswith("first")]
    rel = {f"relative_{HORIZON}": np.nan, f"relative_{HORIZON}_low": np.nan, f"relative_{HORIZON}_high": np.nan}
    if len(first):
        row = first.iloc[0]
        rel = {f"relative_{HORIZON}": row["relative"], f"relative_{HORIZON}_low": row["relative_low"],
               f"relative_{HORIZON}_high": row["relative_high"]}
    rows = []
    for r in eff[eff["event"] == label].itertuples(index=False):
        rows.append({**extra, "term": r.term, **{c: getattr(r, c) for c in EFFECT_COLUMNS}, **rel})
    return rows


def date_sweep(y: pd.Series, event: object, **fit_kwargs: object) -> pd.DataFrame:
    """Refit ``its.fit`` with the event on every day from ``event.date_lo`` to ``event.date_hi`` (inclusive).

    ``event``: a catalog Event or id (``spamits.events.get``).  Returns a tidy table: ``date``, ``catalog``
    (True on the catalog's best date), ``term`` (every effect term of the fit), ``estimate``, ``ci_low``,
    ``ci_high``, ``p_value``, ``ratio``, ``ratio_low``, ``ratio_high``, and the relative effect over the first
    30 periods with its interval (``relative_30``, ``relative_30_low``, ``relative_30_high``; the same on
    every term row of a date).
    """
    _check_kwargs("date_sweep", fit_kwargs)
    ev = events.get(event) if isinstance(event, str) else event
    if not all(hasattr(ev, a) for a in ("date", "date_lo", "date_hi")):
        raise ModelSpecError(f"date_sweep: event={event!r} needs date_lo and date_hi; pass a catalog Event or id "
                             "(spamits.events.get)")
    days = pd.date_range(ev.date_lo, ev.date_hi, freq="D")
    rows = []
    for day in days:
        result = its_pkg.fit(y, day, **fit_kwargs)
        rows += _fit_rows(result, result.events[0], {"date": day, "catalog": bool(day == pd.Timestamp(ev.date))})
    return _with_source(_label(pd.DataFrame(rows), bool(y.attrs.get("simulated", False))), y)


def window_sweep(y: pd.Series, event: object, *, pre: tuple[int, ...] = (120, 240, 365),
                 post: tuple[int, ...] = (60, 120, 180), **fit_kwargs: object) -> pd.DataFrame:
    """Refit over every combination of ``pre`` and ``post`` window lengths (periods; ``data.window``).

    ``y`` is the whole series; each fit uses ``data.window(y, event.date, pre=, post=)``.  Every combination
    must fit in the series (the error names the window that does not).  Returns a tidy table: ``pre``,
    ``post``, ``term``, the effect columns and ``relative_30`` with its interval, as :func:`date_sweep`.
    """
    _check_kwargs("window_sweep", fit_kwargs)
    date, _ = _event_date(event, "window_sweep")
    for name, values in (("pre", pre), ("post", post)):
        if not isinstance(values, list | tuple) or not values or not all(
                isinstance(v, int | np.integer) and v >= 1 for v in values):
            raise ModelSpecError(f"window_sweep: {name}={values!r} must be a non-empty list of ints >= 1 (periods)")
    rows = []
    for n_pre in pre:
        for n_post in post:
            yw = data.window(y, date, pre=int(n_pre), post=int(n_post))
            result = its_pkg.fit(yw, event, **fit_kwargs)
            rows += _fit_rows(result, result.events[0], {"pre": int(n_pre), "post": int(n_post),
                                                         "window": f"{n_pre} pre / {n_post} post"})
    return _with_source(_label(pd.DataFrame(rows), bool(y.attrs.get("simulated", False))), y)


def describe_sweep(table: pd.DataFrame, *, by: str) -> str:
    """A sentence on how much the immediate change moves across a date or window sweep (``by`` a column)."""
    level = table[table["term"] == "level"]
    if level.empty:
        return "The fits have no immediate-change (level) term to compare."
    pct = 100 * (level["ratio"] - 1)
    sig = int((level["ci_high"] < 0).sum() + (level["ci_low"] > 0).sum())
    sim = f"{SIMULATED} data. " if is_simulated(table) else ""
    what = {"date": "event dates", "window": "windows"}.get(by, by)
    return (f"{sim}Across {len(level)} {what} the immediate change ranges from {pct.min():+.1f}% to "
            f"{pct.max():+.1f}%; its interval excludes zero in {sig} of {len(level)} fits.")


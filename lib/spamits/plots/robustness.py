"""Figures of the robustness checks (``notebooks/robustness.ipynb``, :mod:`spamits.robust`): placebo dates,
date and window sweeps, the break scan.  Result tables in, figures out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from spamits._labels import is_simulated
from spamits.plots.style import (
    COLORS,
    caption_source,
    event_line,
    finish,
    iso_dates,
    rounded,
    sim_label,
    sim_title,
)

__all__ = ["fig_break_scan", "fig_placebo", "fig_sweep"]


def _pct(values: object) -> np.ndarray:
    """Log changes to percent changes: 100·(exp(x) - 1)."""
    return 100 * (np.exp(np.asarray(values, dtype=float)) - 1)


def fig_placebo(result: object, *, bins: int = 40, title: str | None = None, source: str | None = None) -> go.Figure:
    """Histogram of the placebo estimates (percent change) with the real event's estimate marked.

    ``result`` is a ``spamits.robust.PlaceboResult``; the empirical p-value is in the observed line's label.
    """
    sim = bool(result.simulated)
    per = " per period" if result.term == "slope" else ""
    fig = go.Figure(go.Histogram(x=rounded(_pct(result.table["estimate"]), 2), nbinsx=bins,
                                 name=sim_label(f"placebo dates (n = {result.n})", sim), marker_color="#9dc3e6"))
    observed = round(float(_pct(result.observed)), 2)
    fig.add_trace(go.Scatter(x=[observed, observed], y=[0, 1], yaxis="y2", mode="lines",
                             line={"color": COLORS["counterfactual"], "width": 2},
                             name=sim_label(f"{result.event} {result.event_date.date()} ({observed:+.1f}%; "
                                         f"p = {result.p_value:.3f})", sim)))
    fig.update_layout(yaxis2={"overlaying": "y", "range": [0, 1], "visible": False})
    title = title or f"Placebo-in-time test of {result.event}: estimates at dates with no event"
    return finish(fig, title=sim_title(title, sim), y_title="placebo dates (count)",
                   x_title=f"estimated {'immediate change' if result.term == 'level' else 'trend change'} "
                           f"(%{per})", source=source or caption_source(result.table, result.source or None))


def fig_sweep(table: pd.DataFrame, *, x: str, term: str = "level", title: str | None = None,
              source: str | None = None) -> go.Figure:
    """Estimate of ``term`` (percent change) with its interval across a date or window sweep.

    ``table`` is ``robust.date_sweep`` (``x="date"``; the catalog date is drawn in red) or
    ``robust.window_sweep`` (``x="window"``); the 30-period relative effect and its interval are shown too.
    """
    sim = is_simulated(table)
    rows = table[table["term"] == term]
    if x == "date":
        xs = [pd.Timestamp(d).date().isoformat() for d in rows["date"]]
        x_title = "event date used (UTC)"
    else:
        xs = [str(v) for v in rows[x]]
        x_title = "analysis window (periods before / from the event)" if x == "window" else x
    est, lo, hi = (_pct(rows[c]) for c in ("estimate", "ci_low", "ci_high"))
    colors = [COLORS["counterfactual"] if x == "date" and c else COLORS["observed"]
              for c in rows.get("catalog", pd.Series(False, index=rows.index))]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=xs, y=rounded(est), mode="markers", name=sim_label("immediate change", sim),
                             marker={"color": colors, "size": 10},
                             error_y={"type": "data", "symmetric": False, "array": rounded(hi - est),
                                      "arrayminus": rounded(est - lo)}))
    rel = rows["relative_30"].to_numpy(dtype=float)
    if np.isfinite(rel).any():
        fig.add_trace(go.Scatter(x=xs, y=rounded(100 * rel), mode="markers", name=sim_label("first 30 days", sim),
                                 marker={"color": "#7f7f7f", "size": 8, "symbol": "diamond"},
                                 error_y={"type": "data", "symmetric": False,
                                          "array": rounded(100 * (rows["relative_30_high"] - rel)),
                                          "arrayminus": rounded(100 * (rel - rows["relative_30_low"]))}))
    fig.add_hline(y=0, line={"color": "#333", "width": 1})
    if x == "date":  # a few whole days: one tick each, no times of day
        fig.update_xaxes(type="category")
    title = title or ("Estimate by event date within the sources' range" if x == "date"
                      else "Estimate by analysis window")
    return finish(fig, title=sim_title(title, sim), y_title="change in spam (%)", x_title=x_title,
                   source=source or caption_source(table, None))


def fig_break_scan(result: object, *, catalog_date: object = None, title: str | None = None,
                   source: str | None = None) -> go.Figure:
    """Likelihood-ratio statistic by candidate break date, the confidence set shaded, the catalog date marked.

    An hourly scan (``result.hourly``) keeps the hour of every date (x axis and legend)."""
    sim = bool(result.simulated)
    table = result.table
    hourly = bool(getattr(result, "hourly", False))

    def x(when: object) -> str:
        return pd.Timestamp(when).strftime("%Y-%m-%dT%H:%M") if hourly else pd.Timestamp(when).date().isoformat()

    def text(when: object) -> str:
        return pd.Timestamp(when).strftime("%Y-%m-%d %H:%M") if hourly else str(pd.Timestamp(when).date())

    fig = go.Figure()
    fig.add_vrect(x0=x(result.date_low), x1=x(result.date_high), fillcolor=COLORS["band"], line_width=0,
                  layer="below")
    xs = [x(d) for d in table["date"]] if hourly else iso_dates(pd.DatetimeIndex(table["date"]))
    fig.add_trace(go.Scatter(x=xs, y=rounded(table["statistic"]),
                             mode="lines", name=sim_label("likelihood-ratio statistic", sim),
                             line={"color": COLORS["observed"], "width": 1.2}))
    fig.add_trace(go.Scatter(x=[x(result.date)], y=[round(float(result.statistic), 2)],
                             mode="markers", marker={"color": COLORS["counterfactual"], "size": 10},
                             name=sim_label(f"best {'hour' if hourly else 'date'} {text(result.date)} (set "
                                            f"{text(result.date_low)} to {text(result.date_high)})", sim)))
    if catalog_date is not None:
        event_line(fig, catalog_date, f"catalog {text(catalog_date)}")
    title = title or "Where does the data put the break? Likelihood profile over candidate dates"
    return finish(fig, title=sim_title(title, sim), y_title="likelihood-ratio statistic (unitless)",
                   x_title="candidate break date (UTC)", source=source or caption_source(table, result.source or None))

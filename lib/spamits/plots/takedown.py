"""Figures of one takedown's fit (``notebooks/takedown_its.ipynb``): the series, the counterfactual, residual
autocorrelation and the relative effect by period.  Tables in (``result.frame``, diagnostics), figures out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from spamits.plots.style import (
    COLORS,
    band_trace,
    caption_source,
    event_line,
    finish,
    is_simulated,
    iso_dates,
    rounded,
    sim_label,
    sim_title,
)

__all__ = ["fig_acf", "fig_counterfactual", "fig_effect_path", "fig_series"]


def fig_series(y: pd.Series, *, event_date: object = None, event_label: str = "event", title: str | None = None,
               unit: str | None = None, source: str | None = None, bursts: pd.DataFrame | None = None) -> go.Figure:
    """The raw series (one point per period) with the event date marked.

    ``bursts`` (optional, ``PreCheck.bursts`` of :func:`spamits.its.precheck`: columns ``date`` and
    ``observed``): the pre-period burst periods, marked on the series."""
    sim = is_simulated(y)
    unit = unit or y.attrs.get("unit", "messages per day")
    fig = go.Figure(go.Scatter(x=iso_dates(y.index), y=rounded(y), mode="lines", name=sim_label("observed", sim),
                               line={"color": COLORS["observed"], "width": 1.2}))
    if bursts is not None and len(bursts):
        fig.add_trace(go.Scatter(x=iso_dates(pd.DatetimeIndex(bursts["date"])), y=rounded(bursts["observed"]),
                                 mode="markers", name=sim_label("burst period (pre-period check)", sim),
                                 marker={"color": COLORS["bound"], "size": 8, "symbol": "x"}))
    event_line(fig, event_date, event_label)
    return finish(fig, title=sim_title(title or y.attrs.get("title", "Spam volume"), sim), y_title=f"spam ({unit})",
                   x_title="date (UTC)", source=caption_source(y, source))


def fig_counterfactual(frame: pd.DataFrame, *, event_date: object = None, event_label: str = "event",
                       title: str = "Observed spam and the counterfactual without the takedown",
                       unit: str | None = None, level: int = 95, source: str | None = None,
                       breaks: tuple = ()) -> go.Figure:
    """Observed series, fitted values and the counterfactual with its predictive band (``result.frame``).

    ``breaks``: dates of pre-period breaks the fit modelled as nuisance events (``result.nuisance_dates``),
    marked in grey; they stay in the counterfactual."""
    sim = is_simulated(frame)
    unit = unit or frame.attrs.get("unit", "messages per day")
    x = iso_dates(frame.index)
    fig = go.Figure()
    fig.add_trace(band_trace(x, frame, level, sim))
    fig.add_trace(go.Scatter(x=x, y=rounded(frame["observed"]), mode="lines", name=sim_label("observed", sim),
                             line={"color": COLORS["observed"], "width": 1.2}))
    fig.add_trace(go.Scatter(x=x, y=rounded(frame["fitted"]), mode="lines", name=sim_label("fitted", sim),
                             line={"color": COLORS["fitted"], "width": 1}))
    fig.add_trace(go.Scatter(x=x, y=rounded(frame["counterfactual"]), mode="lines",
                             name=sim_label("counterfactual (no takedown)", sim),
                             line={"color": COLORS["counterfactual"], "width": 1.5, "dash": "dot"}))
    for when in breaks:
        event_line(fig, when, "pre-period break (modelled)", COLORS["nuisance"])
    event_line(fig, event_date, event_label)
    return finish(fig, title=sim_title(title, sim), y_title=f"spam ({unit})", x_title="date (UTC)",
                   source=caption_source(frame, source))


def fig_acf(table: pd.DataFrame, n_obs: int, *, simulated: bool = False, unit: str = "days",
            title: str = "Residual autocorrelation", source: str = "model residuals") -> go.Figure:
    """Bars of the residual ACF and PACF (``diagnostics()['acf']``) with ±1.96/√n bounds."""
    bound = round(1.96 / np.sqrt(n_obs), 4)
    lags = [int(v) for v in table["lag"]]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=lags, y=rounded(table["acf"], 4), name=sim_label("ACF", simulated),
                         marker_color=COLORS["bar"]))
    fig.add_trace(go.Bar(x=lags, y=rounded(table["pacf"], 4), name=sim_label("PACF", simulated),
                         marker_color="#9dc3e6"))
    for sign in (1, -1):
        fig.add_shape(type="line", x0=0.5, x1=max(lags) + 0.5, y0=sign * bound, y1=sign * bound,
                      line={"color": COLORS["bound"], "dash": "dash", "width": 1})
    fig = finish(fig, title=sim_title(title, simulated), y_title="correlation (unitless)",
                  x_title=f"lag ({unit})", source=source)
    fig.update_layout(barmode="group")
    return fig


def fig_effect_path(frame: pd.DataFrame, *, start: object, title: str = "Relative effect by period",
                    level: int = 95, source: str | None = None) -> go.Figure:
    """Pointwise relative effect ``observed/counterfactual - 1`` in percent from ``start`` on."""
    sim = is_simulated(frame)
    post = frame.loc[pd.Timestamp(start):]
    x = iso_dates(post.index)
    rel = 100 * (post["observed"] / post["counterfactual"] - 1)
    lo = 100 * (post["observed"] / post["counterfactual_high"] - 1)
    hi = 100 * (post["observed"] / post["counterfactual_low"] - 1)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x + x[::-1], y=rounded(hi) + rounded(lo)[::-1], fill="toself",
                             fillcolor=COLORS["band"], line={"width": 0}, hoverinfo="skip",
                             name=sim_label(f"{level}% band", sim)))
    fig.add_trace(go.Scatter(x=x, y=rounded(rel), mode="lines", name=sim_label("observed vs counterfactual", sim),
                             line={"color": COLORS["observed"], "width": 1.2}))
    fig.add_hline(y=0, line={"color": "#333", "width": 1})
    return finish(fig, title=sim_title(title, sim), y_title="relative effect (%)", x_title="date (UTC)",
                   source=caption_source(frame, source))

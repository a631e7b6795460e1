"""Figures of the spam-trap audit (``notebooks/trap_audit.ipynb``): ``fig_*(counts_or_manifest) -> go.Figure``.

Tables come from :mod:`spamits.audit`.  Same conventions as the other figures (:mod:`spamits.plots.style`):
units on the axes, the source file in a caption, REAL in the title (these are real trap counts, never simulated),
plotted numbers rounded and written as plain lists so a figure's JSON is the same from run to run.  Builders never
read files or fit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from spamits import audit
from spamits._labels import REAL
from spamits.errors import DataValidationError
from spamits.plots.style import COLORS, finish, rounded

__all__ = ["REAL", "fig_daily", "fig_dating", "fig_hourly", "fig_lag", "fig_recipients"]

_TOP_COLORS = ["#1f4e79", "#c0392b", "#27ae60", "#8e44ad", "#d68910", "#7f8c8d", "#17a589", "#a04000"]


def _finish(fig: go.Figure, *, title: str, y_title: str, x_title: str, source: str) -> go.Figure:
    return finish(fig, title=f"{REAL}: {title}", y_title=y_title, x_title=x_title, source=source)


def _source(series: pd.Series | None = None, manifest: dict | None = None) -> str:
    name = Path(series.attrs.get("source", "")).name if series is not None else (manifest or {}).get("file", "")
    return f"{name or 'file not recorded'} (real spam-trap counts, spamits data count)"


def _vline(fig: go.Figure, x: str, label: str, *, dash: str = "dash", color: str = COLORS["event"]) -> None:
    fig.add_shape(type="line", x0=x, x1=x, xref="x", yref="paper", y0=0, y1=1,
                  line={"color": color, "dash": dash, "width": 1})
    if label:
        fig.add_annotation(x=x, y=1, xref="x", yref="paper", text=label, showarrow=False, yanchor="bottom",
                           font={"size": 11})


def fig_daily(daily: pd.Series, *, events_frame: pd.DataFrame | None = None) -> go.Figure:
    """Messages per UTC day (uncounted months are gaps), catalog events inside the span as dashed lines."""
    fig = go.Figure(go.Scatter(x=[d.date().isoformat() for d in daily.index], y=rounded(daily, 0), mode="lines",
                               connectgaps=False, name="messages per day (real trap counts)",
                               line={"color": COLORS["observed"], "width": 1.2}))
    if events_frame is not None:
        inside = events_frame[(events_frame["date"] >= daily.index[0]) & (events_frame["date"] <= daily.index[-1])]
        for ev in inside.sort_values("date").itertuples():
            _vline(fig, ev.date.date().isoformat(), ev.id)
    return _finish(fig, title="spam-trap messages per day", y_title="spam (messages per day)",
                   x_title="date (UTC)", source=_source(daily))


def fig_hourly(series: pd.Series) -> go.Figure:
    """Messages per UTC hour of an hourly series (DataValidationError for daily counts).

    When most counted hours are zero (a small trap or sample), only hours with messages are drawn, as markers,
    and the legend says so; otherwise every counted hour is drawn as a line (uncounted months are gaps).
    """
    if series.index.freqstr != "h":
        raise DataValidationError(f"{series.attrs.get('source', 'series')}: fig_hourly needs hourly counts, "
                                  f"got freq {series.index.freqstr!r}")
    counted = series.dropna()
    sparse = (counted == 0).mean() > 0.5
    shown = counted[counted > 0] if sparse else series
    x = [t.strftime("%Y-%m-%dT%H:00") for t in shown.index]
    name = (f"hours with messages ({len(shown)} of {len(counted)} counted hours; the others are 0)" if sparse
            else "messages per hour (real trap counts)")
    fig = go.Figure(go.Scatter(x=x, y=rounded(shown, 0), mode="markers" if sparse else "lines", name=name,
                               connectgaps=False, marker={"color": COLORS["observed"], "size": 6},
                               line={"color": COLORS["observed"], "width": 1}))
    return _finish(fig, title="spam-trap messages per hour", y_title="spam (messages per hour)",
                   x_title="hour (UTC)", source=_source(series))


def fig_dating(manifest: dict) -> go.Figure:
    """Bars of messages by dating rule (top Received:, Date:, entry name), the share in each bar's label."""
    table = audit.dating_table(manifest)
    fig = go.Figure(go.Bar(x=list(table["dated by"]), y=[int(n) for n in table["messages"]],
                           text=[f"{s:.1f}%" if np.isfinite(s) else "" for s in table["share (%)"]],
                           textposition="outside", marker_color=COLORS["bar"], name="messages dated by the rule"))
    return _finish(fig, title="how each message was dated", y_title="messages (count)",
                   x_title="dating rule (first that applies)", source=_source(manifest=manifest))


def fig_lag(manifest: dict) -> go.Figure:
    """Histogram (the manifest's bins) of the entry name's epoch minus the top Received: time, in hours."""
    lag = audit.lag_hours(manifest)
    edges = lag["edges"]
    labels = [f"{lo:g} to {hi:g}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    q = lag["quantiles"]
    p50, p90 = (rounded([q.get(k, np.nan) if q.get(k) is not None else np.nan], 1)[0] for k in ("p50", "p90"))
    name = (f"messages (n = {lag['n']}; median {p50} h, 90th percentile {p90} h)" if lag["n"]
            else "no message has both times (n = 0)")
    fig = go.Figure(go.Bar(x=labels, y=[int(c) for c in lag["counts"]], marker_color=COLORS["bar"], name=name))
    fig.update_layout(showlegend=True)
    return _finish(fig, title="lag of the entry name's time behind the trap's Received: time",
                   y_title="messages (count)", x_title="lag bin (hours; name epoch minus top Received:)",
                   source=_source(manifest=manifest))


def fig_recipients(manifest: dict, series: pd.Series | None = None, *, top: int = 6) -> go.Figure:
    """Share (%) of each month's messages going to the leading trap addresses, changes of the top address marked.

    Lines for the ``top`` addresses with the most messages among those that lead some month; the share is of the
    month's messages in ``series`` when given, else of the month's listed addresses.  A dotted vertical line marks
    each month whose top address changed (:func:`spamits.audit.recipient_breaks`).
    """
    shares = audit.recipient_shares(manifest, series)
    leaders = shares[shares["leader"].astype(bool)].groupby("address")["messages"].sum()
    chosen = sorted(leaders.index, key=lambda a: (-leaders[a], a))[:top]
    months = sorted(set(shares["month"]))
    fig = go.Figure()
    for i, address in enumerate(chosen):
        rows = shares[shares["address"] == address].set_index("month")["share (%)"].reindex(months)
        fig.add_trace(go.Scatter(x=[f"{m}-01" for m in months], y=rounded(rows, 1), mode="lines+markers",
                                 connectgaps=False, name=address,
                                 line={"color": _TOP_COLORS[i % len(_TOP_COLORS)], "width": 1}))
    if shares.empty:
        fig.add_annotation(text="the manifest lists no trap addresses (Delivered-To:)", xref="paper", yref="paper",
                           x=0.5, y=0.5, showarrow=False)
    breaks = audit.recipient_breaks(manifest)
    for b in breaks:
        _vline(fig, b["date"], "", dash="dot", color=COLORS["counterfactual"])
    if breaks:
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name=f"top address changes ({len(breaks)})",
                                 line={"color": COLORS["counterfactual"], "dash": "dot", "width": 1}))
    of = "the month's messages" if series is not None else "the month's listed addresses' messages"
    fig = _finish(fig, title="share of each month's messages to the leading trap addresses",
                  y_title=f"share of {of} (%)", x_title="month (UTC)", source=_source(series, manifest))
    fig.update_layout(legend={"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1, "yanchor": "top"},
                      margin={"l": 70, "r": 270, "t": 70, "b": 110})
    return fig

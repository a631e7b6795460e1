"""Plotly figure builders: ``fig_*(table_or_result, ...) -> go.Figure``.

Builders read only tidy tables (a result's ``frame`` and ``effects``, diagnostics tables); they never fit,
write files or call ``show()``.  Every figure has units on its axes, the data source in a caption, and says
SIMULATED in its title and legend when the data are simulated.  Plotted numbers are rounded and written as
plain lists, so a figure's JSON is identical from run to run (nbval compares it exactly).

Importing this module registers the renderer ``spamits_html`` (the classic notebook HTML output with plotly.js
embedded once, a deterministic ``div`` id per figure and no MathJax from a CDN) and sets the default renderer
from the environment variable ``SPAMITS_PLOTLY_RENDERER`` (default ``"plotly_mimetype"``, what JupyterLab
shows; the report build uses ``"plotly_mimetype+spamits_html"`` so the HTML pages work offline).
"""

from __future__ import annotations

import itertools
import os

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.io._base_renderers import NotebookRenderer

SIMULATED = "SIMULATED"
COLORS = {"observed": "#1f4e79", "fitted": "#7f7f7f", "counterfactual": "#c0392b", "band": "rgba(192,57,43,0.18)",
          "event": "#2c3e50", "bar": "#1f4e79", "bound": "#c0392b"}
LAYOUT = {"template": "plotly_white", "height": 460, "margin": {"l": 70, "r": 30, "t": 70, "b": 110},
          "font": {"family": "Arial, sans-serif", "size": 13},
          "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0}}
RENDERER_ENV = "SPAMITS_PLOTLY_RENDERER"


class DeterministicNotebookRenderer(NotebookRenderer):
    """Notebook HTML renderer with reproducible div ids (``spamits-fig-1``, ...) and no CDN MathJax."""

    def __init__(self) -> None:
        super().__init__(connected=False, include_plotlyjs=False)
        self._ids = itertools.count(1)

    def to_mimebundle(self, fig_dict: dict) -> dict:
        html = pio.to_html(fig_dict, config=self.config, include_plotlyjs=False, include_mathjax=False,
                           full_html=False, default_width="100%", default_height=LAYOUT["height"],
                           validate=False, div_id=f"spamits-fig-{next(self._ids)}")
        return {"text/html": html}


pio.renderers["spamits_html"] = DeterministicNotebookRenderer()
pio.renderers.default = os.environ.get(RENDERER_ENV, "plotly_mimetype")


# --- helpers -------------------------------------------------------------------------------------------------


def _is_simulated(obj: object) -> bool:
    return bool(getattr(obj, "attrs", {}).get("simulated", False))


def _label(name: str, simulated: bool) -> str:
    return f"{name} ({SIMULATED})" if simulated else name


def _title(title: str, simulated: bool) -> str:
    return f"{SIMULATED}: {title}" if simulated and SIMULATED not in title else title


def _dates(index: pd.DatetimeIndex) -> list[str]:
    return [d.date().isoformat() for d in index]


def _values(values: object, digits: int = 2) -> list[float | None]:
    arr = np.asarray(values, dtype=float)
    return [None if not np.isfinite(v) else round(float(v), digits) for v in arr]


def _finish(fig: go.Figure, *, title: str, y_title: str, x_title: str, source: str) -> go.Figure:
    fig.update_layout(title={"text": title, "x": 0, "xanchor": "left"}, **LAYOUT)
    fig.update_xaxes(title_text=x_title)
    fig.update_yaxes(title_text=y_title)
    fig.add_annotation(text=f"Source: {source}", xref="paper", yref="paper", x=0, y=-0.28, showarrow=False,
                       xanchor="left", align="left", font={"size": 11, "color": "#555"})
    return fig


def _source(obj: object, source: str | None) -> str:
    if source:
        return source
    attrs = getattr(obj, "attrs", {})
    text = attrs.get("source", "not recorded")
    return text if len(text) <= 140 else text[:137] + "..."


def _event_line(fig: go.Figure, date: object, label: str) -> None:
    if date is None:
        return
    x = pd.Timestamp(date).date().isoformat()
    fig.add_shape(type="line", x0=x, x1=x, xref="x", yref="paper", y0=0, y1=1,
                  line={"color": COLORS["event"], "dash": "dash", "width": 1})
    fig.add_annotation(x=x, y=1, xref="x", yref="paper", text=label, showarrow=False, yanchor="bottom",
                       font={"size": 11})


# --- figures -------------------------------------------------------------------------------------------------


def fig_series(y: pd.Series, *, event_date: object = None, event_label: str = "event", title: str | None = None,
               unit: str | None = None, source: str | None = None) -> go.Figure:
    """The raw series (one point per period) with the event date marked."""
    sim = _is_simulated(y)
    unit = unit or y.attrs.get("unit", "messages per day")
    fig = go.Figure(go.Scatter(x=_dates(y.index), y=_values(y), mode="lines", name=_label("observed", sim),
                               line={"color": COLORS["observed"], "width": 1.2}))
    _event_line(fig, event_date, event_label)
    return _finish(fig, title=_title(title or y.attrs.get("title", "Spam volume"), sim), y_title=f"spam ({unit})",
                   x_title="date (UTC)", source=_source(y, source))


def fig_counterfactual(frame: pd.DataFrame, *, event_date: object = None, event_label: str = "event",
                       title: str = "Observed spam and the counterfactual without the takedown",
                       unit: str | None = None, level: int = 95, source: str | None = None) -> go.Figure:
    """Observed series, fitted values and the counterfactual with its predictive band (``result.frame``)."""
    sim = _is_simulated(frame)
    unit = unit or frame.attrs.get("unit", "messages per day")
    x = _dates(frame.index)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x + x[::-1], y=_values(frame["counterfactual_high"]) +
                             _values(frame["counterfactual_low"])[::-1], fill="toself",
                             fillcolor=COLORS["band"], line={"width": 0}, hoverinfo="skip",
                             name=_label(f"counterfactual {level}% band", sim)))
    fig.add_trace(go.Scatter(x=x, y=_values(frame["observed"]), mode="lines", name=_label("observed", sim),
                             line={"color": COLORS["observed"], "width": 1.2}))
    fig.add_trace(go.Scatter(x=x, y=_values(frame["fitted"]), mode="lines", name=_label("fitted", sim),
                             line={"color": COLORS["fitted"], "width": 1}))
    fig.add_trace(go.Scatter(x=x, y=_values(frame["counterfactual"]), mode="lines",
                             name=_label("counterfactual (no takedown)", sim),
                             line={"color": COLORS["counterfactual"], "width": 1.5, "dash": "dot"}))
    _event_line(fig, event_date, event_label)
    return _finish(fig, title=_title(title, sim), y_title=f"spam ({unit})", x_title="date (UTC)",
                   source=_source(frame, source))


def fig_acf(table: pd.DataFrame, n_obs: int, *, simulated: bool = False, unit: str = "days",
            title: str = "Residual autocorrelation", source: str = "model residuals") -> go.Figure:
    """Bars of the residual ACF and PACF (``diagnostics()['acf']``) with ±1.96/√n bounds."""
    bound = round(1.96 / np.sqrt(n_obs), 4)
    lags = [int(v) for v in table["lag"]]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=lags, y=_values(table["acf"], 4), name=_label("ACF", simulated),
                         marker_color=COLORS["bar"]))
    fig.add_trace(go.Bar(x=lags, y=_values(table["pacf"], 4), name=_label("PACF", simulated),
                         marker_color="#9dc3e6"))
    for sign in (1, -1):
        fig.add_shape(type="line", x0=0.5, x1=max(lags) + 0.5, y0=sign * bound, y1=sign * bound,
                      line={"color": COLORS["bound"], "dash": "dash", "width": 1})
    fig = _finish(fig, title=_title(title, simulated), y_title="correlation (unitless)",
                  x_title=f"lag ({unit})", source=source)
    fig.update_layout(barmode="group")
    return fig


def fig_effect_path(frame: pd.DataFrame, *, start: object, title: str = "Relative effect by period",
                    level: int = 95, source: str | None = None) -> go.Figure:
    """Pointwise relative effect ``observed/counterfactual - 1`` in percent from ``start`` on."""
    sim = _is_simulated(frame)
    post = frame.loc[pd.Timestamp(start):]
    x = _dates(post.index)
    rel = 100 * (post["observed"] / post["counterfactual"] - 1)
    lo = 100 * (post["observed"] / post["counterfactual_high"] - 1)
    hi = 100 * (post["observed"] / post["counterfactual_low"] - 1)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x + x[::-1], y=_values(hi) + _values(lo)[::-1], fill="toself",
                             fillcolor=COLORS["band"], line={"width": 0}, hoverinfo="skip",
                             name=_label(f"{level}% band", sim)))
    fig.add_trace(go.Scatter(x=x, y=_values(rel), mode="lines", name=_label("observed vs counterfactual", sim),
                             line={"color": COLORS["observed"], "width": 1.2}))
    fig.add_hline(y=0, line={"color": "#333", "width": 1})
    return _finish(fig, title=_title(title, sim), y_title="relative effect (%)", x_title="date (UTC)",
                   source=_source(frame, source))


# --- simulation study (spamits.validation) ----------------------------------------------------------------------

_STUDY_PANELS = {"decay": "decaying drop (decay fit)", "lasting": "lasting drop (step fit)",
                 "overlap": "two overlapping events (joint fit)"}
_METHOD_COLORS = ["#1f4e79", "#c0392b", "#27ae60", "#8e44ad", "#d68910", "#7f8c8d"]
_DROP_SYMBOLS = ["circle", "square", "diamond", "triangle-up", "cross", "x"]


def _study_source(table: pd.DataFrame) -> str:
    return _source(table, None) if getattr(table, "attrs", {}).get("source") else (
        f"{SIMULATED} series from spamits.validation.simulation_study")


def fig_coverage(table: pd.DataFrame, *, level: int = 95, title: str = "Coverage of the 95% intervals",
                 source: str | None = None) -> go.Figure:
    """Coverage (% of series) of the relative-effect intervals by AR(1) coefficient, one line per method.

    ``table`` is ``StudyResult.table``; cells are pooled (weighted by their number of series) within each
    design panel (decay, lasting, overlap), method and phi.  The nominal level is a dashed line and 90–97% a
    shaded band.  The study's series are always simulated, so the figure always says SIMULATED.
    """
    from plotly.subplots import make_subplots

    designs = [d for d in _STUDY_PANELS if d in set(table["design"])]
    fig = make_subplots(rows=1, cols=max(len(designs), 1), shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=[_STUDY_PANELS[d] for d in designs])
    methods = list(dict.fromkeys(table["method"]))
    for col, design in enumerate(designs, start=1):
        sub = table[table["design"] == design]
        for i, method in enumerate(methods):
            rows = sub[sub["method"] == method]
            pooled = (rows["coverage"] * rows["n"]).groupby(rows["phi"]).sum() / rows.groupby("phi")["n"].sum()
            fig.add_trace(go.Scatter(x=_values(pooled.index, 3), y=_values(100 * pooled.to_numpy(), 1),
                                     mode="lines+markers", name=_label(method, True), legendgroup=method,
                                     showlegend=col == 1, line={"color": _METHOD_COLORS[i % len(_METHOD_COLORS)]}),
                          row=1, col=col)
    fig.add_hrect(y0=90, y1=97, row="all", col="all", fillcolor="rgba(39,174,96,0.12)", line_width=0, layer="below")
    fig.add_hline(y=level, row="all", col="all", line={"color": "#333", "dash": "dash", "width": 1})
    fig = _finish(fig, title=_title(title, True), y_title=f"coverage of {level}% intervals (% of series)",
                  x_title="AR(1) coefficient phi (unitless)", source=source or _study_source(table))
    fig.update_yaxes(title_text="", col=2)
    fig.update_yaxes(title_text="", col=3)
    return fig


def fig_half_life(table: pd.DataFrame, *, method: str | None = None,
                  title: str = "Median half-life estimate against the true half-life",
                  source: str | None = None) -> go.Figure:
    """Median estimated half-life (days) against the simulated one, per phi (colour) and drop (symbol).

    ``table`` is ``StudyResult.table``; only cells of the ``decay`` design and one ``method`` (default: the
    first in the table) are shown, on log axes with the line estimate = truth and ±15% around it.
    """
    decay = table[(table["design"] == "decay") & table["median_half_life"].notna()]
    method = method or (str(decay["method"].iloc[0]) if len(decay) else "")
    decay = decay[decay["method"] == method]
    phis = sorted(set(decay["phi"]))
    drops = sorted(set(decay["drop"]))
    fig = go.Figure()
    truth = sorted(set(decay["half_life"]))
    if truth:
        line = [truth[0] / 1.5, truth[-1] * 1.5]
        for factor, name, dash in ((1.0, "estimate = truth", "solid"), (1.15, "±15%", "dot"), (0.85, "±15%", "dot")):
            fig.add_trace(go.Scatter(x=_values(line, 3), y=_values(np.array(line) * factor, 3), mode="lines",
                                     name=name, showlegend=factor != 0.85, legendgroup=name, hoverinfo="skip",
                                     line={"color": "#7f7f7f", "dash": dash, "width": 1}))
    for i, phi in enumerate(phis):
        rows = decay[decay["phi"] == phi]
        symbols = [_DROP_SYMBOLS[drops.index(d) % len(_DROP_SYMBOLS)] for d in rows["drop"]]
        text = [f"drop {100 * d:.0f}%" for d in rows["drop"]]
        fig.add_trace(go.Scatter(x=_values(rows["half_life"], 3), y=_values(rows["median_half_life"], 2),
                                 mode="markers", name=_label(f"phi = {phi:g}", True), text=text,
                                 marker={"color": _METHOD_COLORS[i % len(_METHOD_COLORS)], "symbol": symbols,
                                         "size": 10, "opacity": 0.85}))
    for j, drop in enumerate(drops):  # legend entries for the symbols
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=f"drop {100 * drop:.0f}%",
                                 marker={"color": "#555", "symbol": _DROP_SYMBOLS[j % len(_DROP_SYMBOLS)]}))
    fig = _finish(fig, title=_title(f"{title} ({method})", True), y_title="median estimated half-life (days)",
                  x_title="true half-life (days)", source=source or _study_source(table))
    fig.update_xaxes(type="log")
    fig.update_yaxes(type="log")
    return fig

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


def _band_trace(x: list[str], frame: pd.DataFrame, level: int, sim: bool) -> go.Scatter:
    """The counterfactual's predictive band as one filled trace (high edge forward, low edge back)."""
    return go.Scatter(x=x + x[::-1], y=_values(frame["counterfactual_high"]) +
                      _values(frame["counterfactual_low"])[::-1], fill="toself", fillcolor=COLORS["band"],
                      line={"width": 0}, hoverinfo="skip", name=_label(f"counterfactual {level}% band", sim))


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
    fig.add_trace(_band_trace(x, frame, level, sim))
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
_SIDE_LEGEND = {"legend": {"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1, "yanchor": "top"},
                "margin": {"l": 70, "r": 210, "t": 90, "b": 110}}
_HALF_LIFE_TICKS = [1, 2, 3, 5, 7, 14, 30, 60, 120, 240, 480]


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
    lowest = float(np.nanmin(100 * table["coverage"].to_numpy(dtype=float), initial=100.0))
    fig.update_yaxes(range=[min(85.0, np.floor(lowest) - 2.0), 100.5])
    fig.update_yaxes(title_text="", col=2)
    fig.update_yaxes(title_text="", col=3)
    fig.update_layout(**_SIDE_LEGEND)
    return fig


def fig_half_life(table: pd.DataFrame, *, method: str | None = None,
                  title: str = "Median half-life estimate against the true half-life",
                  source: str | None = None) -> go.Figure:
    """Median estimated half-life (days) against the simulated one, per phi (colour) and drop (symbol).

    ``table`` is ``StudyResult.table``; only cells of the ``decay`` design and one ``method`` (default: the
    first in the table) are shown, on log axes with the line estimate = truth and ±15% around it; error bars
    are the Monte Carlo 95% intervals of the medians (``median_half_life_low``/``_high``), when present.
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
        error_y = None
        if "median_half_life_low" in rows:  # the Monte Carlo 95% interval of each cell's median
            error_y = {"type": "data", "symmetric": False, "thickness": 1, "width": 3,
                       "array": _values(rows["median_half_life_high"] - rows["median_half_life"], 2),
                       "arrayminus": _values(rows["median_half_life"] - rows["median_half_life_low"], 2)}
        fig.add_trace(go.Scatter(x=_values(rows["half_life"], 3), y=_values(rows["median_half_life"], 2),
                                 error_y=error_y,
                                 mode="markers", name=_label(f"phi = {phi:g}", True), text=text,
                                 marker={"color": _METHOD_COLORS[i % len(_METHOD_COLORS)], "symbol": symbols,
                                         "size": 10, "opacity": 0.85}))
    for j, drop in enumerate(drops):  # legend entries for the symbols
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=f"drop {100 * drop:.0f}%",
                                 marker={"color": "#555", "symbol": _DROP_SYMBOLS[j % len(_DROP_SYMBOLS)]}))
    fig = _finish(fig, title=_title(f"{title} ({method})", True),
                  y_title="median estimated half-life (days; bars: Monte Carlo 95%)",
                  x_title="true half-life (days)", source=source or _study_source(table))
    fig.update_xaxes(type="log", tickvals=_HALF_LIFE_TICKS)
    fig.update_yaxes(type="log", tickvals=_HALF_LIFE_TICKS)
    fig.update_layout(**_SIDE_LEGEND)
    return fig


# --- robustness (spamits.robust) ---------------------------------------------------------------------------------

_KIND_COLORS = {"takedown": "#1f4e79", "pause": "#d68910"}


def _pct(values: object) -> np.ndarray:
    """Log changes to percent changes: 100·(exp(x) - 1)."""
    return 100 * (np.exp(np.asarray(values, dtype=float)) - 1)


def fig_placebo(result: object, *, bins: int = 40, title: str | None = None, source: str | None = None) -> go.Figure:
    """Histogram of the placebo estimates (percent change) with the real event's estimate marked.

    ``result`` is a ``spamits.robust.PlaceboResult``; the empirical p-value is in the observed line's label.
    """
    sim = bool(result.simulated)
    per = " per period" if result.term == "slope" else ""
    fig = go.Figure(go.Histogram(x=_values(_pct(result.table["estimate"]), 2), nbinsx=bins,
                                 name=_label(f"placebo dates (n = {result.n})", sim), marker_color="#9dc3e6"))
    observed = round(float(_pct(result.observed)), 2)
    fig.add_trace(go.Scatter(x=[observed, observed], y=[0, 1], yaxis="y2", mode="lines",
                             line={"color": COLORS["counterfactual"], "width": 2},
                             name=_label(f"{result.event} {result.event_date.date()} ({observed:+.1f}%; "
                                         f"p = {result.p_value:.3f})", sim)))
    fig.update_layout(yaxis2={"overlaying": "y", "range": [0, 1], "visible": False})
    title = title or f"Placebo-in-time test of {result.event}: estimates at dates with no event"
    return _finish(fig, title=_title(title, sim), y_title="placebo dates (count)",
                   x_title=f"estimated {'immediate change' if result.term == 'level' else 'trend change'} "
                           f"(%{per})", source=source or _source(result.table, result.source or None))


def fig_sweep(table: pd.DataFrame, *, x: str, term: str = "level", title: str | None = None,
              source: str | None = None) -> go.Figure:
    """Estimate of ``term`` (percent change) with its interval across a date or window sweep.

    ``table`` is ``robust.date_sweep`` (``x="date"``; the catalog date is drawn in red) or
    ``robust.window_sweep`` (``x="window"``); the 30-period relative effect and its interval are shown too.
    """
    sim = table.columns.name == SIMULATED
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
    fig.add_trace(go.Scatter(x=xs, y=_values(est), mode="markers", name=_label("immediate change", sim),
                             marker={"color": colors, "size": 10},
                             error_y={"type": "data", "symmetric": False, "array": _values(hi - est),
                                      "arrayminus": _values(est - lo)}))
    rel = rows["relative_30"].to_numpy(dtype=float)
    if np.isfinite(rel).any():
        fig.add_trace(go.Scatter(x=xs, y=_values(100 * rel), mode="markers", name=_label("first 30 days", sim),
                                 marker={"color": "#7f7f7f", "size": 8, "symbol": "diamond"},
                                 error_y={"type": "data", "symmetric": False,
                                          "array": _values(100 * (rows["relative_30_high"] - rel)),
                                          "arrayminus": _values(100 * (rel - rows["relative_30_low"]))}))
    fig.add_hline(y=0, line={"color": "#333", "width": 1})
    title = title or ("Estimate by event date within the sources' range" if x == "date"
                      else "Estimate by analysis window")
    return _finish(fig, title=_title(title, sim), y_title="change in spam (%)", x_title=x_title,
                   source=source or _source(table, None))


def fig_break_scan(result: object, *, catalog_date: object = None, title: str | None = None,
                   source: str | None = None) -> go.Figure:
    """Likelihood-ratio statistic by candidate break date, the confidence set shaded, the catalog date marked."""
    sim = bool(result.simulated)
    table = result.table
    fig = go.Figure()
    fig.add_vrect(x0=result.date_low.date().isoformat(), x1=result.date_high.date().isoformat(),
                  fillcolor=COLORS["band"], line_width=0, layer="below")
    fig.add_trace(go.Scatter(x=_dates(pd.DatetimeIndex(table["date"])), y=_values(table["statistic"]),
                             mode="lines", name=_label("likelihood-ratio statistic", sim),
                             line={"color": COLORS["observed"], "width": 1.2}))
    fig.add_trace(go.Scatter(x=[result.date.date().isoformat()], y=[round(float(result.statistic), 2)],
                             mode="markers", marker={"color": COLORS["counterfactual"], "size": 10},
                             name=_label(f"best date {result.date.date()} (set {result.date_low.date()} to "
                                         f"{result.date_high.date()})", sim)))
    if catalog_date is not None:
        _event_line(fig, catalog_date, f"catalog {pd.Timestamp(catalog_date).date()}")
    title = title or "Where does the data put the break? Likelihood profile over candidate dates"
    return _finish(fig, title=_title(title, sim), y_title="likelihood-ratio statistic (unitless)",
                   x_title="candidate break date (UTC)", source=source or _source(table, result.source or None))


def fig_forest(table: pd.DataFrame, *, title: str = "Immediate change and half-life by event",
               source: str | None = None) -> go.Figure:
    """Forest plot from ``robust.takedown_table``: immediate change (%) and half-life with intervals per event.

    Takedowns and pauses (negative controls) have their own colour; a half-life whose interval has no upper
    bound (or whose estimate is at the search bound) is drawn to the edge with an open marker.
    """
    from plotly.subplots import make_subplots

    sim = table.columns.name == SIMULATED
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.05,
                        subplot_titles=["immediate change (%)", f"half-life ({table['unit'].iloc[0]}, log scale)"])
    labels = [f"{r.event} ({r.kind})" for r in table.itertuples()]
    finite = table[["half_life", "half_life_low", "half_life_high"]].to_numpy(dtype=float)
    cap = float(np.nanmax(np.where(np.isfinite(finite), finite, np.nan))) * 2 if np.isfinite(finite).any() else 1.0
    for kind, color in _KIND_COLORS.items():
        rows = table[table["kind"] == kind]
        if rows.empty:
            continue
        ys = [labels[i] for i in np.flatnonzero(table["kind"] == kind)]
        est, lo, hi = (100 * rows[c].to_numpy(dtype=float) for c in
                       ("immediate_change", "immediate_change_low", "immediate_change_high"))
        fig.add_trace(go.Scatter(x=_values(est, 1), y=ys, mode="markers", name=_label(f"{kind}s", sim),
                                 legendgroup=kind, marker={"color": color, "size": 10},
                                 error_x={"type": "data", "symmetric": False, "array": _values(hi - est, 1),
                                          "arrayminus": _values(est - lo, 1)}), row=1, col=1)
        hl, hl_lo, hl_hi = (np.minimum(rows[c].to_numpy(dtype=float), cap) for c in
                            ("half_life", "half_life_low", "half_life_high"))
        open_ = rows["half_life_at_bound"].to_numpy() | ~np.isfinite(rows["half_life_high"].to_numpy(dtype=float))
        fig.add_trace(go.Scatter(x=_values(hl, 2), y=ys, mode="markers", showlegend=False, legendgroup=kind,
                                 marker={"color": color, "size": 10,
                                         "symbol": ["circle-open" if o else "circle" for o in open_]},
                                 error_x={"type": "data", "symmetric": False, "array": _values(hl_hi - hl, 2),
                                          "arrayminus": _values(hl - hl_lo, 2)}), row=1, col=2)
    fig.add_vline(x=0, line={"color": "#333", "width": 1}, row=1, col=1)
    fig = _finish(fig, title=_title(title, sim), y_title="", x_title="", source=source or _source(table, None))
    fig.update_xaxes(type="log", row=1, col=2)
    fig.add_annotation(text="open marker: no recovery within the window (interval has no upper bound)",
                       xref="paper", yref="paper", x=1, y=-0.2, showarrow=False, xanchor="right",
                       font={"size": 11, "color": "#555"})
    return fig


def fig_sparse_its(frame: pd.DataFrame, *, events: list[tuple[object, str]], title: str, unit: str,
                   source: str, level: int = 95) -> go.Figure:
    """A monthly fit with missing months: observed figures as markers (gaps stay gaps), fit and counterfactual.

    ``frame`` is ``result.frame``; ``events`` lists ``(date, label)`` pairs marked by vertical lines.
    """
    sim = _is_simulated(frame)
    x = _dates(frame.index)
    fig = go.Figure()
    fig.add_trace(_band_trace(x, frame, level, sim))
    fig.add_trace(go.Scatter(x=x, y=_values(frame["fitted"]), mode="lines", name=_label("fitted", sim),
                             line={"color": COLORS["fitted"], "width": 1}))
    fig.add_trace(go.Scatter(x=x, y=_values(frame["counterfactual"]), mode="lines",
                             name=_label("counterfactual (no event)", sim),
                             line={"color": COLORS["counterfactual"], "width": 1.5, "dash": "dot"}))
    fig.add_trace(go.Scatter(x=x, y=_values(frame["observed"]), mode="markers+lines", connectgaps=False,
                             name=_label("published figure", sim), marker={"color": COLORS["observed"], "size": 7},
                             line={"color": COLORS["observed"], "width": 1}))
    for date, label in events:
        _event_line(fig, date, label)
    return _finish(fig, title=_title(title, sim), y_title=unit, x_title="month", source=source)


def fig_level_changes(table: pd.DataFrame, *, title: str = "Level change at each event (percentage points)",
                      source: str = "data/vendor_figures.csv") -> go.Figure:
    """Estimated level change with its interval, one row per vendor and event (``level change (pp)``,
    ``pp low``, ``pp high`` columns of :func:`spamits.vendor_fits.fit_candidates`' table)."""
    rows = table[table["status"] == "fitted"]
    labels = [f"{r['vendor']}: {r['event']}" for r in rows.to_dict("records")]
    est, lo, hi = (rows[c].to_numpy(dtype=float) for c in ("level change (pp)", "pp low", "pp high"))
    fig = go.Figure(go.Scatter(x=_values(est), y=labels, mode="markers", name="level change",
                               marker={"color": COLORS["observed"], "size": 10},
                               error_x={"type": "data", "symmetric": False, "array": _values(hi - est),
                                        "arrayminus": _values(est - lo)}))
    fig.add_vline(x=0, line={"color": "#333", "width": 1})
    fig = _finish(fig, title=title, y_title="", x_title="change in the share of mail that is spam (pp)",
                  source=source)
    fig.update_layout(margin={"l": 330})
    return fig

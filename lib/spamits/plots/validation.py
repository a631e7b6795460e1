"""Figures of the simulation study (``notebooks/validation.ipynb``, :mod:`spamits.validation`): interval
coverage and the median half-life against the truth (``StudyResult.table``), and coverage by stress case and
method (``StressResult.table``).  Tables in, figures out; always SIMULATED.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from spamits.plots.style import SIMULATED, caption_source, finish, rounded, sim_label, sim_title

__all__ = ["fig_coverage", "fig_half_life", "fig_stress_coverage"]


_STUDY_PANELS = {"decay": "decaying drop (decay fit)", "lasting": "lasting drop (step fit)",
                 "overlap": "two overlapping events (joint fit)"}
_METHOD_COLORS = ["#1f4e79", "#c0392b", "#27ae60", "#8e44ad", "#d68910", "#7f8c8d"]
_DROP_SYMBOLS = ["circle", "square", "diamond", "triangle-up", "cross", "x"]
_SIDE_LEGEND = {"legend": {"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1, "yanchor": "top"},
                "margin": {"l": 70, "r": 210, "t": 90, "b": 110}}
_HALF_LIFE_TICKS = [1, 2, 3, 5, 7, 14, 30, 60, 120, 240, 480]


def _study_source(table: pd.DataFrame) -> str:
    return caption_source(table, None) if getattr(table, "attrs", {}).get("source") else (
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
            fig.add_trace(go.Scatter(x=rounded(pooled.index, 3), y=rounded(100 * pooled.to_numpy(), 1),
                                     mode="lines+markers", name=sim_label(method, True), legendgroup=method,
                                     showlegend=col == 1, line={"color": _METHOD_COLORS[i % len(_METHOD_COLORS)]}),
                          row=1, col=col)
    fig.add_hrect(y0=90, y1=97, row="all", col="all", fillcolor="rgba(39,174,96,0.12)", line_width=0, layer="below")
    fig.add_hline(y=level, row="all", col="all", line={"color": "#333", "dash": "dash", "width": 1})
    fig = finish(fig, title=sim_title(title, True), y_title=f"coverage of {level}% intervals (% of series)",
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
            fig.add_trace(go.Scatter(x=rounded(line, 3), y=rounded(np.array(line) * factor, 3), mode="lines",
                                     name=name, showlegend=factor != 0.85, legendgroup=name, hoverinfo="skip",
                                     line={"color": "#7f7f7f", "dash": dash, "width": 1}))
    for i, phi in enumerate(phis):
        rows = decay[decay["phi"] == phi]
        symbols = [_DROP_SYMBOLS[drops.index(d) % len(_DROP_SYMBOLS)] for d in rows["drop"]]
        text = [f"drop {100 * d:.0f}%" for d in rows["drop"]]
        error_y = None
        if "median_half_life_low" in rows:  # the Monte Carlo 95% interval of each cell's median
            error_y = {"type": "data", "symmetric": False, "thickness": 1, "width": 3,
                       "array": rounded(rows["median_half_life_high"] - rows["median_half_life"], 2),
                       "arrayminus": rounded(rows["median_half_life"] - rows["median_half_life_low"], 2)}
        fig.add_trace(go.Scatter(x=rounded(rows["half_life"], 3), y=rounded(rows["median_half_life"], 2),
                                 error_y=error_y,
                                 mode="markers", name=sim_label(f"phi = {phi:g}", True), text=text,
                                 marker={"color": _METHOD_COLORS[i % len(_METHOD_COLORS)], "symbol": symbols,
                                         "size": 10, "opacity": 0.85}))
    for j, drop in enumerate(drops):  # legend entries for the symbols
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=f"drop {100 * drop:.0f}%",
                                 marker={"color": "#555", "symbol": _DROP_SYMBOLS[j % len(_DROP_SYMBOLS)]}))
    fig = finish(fig, title=sim_title(f"{title} ({method})", True),
                  y_title="median estimated half-life (days; bars: Monte Carlo 95%)",
                  x_title="true half-life (days)", source=source or _study_source(table))
    fig.update_xaxes(type="log", tickvals=_HALF_LIFE_TICKS)
    fig.update_yaxes(type="log", tickvals=_HALF_LIFE_TICKS)
    fig.update_layout(**_SIDE_LEGEND)
    return fig


def _wilson(share: np.ndarray, n: np.ndarray, z: float = 1.96) -> tuple[np.ndarray, np.ndarray]:
    """Wilson 95% interval (low, high) of binomial shares ``share`` (k,) out of ``n`` (k,) trials."""
    n = np.maximum(n.astype(float), 1.0)
    centre = (share + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(share * (1 - share) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


def fig_stress_coverage(table: pd.DataFrame, *, level: int = 95, target: tuple[float, float] = (90.0, 97.0),
                        title: str = "Coverage of the 95% intervals on the stress cases",
                        source: str | None = None) -> go.Figure:
    """Coverage (% of fitted series) of the 30-day relative effect's intervals by stress case, one marker per
    method side by side, with the Monte Carlo (Wilson 95%) interval of each coverage as an error bar (with 10
    series a coverage of 90% is only known to lie within about 60-98%).

    ``table`` is ``StressResult.table`` (columns ``case``, ``method``, ``n``, ``failed``, ``coverage``); cases
    and methods keep their order in it.  The nominal level is a dashed line and ``target`` (in %) a shaded band.
    The caption names the study and its seeds (``table.attrs["source"]``).  Always SIMULATED.
    """
    cases = list(dict.fromkeys(table["case"]))
    fig = go.Figure()
    lowest = 100.0
    for i, method in enumerate(dict.fromkeys(table["method"])):
        rows = table[table["method"] == method].set_index("case").reindex(cases)
        share = rows["coverage"].to_numpy(dtype=float)
        low, high = _wilson(share, (rows["n"] - rows["failed"]).to_numpy(dtype=float))
        lowest = float(np.nanmin(100 * low, initial=lowest))
        fig.add_trace(go.Scatter(
            x=cases, y=rounded(100 * share, 1), mode="markers", name=sim_label(str(method), True),
            offsetgroup=str(method), marker={"color": _METHOD_COLORS[i % len(_METHOD_COLORS)], "size": 10},
            error_y={"type": "data", "symmetric": False, "thickness": 1, "width": 3,
                     "array": rounded(100 * (high - share), 1), "arrayminus": rounded(100 * (share - low), 1)}))
    fig.add_hrect(y0=target[0], y1=target[1], fillcolor="rgba(39,174,96,0.12)", line_width=0, layer="below")
    fig.add_hline(y=level, line={"color": "#333", "dash": "dash", "width": 1})
    fig = finish(fig, title=sim_title(title, True), y_title=f"coverage of {level}% intervals (% of series)",
                  x_title="stress case (spamits.data.stress)", source=source or _study_source(table))
    fig.update_yaxes(range=[min(70.0, np.floor(lowest) - 3.0), 102.0])  # the error bars in full
    fig.update_layout(scattermode="group", **_SIDE_LEGEND)
    return fig

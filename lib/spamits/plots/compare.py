"""The cross-takedown figures (``notebooks/compare_takedowns.ipynb``): the forest plot of immediate change and
half-life per event from ``robust.takedown_table`` (takedowns beside the natural pauses and surges), and the
events by era and kind from ``robust.group_table`` (which have a real or a simulated series).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from spamits._labels import is_simulated
from spamits.plots.style import SIMULATED, caption_source, finish, rounded, sim_label, sim_title

__all__ = ["fig_forest", "fig_groups"]


_KIND_COLORS = {"takedown": "#1f4e79", "pause": "#d68910", "surge": "#7d3c98"}
_STATUS_COLORS = {"real fit": "#1e8449", "simulated only": "#5d6d7e", "neither": "#d5d8dc"}


def fig_forest(table: pd.DataFrame, *, title: str = "Immediate change and half-life by event",
               source: str | None = None) -> go.Figure:
    """Forest plot from ``robust.takedown_table``: immediate change (%) and half-life with intervals per event.

    Takedowns and pauses (negative controls) have their own colour; a half-life whose interval has no upper
    bound (or whose estimate is at the search bound) is drawn to the edge with an open marker.
    """
    from plotly.subplots import make_subplots

    sim = is_simulated(table)
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
        fig.add_trace(go.Scatter(x=rounded(est, 1), y=ys, mode="markers", name=sim_label(f"{kind}s", sim),
                                 legendgroup=kind, marker={"color": color, "size": 10},
                                 error_x={"type": "data", "symmetric": False, "array": rounded(hi - est, 1),
                                          "arrayminus": rounded(est - lo, 1)}), row=1, col=1)
        hl, hl_lo, hl_hi = (np.minimum(rows[c].to_numpy(dtype=float), cap) for c in
                            ("half_life", "half_life_low", "half_life_high"))
        open_ = rows["half_life_at_bound"].to_numpy() | ~np.isfinite(rows["half_life_high"].to_numpy(dtype=float))
        fig.add_trace(go.Scatter(x=rounded(hl, 2), y=ys, mode="markers", showlegend=False, legendgroup=kind,
                                 marker={"color": color, "size": 10,
                                         "symbol": ["circle-open" if o else "circle" for o in open_]},
                                 error_x={"type": "data", "symmetric": False, "array": rounded(hl_hi - hl, 2),
                                          "arrayminus": rounded(hl - hl_lo, 2)}), row=1, col=2)
    fig.add_vline(x=0, line={"color": "#333", "width": 1}, row=1, col=1)
    fig = finish(fig, title=sim_title(title, sim), y_title="", x_title="", source=source or caption_source(table, None))
    fig.update_xaxes(type="log", row=1, col=2)
    # the legend above the subplot titles (the shared layout puts it where they are), the title above both
    fig.update_layout(legend={"orientation": "h", "yanchor": "bottom", "y": 1.1, "x": 0},
                      margin={"l": 70, "r": 30, "t": 120, "b": 110})
    fig.add_annotation(text="open marker: no recovery within the window (interval has no upper bound)",
                       xref="paper", yref="paper", x=1, y=-0.2, showarrow=False, xanchor="right",
                       font={"size": 11, "color": "#555"})
    return fig


def fig_groups(groups: pd.DataFrame, *, title: str = "Catalog events by era and kind: which have a series",
               source: str = "data/events.csv; simulated scenarios of spamits.data.simulation; real fits of this "
                             "report") -> go.Figure:
    """Stacked bars from ``robust.group_table``: per group, the events fitted to REAL counts, those with a
    SIMULATED series only (a measured effect was reported) and those with neither."""
    fig = go.Figure()
    for status, color in _STATUS_COLORS.items():
        fig.add_trace(go.Bar(y=groups["group"].tolist(), x=[int(v) for v in groups[status]], orientation="h",
                             name={"real fit": "REAL fit", "simulated only": f"{SIMULATED} series only"}.get(
                                 status, "no series"), marker={"color": color}))
    fig.update_layout(barmode="stack")
    fig = finish(fig, title=title, y_title="", x_title="events (count)", source=source)
    fig.update_yaxes(autorange="reversed")
    return fig

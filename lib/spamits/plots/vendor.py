"""Figures of the vendor figures notebook (``notebooks/vendor_figures.ipynb``, :mod:`spamits.vendor_fits`): a
monthly fit with missing months, and level changes per vendor and event.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from spamits.plots.style import (
    COLORS,
    band_trace,
    event_line,
    finish,
    is_simulated,
    iso_dates,
    rounded,
    sim_label,
    sim_title,
)

__all__ = ["fig_level_changes", "fig_sparse_its", "fig_vendor_fit"]


def fig_sparse_its(frame: pd.DataFrame, *, events: list[tuple[object, str]], title: str, unit: str,
                   source: str, level: int = 95) -> go.Figure:
    """A monthly fit with missing months: observed figures as markers (gaps stay gaps), fit and counterfactual.

    ``frame`` is ``result.frame``; ``events`` lists ``(date, label)`` pairs marked by vertical lines.
    """
    sim = is_simulated(frame)
    x = iso_dates(frame.index)
    fig = go.Figure()
    fig.add_trace(band_trace(x, frame, level, sim))
    fig.add_trace(go.Scatter(x=x, y=rounded(frame["fitted"]), mode="lines", name=sim_label("fitted", sim),
                             line={"color": COLORS["fitted"], "width": 1}))
    fig.add_trace(go.Scatter(x=x, y=rounded(frame["counterfactual"]), mode="lines",
                             name=sim_label("counterfactual (no event)", sim),
                             line={"color": COLORS["counterfactual"], "width": 1.5, "dash": "dot"}))
    fig.add_trace(go.Scatter(x=x, y=rounded(frame["observed"]), mode="markers+lines", connectgaps=False,
                             name=sim_label("published figure", sim), marker={"color": COLORS["observed"], "size": 7},
                             line={"color": COLORS["observed"], "width": 1}))
    for date, label in events:
        event_line(fig, date, label)
    return finish(fig, title=sim_title(title, sim), y_title=unit, x_title="month", source=source)


def fig_level_changes(table: pd.DataFrame, *, title: str = "Level change at each event (percentage points)",
                      source: str = "data/vendor_figures.csv") -> go.Figure:
    """Estimated level change with its interval, one row per vendor and event (``level change (pp)``,
    ``pp low``, ``pp high`` columns of :func:`spamits.vendor_fits.fit_candidates`' table)."""
    rows = table[table["status"] == "fitted"]
    labels = [f"{r['vendor']}: {r['event']}" for r in rows.to_dict("records")]
    est, lo, hi = (rows[c].to_numpy(dtype=float) for c in ("level change (pp)", "pp low", "pp high"))
    fig = go.Figure(go.Scatter(x=rounded(est), y=labels, mode="markers", name="level change",
                               marker={"color": COLORS["observed"], "size": 10},
                               error_x={"type": "data", "symmetric": False, "array": rounded(hi - est),
                                        "arrayminus": rounded(est - lo)}))
    fig.add_vline(x=0, line={"color": "#333", "width": 1})
    fig = finish(fig, title=title, y_title="", x_title="change in the share of mail that is spam (pp)",
                  source=source)
    fig.update_layout(margin={"l": 330})
    return fig


def fig_vendor_fit(candidate: object, result: object) -> go.Figure:
    """The fit of one vendor-figure candidate (:func:`fig_sparse_its` of
    :func:`spamits.vendor_fits.figure_inputs`), its sources named in the caption."""
    from spamits.vendor_fits import figure_inputs

    return fig_sparse_its(**figure_inputs(candidate, result))

"""Shared look of every spamits figure: layout, colours, captions, SIMULATED labels and the notebook renderer.

Every figure has units on its axes, the data source in a caption, and says SIMULATED in its title and legend
when the data are simulated.  Plotted numbers are rounded and written as plain lists (:func:`rounded`), so a
figure's JSON is identical from run to run (nbval compares it exactly).

Importing this module registers the renderers ``spamits_html`` (the classic notebook HTML output with plotly.js
embedded once, a deterministic ``div`` id per figure and no MathJax from a CDN), ``spamits_html_shared`` (the
same figure HTML without plotly.js: the page it ends up in loads plotly.js itself, as the report pages do from
``reports/_static/``) and ``spamits_png`` (a static PNG of the figure, :mod:`spamits.plots.static`), and sets the
default renderer from the environment variable ``SPAMITS_PLOTLY_RENDERER`` (default
``"plotly_mimetype+spamits_png"``: what JupyterLab shows, plus an image for code hosts).  The report kernels run
with ``plotly_mimetype`` only: the report pages make each figure's HTML from its JSON with
``spamits_html_shared`` and its PNG as a file of the run's ``figures/`` folder.
"""

from __future__ import annotations

import itertools
import os

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.io._base_renderers import NotebookRenderer

from spamits._labels import SIMULATED
from spamits.plots.static import StaticImageRenderer

__all__ = ["COLORS", "LAYOUT", "RENDERER_ENV", "SIMULATED", "DeterministicNotebookRenderer", "band_trace",
           "caption_source", "event_line", "finish", "is_simulated", "iso_dates", "rounded", "sim_label",
           "sim_title"]

COLORS = {"observed": "#1f4e79", "fitted": "#7f7f7f", "counterfactual": "#c0392b", "band": "rgba(192,57,43,0.18)",
          "event": "#2c3e50", "bar": "#1f4e79", "bound": "#c0392b", "nuisance": "#8e8e8e"}
LAYOUT = {"template": "plotly_white", "height": 460, "margin": {"l": 70, "r": 30, "t": 70, "b": 110},
          "font": {"family": "Arial, sans-serif", "size": 13},
          "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0}}
RENDERER_ENV = "SPAMITS_PLOTLY_RENDERER"
CAPTION_CHARS = 120
"""Longest source caption (characters) that fits under a 960-pixel figure."""


class DeterministicNotebookRenderer(NotebookRenderer):
    """Notebook HTML renderer with reproducible div ids (``spamits-fig-1``, ...) and no CDN MathJax.

    ``embed_plotlyjs=True``: the first figure of a kernel is preceded by one output holding plotly.js (about
    5 MB; what a classic notebook needs).  ``False``: no plotly.js at all, for notebooks converted into pages
    that load plotly.js themselves (the report pages: one shared copy per ``reports/`` folder).
    """

    def __init__(self, *, embed_plotlyjs: bool = True) -> None:
        super().__init__(connected=False, include_plotlyjs=False)
        self.embed_plotlyjs = embed_plotlyjs
        self._ids = itertools.count(1)

    def activate(self) -> None:
        if self.embed_plotlyjs:
            super().activate()

    def to_mimebundle(self, fig_dict: dict) -> dict:
        html = pio.to_html(fig_dict, config=self.config, include_plotlyjs=False, include_mathjax=False,
                           full_html=False, default_width="100%", default_height=LAYOUT["height"],
                           validate=False, div_id=f"spamits-fig-{next(self._ids)}")
        return {"text/html": html}


pio.renderers["spamits_html"] = DeterministicNotebookRenderer()
pio.renderers["spamits_html_shared"] = DeterministicNotebookRenderer(embed_plotlyjs=False)
pio.renderers["spamits_png"] = StaticImageRenderer()
DEFAULT_RENDERER = "plotly_mimetype+spamits_png"
pio.renderers.default = os.environ.get(RENDERER_ENV, DEFAULT_RENDERER)


# --- helpers -------------------------------------------------------------------------------------------------


def is_simulated(obj: object) -> bool:
    return bool(getattr(obj, "attrs", {}).get("simulated", False))


def sim_label(name: str, simulated: bool) -> str:
    return f"{name} ({SIMULATED})" if simulated else name


def sim_title(title: str, simulated: bool) -> str:
    return f"{SIMULATED}: {title}" if simulated and SIMULATED not in title else title


def iso_dates(index: pd.DatetimeIndex) -> list[str]:
    return [d.date().isoformat() for d in index]


def rounded(values: object, digits: int = 2) -> list[float | None]:
    arr = np.asarray(values, dtype=float)
    return [None if not np.isfinite(v) else round(float(v), digits) for v in arr]


def finish(fig: go.Figure, *, title: str, y_title: str, x_title: str, source: str) -> go.Figure:
    fig.update_layout(title={"text": title, "x": 0, "xanchor": "left"}, **LAYOUT)
    fig.update_xaxes(title_text=x_title)
    fig.update_yaxes(title_text=y_title)
    fig.add_annotation(text=f"Source: {source}", xref="paper", yref="paper", x=0, y=-0.28, showarrow=False,
                       xanchor="left", align="left", font={"size": 11, "color": "#555"})
    return fig


def caption_source(obj: object, source: str | None) -> str:
    if source:
        return source
    attrs = getattr(obj, "attrs", {})
    text = attrs.get("source") or "source not recorded: pass source= to the figure builder"
    if len(text) > CAPTION_CHARS and "; " in text[:CAPTION_CHARS]:  # the first clause names the data; the rest
        text = text[:text.rindex("; ", 0, CAPTION_CHARS)] + "; …"  # (e.g. the effect's basis) is in the tables
    return text if len(text) <= CAPTION_CHARS else text[:CAPTION_CHARS - 1] + "…"


def band_trace(x: list[str], frame: pd.DataFrame, level: int, sim: bool) -> go.Scatter:
    """The counterfactual's predictive band as one filled trace (high edge forward, low edge back)."""
    return go.Scatter(x=x + x[::-1], y=rounded(frame["counterfactual_high"]) +
                      rounded(frame["counterfactual_low"])[::-1], fill="toself", fillcolor=COLORS["band"],
                      line={"width": 0}, hoverinfo="skip", name=sim_label(f"counterfactual {level}% band", sim))


def event_line(fig: go.Figure, date: object, label: str, color: str = COLORS["event"]) -> None:
    if date is None:
        return
    when = pd.Timestamp(date)  # a midnight as its date; a time of day (hourly data) kept
    x = when.date().isoformat() if when == when.normalize() else when.strftime("%Y-%m-%dT%H:%M")
    fig.add_shape(type="line", x0=x, x1=x, xref="x", yref="paper", y0=0, y1=1,
                  line={"color": color, "dash": "dash", "width": 1})
    fig.add_annotation(x=x, y=1, xref="x", yref="paper", text=label, showarrow=False, yanchor="bottom",
                       font={"size": 11})


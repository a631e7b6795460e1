"""Tests of spamits.plots: SIMULATED labelling, units, source captions, reproducible JSON, the HTML renderer."""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from spamits import data, plots
from spamits.its import fit


@functools.cache
def _simulated() -> pd.Series:
    return data.load("mccolo")


@functools.cache
def _real() -> pd.Series:
    """The same numbers without the simulation's attrs: a series as a user's own CSV would give it."""
    y = _simulated()
    return pd.Series(y.to_numpy(), index=y.index, name="count")


@functools.cache
def _result(simulated: bool):
    y = _simulated() if simulated else _real()
    return fit(y, "2008-11-11", effect="decay", seasonality="dow", n_draws=300)


def _figures(simulated: bool) -> dict:
    result = _result(simulated)
    y = _simulated() if simulated else _real()
    diag = result.diagnostics()
    return {
        "series": plots.fig_series(y, event_date="2008-11-11", event_label="McColo"),
        "counterfactual": plots.fig_counterfactual(result.frame, event_date="2008-11-11"),
        "effect_path": plots.fig_effect_path(result.frame, start="2008-11-11"),
        "acf": plots.fig_acf(diag["acf"], diag["n_obs"], simulated=result.simulated),
    }


def _title(fig_dict: dict) -> str:
    return fig_dict["layout"]["title"]["text"]


def _trace_names(fig_dict: dict) -> list[str]:
    return [trace["name"] for trace in fig_dict["data"]]


def test_the_simulated_input_is_marked():
    assert _simulated().attrs["simulated"] is True
    assert _result(True).simulated and not _result(False).simulated
    assert _result(True).frame.attrs.get("simulated") is True


@pytest.mark.parametrize("kind", ["series", "counterfactual", "effect_path", "acf"])
def test_simulated_data_say_simulated_in_title_and_every_trace(kind):
    fig = _figures(True)[kind].to_dict()
    assert "SIMULATED" in _title(fig)
    names = _trace_names(fig)
    assert names and all("SIMULATED" in name for name in names), names


@pytest.mark.parametrize("kind", ["series", "counterfactual", "effect_path", "acf"])
def test_real_data_do_not_say_simulated(kind):
    fig = _figures(False)[kind].to_dict()
    assert "SIMULATED" not in json.dumps(fig)


@pytest.mark.parametrize("kind", ["series", "counterfactual"])
def test_volume_axes_have_units(kind):
    layout = _figures(True)[kind].to_dict()["layout"]
    assert layout["xaxis"]["title"]["text"] == "date (UTC)"
    assert "messages per day" in layout["yaxis"]["title"]["text"]


def test_other_axes_have_units():
    effect = _figures(True)["effect_path"].to_dict()["layout"]
    assert effect["xaxis"]["title"]["text"] == "date (UTC)"
    assert "(%)" in effect["yaxis"]["title"]["text"]
    acf = _figures(True)["acf"].to_dict()["layout"]
    assert acf["xaxis"]["title"]["text"] == "lag (days)"
    assert "unitless" in acf["yaxis"]["title"]["text"]


@pytest.mark.parametrize("simulated", [True, False])
@pytest.mark.parametrize("kind", ["series", "counterfactual", "effect_path", "acf"])
def test_every_figure_has_a_source_caption(kind, simulated):
    layout = _figures(simulated)[kind].to_dict()["layout"]
    captions = [a["text"] for a in layout.get("annotations", []) if a["text"].startswith("Source:")]
    assert len(captions) == 1
    if simulated and kind != "acf":
        assert "SIMULATED" in captions[0]


def test_event_marker_is_drawn_at_the_event_date():
    layout = _figures(True)["series"].to_dict()["layout"]
    assert any(s["type"] == "line" and s["x0"] == "2008-11-11" for s in layout["shapes"])
    assert any(a["text"] == "McColo" for a in layout["annotations"])


@pytest.mark.parametrize("kind", ["series", "counterfactual", "effect_path", "acf"])
def test_two_builds_give_identical_json(kind):
    assert _figures(True)[kind].to_json() == _figures(True)[kind].to_json()


def test_plotted_numbers_are_rounded_plain_lists():
    fig = _figures(True)["counterfactual"].to_dict()
    for trace in fig["data"]:
        assert isinstance(trace["x"], list | tuple) and isinstance(trace["y"], list | tuple)
        finite = [v for v in trace["y"] if v is not None]
        assert all(round(v, 2) == v for v in finite)


def test_gaps_are_drawn_as_breaks_not_zeros():
    y = _real().copy()
    y.iloc[[10, 11]] = np.nan
    trace = plots.fig_series(y).to_dict()["data"][0]
    assert trace["y"][10] is None and trace["y"][11] is None


def test_spamits_html_renderer_is_registered_and_deterministic():
    assert "spamits_html" in pio.renderers
    renderer = pio.renderers["spamits_html"]
    fig = _figures(True)["counterfactual"].to_dict()
    first = renderer.to_mimebundle(fig)["text/html"]
    second = renderer.to_mimebundle(fig)["text/html"]
    ids = [re.findall(r'<div id="(spamits-fig-\d+)"', html) for html in (first, second)]
    assert len(ids[0]) == len(ids[1]) == 1
    n = int(ids[0][0].rsplit("-", 1)[1])
    assert ids[1][0] == f"spamits-fig-{n + 1}"  # numbered in order, never random
    assert first.replace(ids[0][0], "X") == second.replace(ids[1][0], "X")
    for html in (first, second):
        low = html.lower()
        assert "cdn" not in low and "mathjax" not in low
        assert not re.search(r"<script[^>]*\bsrc\s*=", html, re.IGNORECASE)
        assert "Plotly.newPlot" in html


def test_default_renderer_comes_from_the_environment():
    assert pio.renderers.default == os.environ.get(plots.RENDERER_ENV, "plotly_mimetype+spamits_png")
    environ = dict(os.environ, **{plots.RENDERER_ENV: "plotly_mimetype+spamits_html"})
    code = "import plotly.io as pio, spamits.plots; print(pio.renderers.default)"
    out = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "plotly_mimetype+spamits_html"


def test_static_image_renderer_adds_nothing_without_a_browser(monkeypatch):
    from spamits.plots import static

    monkeypatch.setattr(static, "_state", {"running": False, "unavailable": False})
    monkeypatch.setattr(static, "_chromium", lambda: None)
    assert static.StaticImageRenderer().to_mimebundle({"data": [], "layout": {}}) == {}


@pytest.mark.browser
def test_static_image_renderer_gives_a_png_beside_the_plotly_json():
    import base64

    from spamits.plots import static

    if static._chromium() is None:
        pytest.skip("no Chromium")
    fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[3, 1, 2]))
    bundle = pio._renderers.renderers._build_mime_bundle(fig.to_dict(), "plotly_mimetype+spamits_png")
    assert "application/vnd.plotly.v1+json" in bundle
    assert base64.b64decode(bundle["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"

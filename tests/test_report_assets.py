"""Lean reports without building one: the shared plotly.js (spamits.report.assets), pages that load it or embed
it, the PDF helpers (spamits.report.pdf), the index's PDF links and citation, and the --self-contained option.
The checks on a real build are in test_report_real.py (one build shared by its tests)."""

from __future__ import annotations

import base64
import os
import re

import nbformat
import plotly.io as pio
import pytest

from spamits import __version__, cli, plots, report
from spamits.report import assets, cache
from spamits.report.index import CITATION_TITLE, citation
from spamits.report.pdf import FIXED_DATE, pdf_outline, pdf_page_count, reproducible_pdf

PLOTLY_MIME = "application/vnd.plotly.v1+json"
assert plots.RENDERER_ENV  # importing spamits.plots registers the spamits_html renderers


def figure_notebook() -> nbformat.NotebookNode:
    """A notebook with one figure output as the report kernels write it (mimetype and HTML, no plotly.js)."""
    fig = {"data": [{"type": "scatter", "x": [1, 2], "y": [3, 4]}], "layout": {"title": {"text": "t"}}}
    html = pio.renderers["spamits_html_shared"].to_mimebundle(fig)["text/html"]
    cell = nbformat.v4.new_code_cell("fig", outputs=[nbformat.v4.new_output(
        "display_data", data={PLOTLY_MIME: fig, "text/html": html})])
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Figure page"), cell])


def test_shared_plotlyjs_is_copied_once_from_the_plotly_package(tmp_path):
    target = assets.ensure_shared_plotlyjs(tmp_path)
    assert target == tmp_path / "_static" / f"plotly-{assets.plotlyjs_version()}.min.js"
    assert target.read_bytes() == assets.plotlyjs_source().read_bytes()
    stamp = target.stat().st_mtime_ns
    assert assets.ensure_shared_plotlyjs(tmp_path) == target and target.stat().st_mtime_ns == stamp  # not rewritten
    target.write_text("truncated")
    assets.ensure_shared_plotlyjs(tmp_path)
    assert target.read_bytes() == assets.plotlyjs_source().read_bytes()
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # no temporary file left


def test_pages_load_the_shared_plotlyjs_or_embed_it_once():
    nb = figure_notebook()
    src = assets.shared_plotlyjs_href()
    assert src == f"../_static/plotly-{assets.plotlyjs_version()}.min.js"
    lean = report.notebook_to_html(nb, title="lean", plotlyjs_src=src)
    assert lean.count(f'src="{src}"') == 1 and not assets.PLOTLYJS_MARKER_RE.search(lean)
    assert lean.index(f'src="{src}"') < lean.index("Plotly.newPlot")  # loaded in <head>, before the figures
    assert len(lean) < 500_000  # nbconvert's lab CSS (about 260 kB), no plotly.js
    whole = report.notebook_to_html(nb, title="whole")  # no src: a page that works on its own
    assert len(assets.PLOTLYJS_MARKER_RE.findall(whole)) == 1
    assert not re.search(r"<script[^>]*\bsrc=", whole)
    assert report.external_resources(lean) == report.external_resources(whole) == []
    plain = report.notebook_to_html(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# No figure")]))
    assert "PlotlyConfig" not in plain and not assets.PLOTLYJS_MARKER_RE.search(plain)  # no figure: no plotly.js


def test_report_renderer_writes_no_plotlyjs_into_the_notebook():
    assert report.REPORT_RENDERER == "plotly_mimetype"
    renderer = pio.renderers["spamits_html_shared"]
    assert renderer.embed_plotlyjs is False and pio.renderers["spamits_html"].embed_plotlyjs is True
    shown = []
    import plotly.io._base_renderers as base

    original = base.ipython_display
    try:
        base.ipython_display = type("D", (), {"display_html": staticmethod(lambda *a, **k: shown.append(a))})
        renderer.activate()
    finally:
        base.ipython_display = original
    assert shown == []


def test_reproducible_pdf_fixes_the_dates_and_keeps_every_offset():
    data = (b"%PDF-1.4\n1 0 obj\n<</Title (x)\n/CreationDate (D:20261204113848+00'00')\n"
            b"/ModDate (D:20261204113849+00'00')>>\nendobj\n")
    fixed = reproducible_pdf(data)
    assert len(fixed) == len(data)
    assert fixed.count(FIXED_DATE) == 2 and b"2026" not in fixed


def test_pdf_outline_and_page_count_read_chromium_pdf_objects():
    data = (b"<</Type /Pages /Count 2>>\n<</Type /Page /Parent 2 0 R>>\n<</Type /Page\n/Parent 2 0 R>>\n"
            b"<</Title (spamits report: a \\(b\\))>>\n<</Title <FEFF00E9007400E9>>>\n<</Title (caf\\351)>>")
    assert pdf_page_count(data) == 2
    assert pdf_outline(data) == ["spamits report: a (b)", "\u00e9t\u00e9", "caf\u00e9"]


def test_index_links_the_pdf_and_shows_version_and_how_to_cite(tmp_path):
    folder = tmp_path / "mccolo"
    folder.mkdir()
    run = report.Run(name="mccolo", notebook=tmp_path / "x.ipynb", parameters={"event_id": "mccolo"})
    outcome = report.RunOutcome(run, "ok", report=folder / "mccolo.html", results={})
    html = report.build_index(tmp_path, [outcome]).read_text(encoding="utf-8")
    assert "mccolo.pdf" not in html  # no PDF on disk: no link
    (folder / "mccolo.pdf").write_bytes(b"%PDF-1.4\n")
    html = report.build_index(tmp_path, [outcome]).read_text(encoding="utf-8")
    assert '<a class="full pdf" href="mccolo/mccolo.pdf">PDF</a>' in html
    assert '<section class="cite" id="how-to-cite">' in html and "How to cite" in html
    assert f"spamits version {__version__}" in html and CITATION_TITLE in html
    assert citation()["text"] in html and f"version = {{{__version__}}}" in html
    assert "<script" not in html


def test_self_contained_option_reaches_the_build_and_the_cache_key(monkeypatch):
    seen = {}
    monkeypatch.setattr(report, "run_all", lambda **kwargs: seen.update(kwargs) or 0)
    assert cli.main(["report", "--only", "mccolo", "--self-contained", "-q"]) == 0
    assert seen["self_contained"] is True
    assert cli.main(["report", "--only", "mccolo", "-q"]) == 0
    assert seen["self_contained"] is False

    run = report.load_runs(report.DEFAULT_RUNS_FILE)[0]
    shared = {"package": "p", "data": {}}
    lean = cache.run_cache_inputs(run, True, shared)
    whole = cache.run_cache_inputs(run, True, shared, self_contained=True)
    assert "self_contained" not in lean["settings"] and whole["settings"]["self_contained"] is True
    assert cache.cache_key(lean) != cache.cache_key(whole)


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_shared_plotlyjs_is_readable_by_everyone(tmp_path):
    assert assets.ensure_shared_plotlyjs(tmp_path).stat().st_mode & 0o444 == 0o444


def test_figure_images_become_files_shared_by_the_pages(tmp_path):
    nb = figure_notebook()
    png = b"\x89PNG\r\n\x1a\nfake"
    nb.cells[1].outputs[0].data["image/png"] = base64.b64encode(png).decode("ascii")
    pages_nb = report.notebook.figure_image_files(nb, tmp_path)
    assert (tmp_path / "figures" / "figure-01.png").read_bytes() == png
    assert "image/png" in nb.cells[1].outputs[0].data  # the notebook itself keeps its PNG
    html = report.notebook_to_html(pages_nb, title="p", plotlyjs_src=assets.shared_plotlyjs_href())
    images = [re.search(r'\bsrc="([^"]*)"', tag).group(1)
              for tag in re.findall(r'<img[^>]*class="spamits-static-figure"[^>]*>', html)]
    assert images == ["figures/figure-01.png"]
    assert "<img" in html and not re.search(r"<img[^>]*data:image/png", html)
    inline = report.notebook_to_html(nb, title="p", plotlyjs_src=assets.shared_plotlyjs_href())
    assert 'src="data:image/png;base64,' in inline  # --self-contained: the PNG stays in the page
    assert report.notebook.figure_image_files(figure_notebook(), tmp_path / "none") is not None
    assert not (tmp_path / "none").exists()  # no PNG, no folder


def test_notebook_keeps_each_figure_once_and_pages_make_its_html_again():
    nb = figure_notebook()
    original = nb.cells[1].outputs[0].data["text/html"]
    assert report.notebook.with_figure_html(nb) is nb  # nothing missing: no copy
    assert report.notebook.drop_figure_html(nb) == 1
    assert set(nb.cells[1].outputs[0].data) == {PLOTLY_MIME}
    again = report.notebook.with_figure_html(nb)
    assert again is not nb and "text/html" not in nb.cells[1].outputs[0].data  # a copy; nb stays lean
    html = again.cells[1].outputs[0].data["text/html"]
    assert 'id="spamits-fig-1"' in html and "Plotly.newPlot" in html
    assert re.sub(r"spamits-fig-\d+", "ID", html) == re.sub(r"spamits-fig-\d+", "ID", original)
    page = report.notebook_to_html(nb, title="p", plotlyjs_src=assets.shared_plotlyjs_href())
    assert page.count('class="plotly-graph-div"') == 1 and page.count("Plotly.newPlot") == 1
    assert page == report.notebook_to_html(nb, title="p", plotlyjs_src=assets.shared_plotlyjs_href())

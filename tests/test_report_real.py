"""Real report runs of the project notebooks (mccolo and compare-takedowns, built once for this module): offline
pages with one shared plotly.js, static images, PDFs, and the reviewer pages in headless Chromium
(browser_support.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from browser_support import Browser, find_chromium
from report_support import (
    PLOTLY_MIME,
    REQUIRED_RUNS,
    assert_no_run_dates,
    assert_offline,
    expected_files,
    require_chromium,
)
from spamits import report
from spamits.report import assets
from spamits.report.pdf import pdf_outline, pdf_page_count

# --- real runs of the project notebooks (built once for this module) ----------------------------------------


@pytest.fixture(scope="module")
def real_reports(tmp_path_factory) -> Path:
    """reports/ with the real mccolo and compare-takedowns runs (two worker processes)."""
    out = tmp_path_factory.mktemp("real") / "reports"
    assert report.run_all(out_dir=out, only=["mccolo", "compare-takedowns"], jobs=2) == 0
    return out


@pytest.mark.slow
@pytest.mark.report
def test_real_papermill_run_writes_offline_report_with_plotly(real_reports):
    out = real_reports
    folder = out / "mccolo"
    assert sorted(p.name for p in folder.iterdir()) == sorted(expected_files("mccolo", static=bool(find_chromium())))
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")], "temporary folders left behind"

    html = (folder / "mccolo.html").read_text(encoding="utf-8")
    shared = f"../_static/plotly-{assets.plotlyjs_version()}.min.js"
    assert html.count(f'src="{shared}"') == 1, "the page must load the shared plotly.js once"
    assert not assets.PLOTLYJS_MARKER_RE.search(html), "plotly.js embedded in the page"
    assert 'class="plotly-graph-div"' in html
    assert_offline(html)
    assert "Run parameters (papermill)" in html
    key = html.index('class="spamits-key-results"')  # the Findings, copied into a box at the top of the page
    assert key < html.index('<div class="jp-Cell ') and "Spam fell by" in html[key:html.index("</section>", key)]
    assert '<div class="jp-CodeMirrorEditor' not in html  # no code input
    assert '<a href="mccolo.full.html">full notebook with code</a>' in html
    full = (folder / "mccolo.full.html").read_text(encoding="utf-8")
    assert_offline(full)
    assert "jp-CodeMirrorEditor" in full and "injected-parameters" in (folder / "mccolo.ipynb").read_text()

    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert results["run"]["event_id"] == "mccolo"
    assert results["event"]["id"] == "mccolo"
    assert results["data"]["simulated"] is True
    assert set(results["headline"]) >= {"immediate_change", "relative_30", "half_life"}

    index = (out / "index.html").read_text(encoding="utf-8")
    assert '<a href="mccolo/mccolo.html">mccolo</a>' in index
    assert '<a class="full" href="mccolo/mccolo.full.html">with code</a>' in index
    assert "SIMULATED" in index
    for name in REQUIRED_RUNS - {"mccolo"}:
        assert f'<tr id="run-{name}">' in index  # listed, "not run" in this build
    assert_offline(index)


@pytest.mark.slow
@pytest.mark.report
def test_real_report_notebook_has_static_images_and_no_run_dates(real_reports):
    require_chromium()
    folder = real_reports / "mccolo"
    nb = json.loads((folder / "mccolo.ipynb").read_text(encoding="utf-8"))
    figures = [o for c in nb["cells"] for o in c.get("outputs", []) if PLOTLY_MIME in o.get("data", {})]
    assert len(figures) >= 3
    for output in figures:
        assert set(output["data"]) == {PLOTLY_MIME}  # the figure's JSON once: the pages make its HTML from it,
        # and its PNG is a file of figures/ shared by the pages (JupyterLab draws the JSON)
    pngs = sorted((folder / "figures").glob("figure-*.png"))
    assert len(pngs) == len(figures)
    for path in pngs:
        png = path.read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000
    assert_no_run_dates(folder / "mccolo.ipynb")
    meta = json.loads((folder / "run_metadata.json").read_text(encoding="utf-8"))
    assert meta["status"] == "ok" and meta["figures"] == len(figures) and len(meta["cache_key"]) == 64
    assert meta["papermill"]["start_time"] and meta["cells"]  # the dates went here
    html = (folder / "mccolo.html").read_text(encoding="utf-8")
    assert html.count('class="spamits-static-figure"') == len(figures)  # each PNG shown where JS does not run


@pytest.mark.slow
@pytest.mark.report
def test_index_embeds_the_cross_takedown_figure(real_reports):
    require_chromium()
    index = (real_reports / "index.html").read_text(encoding="utf-8")
    assert '<figure class="cross" id="cross-takedown">' in index
    assert '<a href="compare-takedowns/compare-takedowns.html"><img src="data:image/png;base64,' in index
    assert "Immediate change and half-life by event" in index


# --- the reviewer pages in a real browser (headless Chromium over the DevTools protocol) ---------------------


@pytest.mark.slow
@pytest.mark.report
@pytest.mark.browser
def test_browser_without_javascript_shows_the_static_images(real_reports):
    executable = require_chromium()
    with Browser(executable) as browser:
        session = browser.open_without_javascript((real_reports / "mccolo" / "mccolo.html").as_uri())
        sizes = browser.evaluate(session, "Array.from(document.querySelectorAll('img.spamits-static-figure'))"
                                          ".map(i => [i.naturalWidth, i.getBoundingClientRect().height])")
        assert len(sizes) >= 3 and all(w > 500 and h > 200 for w, h in sizes), sizes


# --- lean reports: one shared plotly.js, small pages, a PDF per run (issue 14) -----------------------------

PAGE_LIMIT = 2_000_000
"""Bytes a reviewer page may have (plotly.js, 4.8 MB, is shared, not embedded)."""
EVERY_PLOT_DRAWN = ("Array.from(document.querySelectorAll('.plotly-graph-div'))"
                    ".every(d => d.querySelector('.main-svg'))")


def reviewer_pages(out: Path) -> list[Path]:
    """The reviewer page of every good report of a build: ``<out>/<run>/<run>.html``."""
    return sorted(p for p in out.glob("*/*.html") if p.name == f"{p.parent.name}.html")


def files_embedding_plotlyjs(out: Path) -> list[str]:
    """Files of a build that hold plotly.js itself (its banner comment), relative to ``out``."""
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()
                  and assets.PLOTLYJS_MARKER_RE.search(p.read_text(encoding="utf-8", errors="replace")))


@pytest.mark.slow
@pytest.mark.report
def test_report_pages_are_small_and_share_one_plotlyjs(real_reports):
    out = real_reports
    shared = out / assets.STATIC_DIR / assets.plotlyjs_file_name()
    assert shared.read_bytes() == assets.plotlyjs_source().read_bytes()
    assert files_embedding_plotlyjs(out) == [shared.relative_to(out).as_posix()]
    pages = reviewer_pages(out)
    assert {p.parent.name for p in pages} == {"mccolo", "compare-takedowns"}
    for page in pages:
        assert page.stat().st_size < PAGE_LIMIT, f"{page.name}: {page.stat().st_size} bytes"
        for html_page in (page, page.with_name(f"{page.parent.name}.full.html")):
            html = html_page.read_text(encoding="utf-8")
            scripts = re.findall(r'<script[^>]*\bsrc="([^"]+)"', html)
            assert scripts == [f"../{assets.STATIC_DIR}/{shared.name}"], (html_page.name, scripts)
            assert (html_page.parent / scripts[0]).resolve() == shared.resolve()
            images = [re.search(r'\bsrc="([^"]*)"', tag).group(1)
                      for tag in re.findall(r'<img[^>]*class="spamits-static-figure"[^>]*>', html)]
            assert images and all(re.fullmatch(r"figures/figure-\d\d\.png", src) for src in images), images
            assert all((html_page.parent / src).read_bytes().startswith(b"\x89PNG") for src in images)
        # The notebook: no plotly.js, every figure as the mimetype JupyterLab's plotly extension draws.
        nb = json.loads(page.with_suffix(".ipynb").read_text(encoding="utf-8"))
        outputs = [o for c in nb["cells"] for o in c.get("outputs", []) if o.get("output_type") == "display_data"]
        figures = [o for o in outputs if PLOTLY_MIME in o["data"]]
        assert figures and not [o for o in figures if "text/html" in o["data"]]
        assert not [o for o in outputs if "text/html" in o["data"] and PLOTLY_MIME not in o["data"]
                    and "plotly" in "".join(o["data"]["text/html"]).lower()], "a plotly.js loader output is left"
        assert page.read_text(encoding="utf-8").count('class="plotly-graph-div"') == len(figures)


@pytest.mark.slow
@pytest.mark.report
def test_self_contained_pages_embed_plotlyjs_once(real_reports, tmp_path):
    """`spamits report --self-contained`: the page written from the same notebook embeds plotly.js once and
    loads nothing (checked on the mccolo notebook of the shared build, without a second papermill run)."""
    nb = real_reports / "mccolo" / "mccolo.ipynb"
    html = report.notebook_to_html(nb, title="mccolo", plotlyjs_src=None)
    assert len(assets.PLOTLYJS_MARKER_RE.findall(html)) == 1
    assert not re.search(r"<script[^>]*\bsrc=", html)
    assert_offline(html)


@pytest.mark.slow
@pytest.mark.report
def test_each_run_has_a_pdf_with_pages_and_its_headings(real_reports):
    require_chromium()
    expected = {"mccolo": ["spamits report: mccolo", "What did a takedown do to spam volume?", "The event"],
                "compare-takedowns": ["spamits report: compare-takedowns", "The events",
                                      "Did any takedown have a lasting effect?"]}
    for name, texts in expected.items():
        data = (real_reports / name / f"{name}.pdf").read_bytes()
        assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
        assert pdf_page_count(data) >= 2
        outline = pdf_outline(data)
        assert set(texts) <= set(outline), outline
        assert b"D:19700101000000" in data, "the print date was not fixed"
    index = (real_reports / "index.html").read_text(encoding="utf-8")
    assert '<a class="full pdf" href="mccolo/mccolo.pdf">PDF</a>' in index
    assert '<a href="mccolo.pdf">PDF</a>' in (real_reports / "mccolo" / "mccolo.html").read_text(encoding="utf-8")


def reviewer_page_extra_checks(browser: Browser, session: str, page: Path) -> None:
    """HOOK for checks of reviewer-page content that other parts of issue 14 add (e.g. the "findings"
    key-results box): called by :func:`test_browser_every_page_draws_its_figures_with_one_shared_plotlyjs` for
    every reviewer page ``<run>/<run>.html`` of the shared build, after its figures are drawn, with the CDP
    session of that page (``browser.evaluate(session, js)``): the Findings key-results box sits at the top, above
    the first figure, and holds the notebook's findings text."""
    box = browser.evaluate(session, "document.querySelector('.spamits-key-results') ? "
                                    "document.querySelector('.spamits-key-results').getBoundingClientRect().top : -1")
    assert box >= 0, f"{page.name}: no key-results box"
    first_figure = browser.evaluate(session, "document.querySelector('.plotly-graph-div') ? document.querySelector("
                                             "'.plotly-graph-div').getBoundingClientRect().top : 1e9")
    assert box < first_figure, f"{page.name}: key results not above the figures"
    text = browser.evaluate(session, "document.querySelector('.spamits-key-results').innerText")
    assert ("SIMULATED" in text or "REAL" in text), f"{page.name}: findings do not say SIMULATED or REAL first"


@pytest.mark.slow
@pytest.mark.report
@pytest.mark.browser
def test_browser_every_page_draws_its_figures_with_one_shared_plotlyjs(real_reports):
    """Every page of the build in headless Chromium: each figure drawn (plotly's .main-svg), no console error or
    exception, no request leaving the machine, and plotly.js loaded once, from the shared copy; on the index,
    the cross-takedown figure shown and every link (pages, PDFs) pointing at a file of the build."""
    executable = require_chromium()
    out = real_reports
    pages = [out / "index.html"]
    for reviewer in reviewer_pages(out):
        pages += [reviewer, reviewer.with_name(f"{reviewer.parent.name}.full.html")]
    shared = (out / assets.STATIC_DIR / assets.plotlyjs_file_name()).as_uri()
    with Browser(executable) as browser:
        for page in pages:
            session, log = browser.open(page.as_uri(), ready=EVERY_PLOT_DRAWN)
            plots = browser.evaluate(session, "document.querySelectorAll('.plotly-graph-div').length")
            drawn = browser.evaluate(session, "document.querySelectorAll('.plotly-graph-div .main-svg').length")
            assert drawn >= plots, (page.name, plots, drawn)
            assert log.errors() == [], (page.name, log.errors())
            assert log.network_requests() == [], (page.name, log.network_requests())
            loads = [url for url in log.requests if "plotly" in url.lower()]
            if page.name == "index.html":
                assert loads == [] and plots == 0
                width = browser.evaluate(session, "document.querySelector('figure.cross img').naturalWidth")
                links = browser.evaluate(session, "Array.from(document.querySelectorAll('td a')).map(a => a.href)")
                assert width > 500
                assert links and all(Path(unquote(urlparse(link).path)).is_file() for link in links), links
                continue
            assert plots >= 1 and loads == [shared], (page.name, loads)
            assert browser.evaluate(session, "typeof Plotly === 'object' && Plotly.version") == \
                assets.plotlyjs_version()
            if page == page.with_name(f"{page.parent.name}.html"):
                reviewer_page_extra_checks(browser, session, page)



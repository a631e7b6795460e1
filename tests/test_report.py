"""Tests of spamits.report: the runs file, real report runs, failures, atomicity, cache, reproducible bytes,
interrupted builds, Dask, index.html, and the reviewer pages in headless Chromium (browser_support.py)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import pandas as pd
import pytest
import yaml

from browser_support import Browser, find_chromium
from spamits import __version__, report
from spamits.errors import ReportError
from spamits.report import assets
from spamits.report.pdf import pdf_outline, pdf_page_count

FIXTURE = Path(__file__).parent / "fixtures" / "tiny_report.ipynb"
FIGURE_FIXTURE = Path(__file__).parent / "fixtures" / "figure_report.ipynb"
PLOTLY_MIME = "application/vnd.plotly.v1+json"
REQUIRED_RUNS = {"mccolo", "intercage", "rustock", "grum", "rustock-holiday"}
EVIL = "<script>alert(1)</script>"


def write_runs(folder: Path, entries: list[dict]) -> Path:
    path = folder / "runs.yaml"
    path.write_text(yaml.safe_dump(entries, sort_keys=False), encoding="utf-8")
    return path


def fixture_run(name: str, event_id: str) -> dict:
    return {"name": name, "notebook": str(FIXTURE), "parameters": {"event_id": event_id}}


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def expected_files(name: str, *, static: bool = False) -> list[str]:
    """The files of a good report folder (``static``: the build had a Chromium, so it printed ``<name>.pdf`` and
    wrote the figures' PNGs to ``figures/`` for the pages)."""
    return [f"{name}.ipynb", f"{name}.html", f"{name}.full.html", "results.json", "run_metadata.json",
            *([f"{name}.pdf", "figures"] if static else [])]


def require_chromium() -> str:
    """The Chromium to use; skips without one, except on CI where the browser checks are mandatory."""
    executable = find_chromium()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("no Chrome/Chromium on CI: `make browser` (part of `make test`) must install it")
        pytest.skip("no Chrome/Chromium found (run `make browser`)")
    return executable


def assert_no_run_dates(nb_path: Path) -> None:
    """No papermill/nbclient timing metadata left in a report notebook (they live in run_metadata.json)."""
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    papermill_meta = nb["metadata"].get("papermill", {})
    assert not {"start_time", "end_time", "duration", "output_path"} & set(papermill_meta), papermill_meta
    assert not papermill_meta.get("input_path", "").startswith("/"), "input path must be project-relative"
    for cell in nb["cells"]:
        assert not {"papermill", "execution"} & set(cell["metadata"]), cell["metadata"]


def assert_offline(html: str) -> None:
    assert report.external_resources(html) == []
    assert not re.search(r"<script[^>]*\bsrc\s*=\s*[\"']?\s*(https?:)?//", html, re.IGNORECASE)
    assert not re.search(r"<link[^>]*\bhref\s*=\s*[\"']?\s*(https?:)?//", html, re.IGNORECASE)


# --- the runs file ---------------------------------------------------------------------------------------


def test_project_runs_file_is_valid():
    runs = report.load_runs(report.DEFAULT_RUNS_FILE)
    by_name = {run.name: run for run in runs}
    assert REQUIRED_RUNS <= set(by_name)
    for run in runs:
        if run.name in REQUIRED_RUNS:
            assert run.notebook == report.DEFAULT_RUNS_FILE.parent / "takedown_its.ipynb"
            assert run.parameters["series"] == run.parameters["event_id"] == run.name
    assert by_name["rustock"].parameters["effect"] == "step"
    assert by_name["rustock-holiday"].parameters["effect"] == "step"
    assert {by_name[n].parameters["effect"] for n in ("mccolo", "intercage", "grum")} == {"decay"}


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ([{"name": "a", "notebook": str(FIXTURE), "params": {}}], r"entry 1 \('a'\): unknown key\(s\) params"),
        ([fixture_run("a", "mccolo"), fixture_run("a", "grum")], r"entry 2 \('a'\): duplicate run name 'a'"),
        ([{"name": "a", "notebook": "nope.ipynb"}], r"entry 1 \('a'\): notebook 'nope.ipynb' not found"),
        ([{"name": "Bad Name", "notebook": str(FIXTURE)}], r"entry 1 \('Bad Name'\): name 'Bad Name'"),
        ([{"notebook": str(FIXTURE)}], r"entry 1: name None is missing"),
        ([{"name": "a", "notebook": str(FIXTURE), "parameters": {"seed": 1}}],
         r"entry 1 \('a'\): unknown parameter\(s\) seed for tiny_report.ipynb; its parameters cell defines: "
         r"event_id, results_path"),
        ([{"name": "a", "notebook": str(FIXTURE), "parameters": {"results_path": "x.json"}}],
         r"parameter 'results_path' is set by the report runner"),
        ([{"name": "a", "notebook": str(FIXTURE), "parameters": ["event_id"]}], r"parameters must be a mapping"),
        (["mccolo"], r"entry 1: expected a mapping"),
        ({"name": "a"}, r"expected a non-empty YAML list"),
        ([], r"expected a non-empty YAML list"),
    ],
)
def test_bad_runs_file_names_file_and_entry(tmp_path, entries, expected):
    path = write_runs(tmp_path, entries)
    with pytest.raises(ReportError, match=expected) as info:
        report.load_runs(path)
    assert str(path) in str(info.value)


def test_runs_file_yaml_syntax_error_and_missing_file(tmp_path):
    path = tmp_path / "runs.yaml"
    path.write_text("- name: [unclosed\n", encoding="utf-8")
    with pytest.raises(ReportError, match=r"runs.yaml: not valid YAML"):
        report.load_runs(path)
    with pytest.raises(ReportError, match=r"missing.yaml: runs file not found"):
        report.load_runs(tmp_path / "missing.yaml")


def test_notebook_path_is_relative_to_runs_file(tmp_path):
    folder = tmp_path / "nb"
    folder.mkdir()
    (folder / "copy.ipynb").write_bytes(FIXTURE.read_bytes())
    runs = report.load_runs(write_runs(folder, [{"name": "a", "notebook": "copy.ipynb"}]))
    assert runs[0].notebook == (folder / "copy.ipynb").resolve()
    assert runs[0].parameters == {}


def test_unknown_only_name_is_an_error(tmp_path):
    runs_file = write_runs(tmp_path, [fixture_run("a", "mccolo")])
    with pytest.raises(ReportError, match=r"unknown run name\(s\) zzz; runs: a"):
        report.run_all(runs_file, tmp_path / "out", only=["zzz"])


# --- runs generated from the derived untroubled.org counts ----------------------------------------------------

DAILY = "data/derived/untroubled_daily.csv"
HOURLY = "data/derived/untroubled_hourly.csv"


@pytest.fixture
def data_folder(tmp_path, monkeypatch) -> Path:
    """A data folder (SPAMITS_DATA_DIR) with the project's catalog and an empty derived/ folder."""
    data = tmp_path / "data"
    (data / "derived").mkdir(parents=True)
    for name in ("events.csv", "vendor_figures.csv"):
        shutil.copy(report.PROJECT_ROOT / "data" / name, data / name)
    monkeypatch.setenv("SPAMITS_DATA_DIR", str(data))
    return data


def write_derived(data: Path, first_month: str, last_month: str, *, freq: str = "D", count: int = 500) -> Path:
    """Counts in the schema of spamits data count (every period of whole months) and their manifest."""
    start = pd.Timestamp(f"{first_month}-01")
    end = pd.Timestamp(f"{last_month}-01") + pd.offsets.MonthEnd(0) + pd.Timedelta(hours=23 if freq == "h" else 0)
    fmt, stem = ("%Y-%m-%dT%H:00:00Z", "untroubled_hourly") if freq == "h" else ("%Y-%m-%d", "untroubled_daily")
    text = "date,count\n" + "".join(f"{t.strftime(fmt)},{count}\n" for t in pd.date_range(start, end, freq=freq))
    path = data / "derived" / f"{stem}.csv"
    path.write_text(text, encoding="utf-8")
    manifest = {"file": path.name, "sha256": hashlib.sha256(text.encode()).hexdigest(), "freq": "hour" if freq ==
                "h" else "day", "data_note": "REAL: test counts in the schema of spamits data count"}
    path.with_name(f"{stem}.manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return path


def test_untroubled_runs_are_generated_for_every_event_the_daily_counts_cover(data_folder):
    daily = write_derived(data_folder, "2008-07", "2009-03")
    runs = report.load_runs(report.DEFAULT_RUNS_FILE)
    names = [run.name for run in runs]
    by_name = {run.name: run for run in runs}
    assert len(names) == len(set(names))
    generated = ["trap-audit", "untroubled-intercage", "untroubled-mccolo", "untroubled-srizbi"]
    assert names[names.index("trap-audit"):names.index("trap-audit") + 4] == generated  # in the entry's place
    audit_run = by_name["trap-audit"]
    assert audit_run.notebook == report.DEFAULT_RUNS_FILE.parent / "trap_audit.ipynb"
    assert audit_run.parameters == {"counts_path": DAILY} and audit_run.requires == DAILY
    joint = ["intercage", "mccolo", "srizbi"]
    assert by_name["untroubled-intercage"].parameters == {
        "event_id": "intercage", "series": "untroubled", "effect": "decay", "pre_periods": 82, "post_periods": 120,
        "joint_events": joint}  # 82 counted days before 2008-09-21
    for event_id in ("mccolo", "srizbi"):
        run = by_name[f"untroubled-{event_id}"]
        assert run.notebook == report.DEFAULT_RUNS_FILE.parent / "takedown_its.ipynb" and run.requires == DAILY
        assert (run.parameters["pre_periods"], run.parameters["post_periods"]) == (90, 120)
        assert run.parameters["event_id"] == event_id and run.parameters["joint_events"] == joint
    compare = by_name["compare-takedowns"]
    assert compare.parameters["real_series"] == dict.fromkeys(joint, "untroubled") and compare.requires == DAILY
    shared = {"package": "p", "data": {}}  # only the requires file differs between the keys below
    before = report.run_cache_inputs(by_name["untroubled-mccolo"], False, shared)
    assert before["requires"] == hashlib.sha256(daily.read_bytes()).hexdigest()
    write_derived(data_folder, "2008-07", "2009-03", count=501)
    after = report.run_cache_inputs(by_name["untroubled-mccolo"], False, shared)
    assert report.cache.cache_key(after) != report.cache.cache_key(before)


def test_trap_audit_uses_the_hourly_counts_when_they_exist(data_folder):
    write_derived(data_folder, "2008-11", "2008-11", freq="h")
    by_name = {run.name: run for run in report.load_runs(report.DEFAULT_RUNS_FILE)}
    assert by_name["trap-audit"].parameters == {"counts_path": HOURLY} and by_name["trap-audit"].requires == HOURLY
    assert not [name for name in by_name if name.startswith("untroubled-")]  # event fits need the daily counts
    assert "real_series" not in by_name["compare-takedowns"].parameters


def test_no_untroubled_runs_without_derived_counts(data_folder):
    by_name = {run.name: run for run in report.load_runs(report.DEFAULT_RUNS_FILE)}
    assert not [name for name in by_name if name == "trap-audit" or name.startswith("untroubled-")]
    assert "real_series" not in by_name["compare-takedowns"].parameters


def test_events_with_too_few_counted_days_are_left_out_with_the_reason(data_folder, caplog):
    write_derived(data_folder, "2008-08", "2008-11")  # to 2008-11-30: 20 days after McColo, 5 after Srizbi
    with caplog.at_level(logging.INFO, logger="spamits.report"):
        by_name = {run.name: run for run in report.load_runs(report.DEFAULT_RUNS_FILE)}
    assert sorted(n for n in by_name if n.startswith("untroubled-")) == ["untroubled-intercage"]
    assert by_name["untroubled-intercage"].parameters["pre_periods"] == 51
    assert by_name["untroubled-intercage"].parameters["joint_events"] == ["intercage", "mccolo"]
    assert "no run untroubled-mccolo: 102 counted days before and 20 from the event on; a fit needs at least 28 " \
           "on each side" in caplog.text
    assert "no run untroubled-srizbi: 117 counted days before and 5 from the event on" in caplog.text
    assert by_name["compare-takedowns"].parameters["real_series"] == {"intercage": "untroubled"}


def test_generate_entries_are_checked(data_folder, tmp_path):
    with pytest.raises(ReportError, match=r"entry 1 \(generate: 'trap'\): a generate entry is exactly"):
        report.load_runs(write_runs(tmp_path, [{"generate": "trap"}]))
    with pytest.raises(ReportError, match=r"entry 1 \(generate: 'untroubled'\): a generate entry is exactly"):
        report.load_runs(write_runs(tmp_path, [{"generate": "untroubled", "name": "x"}]))
    write_derived(data_folder, "2008-07", "2009-03")
    folder = tmp_path / "nb"
    folder.mkdir()
    for name in ("trap_audit.ipynb", "takedown_its.ipynb"):
        shutil.copy(report.DEFAULT_RUNS_FILE.parent / name, folder / name)
    entries = [{"name": "trap-audit", "notebook": "trap_audit.ipynb"}, {"generate": "untroubled"}]
    with pytest.raises(ReportError, match=r"entry 2 \(generate: 'untroubled'\) -> trap-audit: duplicate run name"):
        report.load_runs(write_runs(folder, entries))
    daily = data_folder / "derived" / "untroubled_daily.csv"
    daily.write_text(daily.read_text(encoding="utf-8").replace("2008-07-01,500", "2008-07-01,5"), encoding="utf-8")
    with pytest.raises(ReportError, match=r"untroubled_daily.manifest.json: sha256 .* does not match"):
        report.load_runs(write_runs(folder, entries[1:]))


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


# --- failures and atomicity (fast fixture notebook) -------------------------------------------------------


@pytest.mark.slow
@pytest.mark.report
def test_failure_keeps_previous_report_and_does_not_stop_other_runs(tmp_path, monkeypatch):
    monkeypatch.setenv(report.STATIC_IMAGES_ENV, "0")  # about failures: no kaleido, no PDF (figures: test below)
    out = tmp_path / "reports"
    runs_file = write_runs(tmp_path, [fixture_run("keep", "mccolo"), fixture_run("other", "grum")])
    assert report.run_all(runs_file, out, only=["keep"]) == 0
    good = tree_bytes(out / "keep")
    assert json.loads(good["results.json"])["event"]["id"] == "mccolo"

    # keep now fails (unknown event id); other still runs (in a second worker process) and succeeds.
    write_runs(tmp_path, [fixture_run("keep", "no-such-event"), fixture_run("other", "grum")])
    assert report.run_all(runs_file, out, jobs=2) == 1
    assert tree_bytes(out / "keep") == good, "the previous good report was touched"
    failed = out / "keep.failed"
    expected = ["error.txt", "keep.full.html", "keep.html", "keep.ipynb", "run_metadata.json"]  # no results.json
    assert sorted(p.name for p in failed.iterdir()) == expected
    assert json.loads((failed / "run_metadata.json").read_text(encoding="utf-8"))["status"] == "failed"
    error = (failed / "error.txt").read_text(encoding="utf-8")
    assert "UnknownEventError: unknown event id 'no-such-event'" in error
    assert "no-such-event" in (failed / "keep.html").read_text(encoding="utf-8")  # the traceback is shown
    assert json.loads((out / "other" / "results.json").read_text(encoding="utf-8"))["event"]["id"] == "grum"
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]

    index = (out / "index.html").read_text(encoding="utf-8")
    assert '<span class="status-failed">failed</span>' in index
    assert '<a href="keep.failed/keep.html">failed notebook</a>' in index
    assert '<a href="keep/keep.html">last good report</a>' in index
    assert '<a href="other/other.html">other</a>' in index

    # Fixed again: the failure folder goes away.
    write_runs(tmp_path, [fixture_run("keep", "mccolo"), fixture_run("other", "grum")])
    assert report.run_all(runs_file, out, only=["keep"]) == 0
    assert not failed.exists()
    assert '<span class="status-failed">' not in (out / "index.html").read_text(encoding="utf-8")


# --- cache, reproducible bytes, interrupted builds, scale-out -----------------------------------------------


def figure_run(name: str, event_id: str, delay: float = 0.0) -> dict:
    return {"name": name, "notebook": str(FIGURE_FIXTURE), "parameters": {"event_id": event_id, "delay": delay}}


PINNED_DIGEST = "pinned-for-this-test"
FIGURE_BUILD_TREE = ["_static", "fig-a", "fig-b", "index.html"]
"""Top level of a figure build: the shared plotly.js folder, the two runs and the index."""


@pytest.fixture
def fixed_package_digest(monkeypatch):
    """Pin the package-code hash: other work on lib/spamits during the test must not invalidate the cache."""
    monkeypatch.setattr(report.cache, "package_digest", lambda: PINNED_DIGEST)


@pytest.fixture(scope="module")
def figure_build(tmp_path_factory) -> Path:
    """One cold build of two figure runs (fig-a: mccolo, fig-b: grum; two worker processes, static images when
    a Chromium is found, package hash pinned), shared read-only by the tests below: they copy it
    (:func:`copy_build`) before building on top of it."""
    folder = tmp_path_factory.mktemp("figure-build")
    runs_file = write_runs(folder, [figure_run("fig-a", "mccolo"), figure_run("fig-b", "grum")])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(report.cache, "package_digest", lambda: PINNED_DIGEST)
        assert report.run_all(runs_file, folder / "reports", jobs=2) == 0
    return folder / "reports"


def copy_build(build: Path, dest: Path) -> Path:
    shutil.copytree(build, dest)
    return dest


@pytest.mark.slow
@pytest.mark.report
def test_cache_skips_unchanged_runs_and_reruns_only_the_changed_one(tmp_path, figure_build, fixed_package_digest,
                                                                    caplog):
    out = copy_build(figure_build, tmp_path / "reports")  # a, b: built by the same runs file
    runs_file = write_runs(tmp_path, [figure_run("fig-a", "mccolo"), figure_run("fig-b", "grum")])
    first = {name: tree_bytes(out / name) for name in ("fig-a", "fig-b")}

    caplog.set_level("INFO", logger="spamits.report")
    assert report.run_all(runs_file, out, jobs=2) == 0  # skipped runs are told by the log below, not by a clock
    assert {name: tree_bytes(out / name) for name in ("fig-a", "fig-b")} == first  # not even run_metadata.json changed
    assert "fig-a: unchanged, skipped" in caplog.text and "fig-b: unchanged, skipped" in caplog.text
    assert "2 unchanged (skipped), 0 to run" in caplog.text

    write_runs(tmp_path, [figure_run("fig-a", "mccolo"), figure_run("fig-b", "intercage")])  # one parameter changed
    caplog.clear()
    assert report.run_all(runs_file, out, jobs=2) == 0
    assert tree_bytes(out / "fig-a") == first["fig-a"]
    assert json.loads((out / "fig-b" / "results.json").read_text(encoding="utf-8"))["event"]["id"] == "intercage"
    assert "1 unchanged (skipped), 1 to run" in caplog.text and "[1/1] fig-b: ok" in caplog.text

    caplog.clear()
    assert report.run_all(runs_file, out, only=["fig-a"], force=True) == 0
    assert "0 unchanged (skipped), 1 to run" in caplog.text
    assert tree_bytes(out / "fig-a")["results.json"] == first["fig-a"]["results.json"]


def test_cache_key_follows_parameters_data_files_and_code(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    (data / "events.csv").write_text("id\nx\n", encoding="utf-8")
    (data / "README.md").write_text("docs\n", encoding="utf-8")
    monkeypatch.setenv("SPAMITS_DATA_DIR", str(data))
    series = tmp_path / "series.csv"
    series.write_text("date,count\n2008-01-01,1\n", encoding="utf-8")
    cache = report.cache

    def key(**parameters: object) -> str:
        return cache.cache_key(cache.cache_inputs(FIXTURE, parameters, package="p"))

    base = key(event_id="mccolo", series=str(series))
    assert key(event_id="mccolo", series=str(series)) == base
    assert key(event_id="grum", series=str(series)) != base
    series.write_text("date,count\n2008-01-01,2\n", encoding="utf-8")  # the CSV series a parameter names
    assert key(event_id="mccolo", series=str(series)) != base
    base = key(event_id="mccolo", series=str(series))
    (data / "README.md").write_text("other docs\n", encoding="utf-8")  # not an input
    assert key(event_id="mccolo", series=str(series)) == base
    (data / "derived").mkdir()
    (data / "derived" / "untroubled_daily.csv").write_text("date,count\n", encoding="utf-8")
    assert key(event_id="mccolo", series=str(series)) != base
    assert cache.cache_key(cache.cache_inputs(FIXTURE, {}, package="p")) != cache.cache_key(
        cache.cache_inputs(FIXTURE, {}, package="q"))

    code = tmp_path / "pkg"
    (code / "templates").mkdir(parents=True)
    (code / "a.py").write_text("x = 1\n", encoding="utf-8")
    (code / "templates" / "t.j2").write_text("{{ x }}\n", encoding="utf-8")
    before = cache.tree_digest(code, ("**/*.py", "templates/**/*"))
    (code / "templates" / "t.j2").write_text("{{ y }}\n", encoding="utf-8")
    assert cache.tree_digest(code, ("**/*.py", "templates/**/*")) != before


@pytest.mark.slow
@pytest.mark.report
def test_two_cold_builds_are_byte_identical(tmp_path, figure_build, fixed_package_digest):
    require_chromium()
    runs_file = write_runs(tmp_path, [figure_run("fig-a", "mccolo"), figure_run("fig-b", "grum")])
    first, second = figure_build, tmp_path / "second"  # first: the shared cold build of the same runs
    assert report.run_all(runs_file, second, jobs=2) == 0
    one, two = tree_bytes(first), tree_bytes(second)
    assert set(one) == set(two)
    differ = sorted(name for name in one if one[name] != two[name])
    assert differ == ["fig-a/run_metadata.json", "fig-b/run_metadata.json"]  # the one marked place for dates
    for name in ("fig-a", "fig-b"):
        assert_no_run_dates(first / name / f"{name}.ipynb")
        nb = json.loads(one[f"{name}/{name}.ipynb"])
        figures = [o for c in nb["cells"] for o in c.get("outputs", []) if PLOTLY_MIME in o.get("data", {})]
        assert len(figures) == 1 and f"{name}/figures/figure-01.png" in one


@pytest.mark.slow
@pytest.mark.report
def test_killed_build_leaves_the_previous_report_intact(tmp_path, figure_build, monkeypatch):
    out = copy_build(figure_build, tmp_path / "reports")  # the previous build: fig-a (the slow run) and fig-b
    runs_file = tmp_path / "runs.yaml"
    monkeypatch.setenv(report.STATIC_IMAGES_ENV, "0")
    good = tree_bytes(out / "fig-a")
    index = (out / "index.html").read_bytes()

    write_runs(tmp_path, [figure_run("fig-a", "grum", delay=120)])  # changed: it runs, and takes its time
    env = {**os.environ, report.STATIC_IMAGES_ENV: "0"}
    proc = subprocess.Popen([sys.executable, "-m", "spamits", "report", "--runs", str(runs_file), "--out", str(out),
                             "-q"], env=env, cwd=tmp_path, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not list(out.glob(".fig-a.tmp-*")):  # the run's temporary folder: the run has started
            assert proc.poll() is None, "the build ended before it could be interrupted"
            assert time.monotonic() < deadline, "the build never started the run"
            time.sleep(0.2)
        time.sleep(3)  # well inside the notebook's 120 s sleep
        assert proc.poll() is None
    finally:
        kill_tree(proc.pid)
        proc.wait(timeout=30)
    assert tree_bytes(out / "fig-a") == good, "the previous report was touched"
    assert (out / "index.html").read_bytes() == index
    assert not (out / "fig-a.failed").exists()
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == FIGURE_BUILD_TREE

    write_runs(tmp_path, [figure_run("fig-a", "grum")])  # the next build tidies the leftovers
    assert report.run_all(runs_file, out) == 0
    assert sorted(p.name for p in out.iterdir()) == FIGURE_BUILD_TREE
    assert json.loads((out / "fig-a" / "results.json").read_text(encoding="utf-8"))["event"]["id"] == "grum"


@pytest.mark.slow
@pytest.mark.report
def test_ctrl_c_stops_the_build_with_130_and_leaves_the_previous_reports(tmp_path, figure_build):
    """SIGINT to `spamits report` (what Ctrl-C sends) while both runs execute in worker processes: exit 130
    within seconds, every report and the index as they were, no temporary folder, the lock released, and no
    process of the build (workers, kernels, browsers) left running."""
    import psutil

    out = copy_build(figure_build, tmp_path / "reports")
    before = tree_bytes(out)
    runs_file = write_runs(tmp_path, [figure_run("fig-a", "grum", delay=300), figure_run("fig-b", "mccolo",
                                                                                        delay=300)])
    env = {**os.environ, report.STATIC_IMAGES_ENV: "0"}
    proc = subprocess.Popen([sys.executable, "-m", "spamits", "report", "--runs", str(runs_file), "--out", str(out),
                             "--jobs", "2", "-q"], env=env, cwd=tmp_path, start_new_session=True,
                            stderr=subprocess.PIPE, text=True)
    try:
        parent = psutil.Process(proc.pid)
        deadline = time.monotonic() + 120
        while not (list(out.glob(".fig-*.tmp-*")) and _kernels(parent)):  # a run has started its kernel
            assert proc.poll() is None, "the build ended before it could be interrupted"
            assert time.monotonic() < deadline, "the build never started a run"
            time.sleep(0.2)
        time.sleep(1)
        started = parent.children(recursive=True)
        assert proc.poll() is None and started
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)  # a guard against a hang, not a timing check
    finally:
        kill_tree(proc.pid)
    assert proc.returncode == 130, stderr
    assert "spamits: interrupted" in stderr and "Traceback" not in stderr, stderr
    assert tree_bytes(out) == before, "the previous reports or index were touched"
    assert sorted(p.name for p in out.iterdir()) == FIGURE_BUILD_TREE  # no temp or .failed folder
    _, alive = psutil.wait_procs(started, timeout=10)
    alive = [p for p in alive if _running(p)]
    assert not alive, alive
    with report.folders.build_lock(out):  # no lock left: a new build may start at once
        pass


def _running(proc) -> bool:
    import psutil

    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _kernels(parent) -> list:
    import psutil

    with contextlib.suppress(psutil.Error):
        return [p for p in parent.children(recursive=True) if "ipykernel" in " ".join(p.cmdline())]
    return []


def kill_tree(pid: int) -> None:
    """SIGKILL a process and everything it started (found by parent id before the kill)."""
    import psutil

    try:
        parent = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    procs = [parent, *parent.children(recursive=True)]
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs(procs, timeout=20)


def test_a_second_build_in_the_same_folder_is_refused(tmp_path):
    runs_file = write_runs(tmp_path, [fixture_run("a", "mccolo")])
    out = tmp_path / "reports"
    out.mkdir()
    with report.folders.build_lock(out), pytest.raises(ReportError, match="another spamits report build"):
        report.run_all(runs_file, out)


def test_leftovers_of_an_interrupted_build_are_tidied(tmp_path):
    (tmp_path / ".a.tmp-x1y2").mkdir()  # a run that never finished
    (tmp_path / ".b.old-1234abcd").mkdir()  # b's report, put aside, and the kill came before the new one moved in
    (tmp_path / ".b.old-1234abcd" / "b.html").write_text("old b", encoding="utf-8")
    (tmp_path / "c").mkdir()
    (tmp_path / ".c.old-5678abcd").mkdir()  # c was published; the old copy was not yet removed
    (tmp_path / ".index.html.k3j2").write_text("half", encoding="utf-8")
    (tmp_path / ".gitkeep").write_text("", encoding="utf-8")
    report.folders.tidy_leftovers(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".gitkeep", "b", "c"]
    assert (tmp_path / "b" / "b.html").read_text(encoding="utf-8") == "old b"


def test_publish_swaps_folders_in_one_step(tmp_path):
    new, dest = tmp_path / ".r.tmp-1", tmp_path / "r"
    new.mkdir()
    dest.mkdir()
    (new / "f").write_text("new", encoding="utf-8")
    (dest / "f").write_text("old", encoding="utf-8")
    report.folders.publish(new, dest)
    assert (dest / "f").read_text(encoding="utf-8") == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


@pytest.mark.slow
@pytest.mark.report
def test_scheduler_runs_the_same_runs_on_a_dask_cluster(tmp_path, fixed_package_digest, monkeypatch):
    from distributed import LocalCluster

    monkeypatch.setenv(report.STATIC_IMAGES_ENV, "0")
    runs_file = write_runs(tmp_path, [fixture_run("a", "mccolo"), fixture_run("b", "no-such-event")])
    out = tmp_path / "reports"
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        assert report.run_all(runs_file, out, scheduler=cluster.scheduler_address) == 1  # b fails, a does not
        assert json.loads((out / "a" / "results.json").read_text(encoding="utf-8"))["event"]["id"] == "mccolo"
        assert "UnknownEventError" in (out / "b.failed" / "error.txt").read_text(encoding="utf-8")
        assert report.run_all(runs_file, out, only=["a"], scheduler=cluster.scheduler_address) == 0  # cached
    index = (out / "index.html").read_text(encoding="utf-8")
    assert '<a href="a/a.html">a</a>' in index and '<span class="status-failed">failed</span>' in index


def test_scheduler_that_cannot_be_reached_is_a_clear_error(tmp_path, fixed_package_digest, monkeypatch):
    monkeypatch.setenv(report.STATIC_IMAGES_ENV, "0")
    monkeypatch.setattr(report.executors, "_DASK_CONNECT_TIMEOUT", "2s")
    runs_file = write_runs(tmp_path, [fixture_run("a", "mccolo")])
    with pytest.raises(ReportError, match=r"cannot connect to the Dask scheduler at 'tcp://127\.0\.0\.1:9'"):
        report.run_all(runs_file, tmp_path / "out", scheduler="tcp://127.0.0.1:9")


# --- index.html -----------------------------------------------------------------------------------------


def fake_outcome(name: str, status: str = "ok", **results: object) -> report.RunOutcome:
    run = report.Run(name=name, notebook=FIXTURE, parameters={"event_id": name, "series": name})
    base = {
        "run": {"event_id": name, "series": name, "family": "negbin", "effect": "decay", "errors": "ar1"},
        "event": {"id": name, "name": f"{name} takedown", "date": "2008-11-11"},
        "data": {"source": name, "simulated": True},
        "headline": {
            "immediate_change": -0.64, "immediate_change_low": -0.7, "immediate_change_high": -0.58,
            "relative_30": -0.3123, "relative_30_low": -0.4, "relative_30_high": -0.2,
            "half_life": 23.04, "half_life_low": 15.0, "half_life_high": None,
        },
    }
    base.update(results)
    return report.RunOutcome(run, status, results=base, report=None)


def test_index_escapes_text_from_data_files(tmp_path):
    outcome = fake_outcome(
        "evil",
        event={"id": "evil", "name": EVIL, "date": "<i>2008</i>"},
        run={"event_id": "evil", "series": '"><img src=x onerror=alert(2)>', "family": "<b>negbin</b>"},
    )
    failed = report.RunOutcome(
        report.Run(name="bad", notebook=FIXTURE, parameters={"event_id": EVIL}), "failed", error=f"Boom: {EVIL}"
    )
    html = report.build_index(tmp_path, [outcome, failed]).read_text(encoding="utf-8")
    assert EVIL not in html
    assert "<script" not in html and "<img" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Boom: &lt;script&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "&lt;b&gt;negbin&lt;/b&gt;" in html


def test_index_rows_formats_and_is_deterministic(tmp_path):
    outcomes = [fake_outcome("mccolo"), fake_outcome("rustock", headline={"immediate_change": None})]
    outcomes[0].report = tmp_path / "mccolo" / "mccolo.html"
    first = report.build_index(tmp_path, outcomes).read_bytes()
    second = report.build_index(tmp_path, outcomes).read_bytes()
    assert first == second
    html = first.decode("utf-8")
    assert_offline(html)
    assert "<script" not in html
    assert '<a href="mccolo/mccolo.html">mccolo</a>' in html
    assert "mccolo takedown" in html and "2008-11-11" in html
    assert "negbin / decay / ar1" in html
    assert "\u221264.0%" in html and "[\u221270.0%, \u221258.0%]" in html  # immediate change and its CI
    assert "\u221231.2%" in html
    assert "23.0 d" in html  # half-life; its CI is missing one bound, so none is shown
    assert "[15.0 d" not in html
    assert html.count("SIMULATED") == 3  # legend + one badge per simulated row
    assert f"built with spamits {__version__}" in html
    assert "2 run(s): 2 ok, 0 failed." in html
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".index")], "temporary index left behind"


def test_external_resources_detects_cdn_scripts_and_links():
    html = (
        '<script src="https://cdn.example/mathjax.js"></script><link rel="stylesheet" href="//cdn.example/a.css">'
        '<script>var url = "https://example.org";</script><a href="https://example.org">a link is fine</a>'
        "<script src='local.js'></script>"
    )
    assert report.external_resources(html) == ["//cdn.example/a.css", "https://cdn.example/mathjax.js"]


def test_notebook_to_html_uses_offline_template_and_hides_code():
    html = report.notebook_to_html(FIXTURE, title="fixture <b>")
    assert_offline(html)
    assert "<title>fixture &lt;b&gt;</title>" in html
    assert "Tiny report fixture" in html  # Markdown stays
    assert "events.get(event_id)" not in html and '<div class="jp-CodeMirrorEditor' not in html  # no code
    assert "require.min.js" not in html and "MathJax" not in html and "mermaid" not in html


def test_index_embeds_cross_takedown_png_and_escapes_its_title(tmp_path):
    folder = tmp_path / report.CROSS_TAKEDOWN_RUN
    folder.mkdir()
    png = base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode("ascii")
    figure = {"data": [], "layout": {"title": {"text": f"Forest {EVIL}"}}}
    nb = {"cells": [{"cell_type": "code", "outputs": [
        {"output_type": "display_data", "data": {PLOTLY_MIME: figure, "image/png": png}, "metadata": {}}]}]}
    (folder / f"{report.CROSS_TAKEDOWN_RUN}.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    outcome = fake_outcome(report.CROSS_TAKEDOWN_RUN)
    outcome.report = folder / f"{report.CROSS_TAKEDOWN_RUN}.html"
    outcome.full_report = folder / f"{report.CROSS_TAKEDOWN_RUN}.full.html"
    html = report.build_index(tmp_path, [outcome]).read_text(encoding="utf-8")
    assert f'<img src="data:image/png;base64,{png}"' in html
    assert EVIL not in html and "Forest &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<a class="full" href="compare-takedowns/compare-takedowns.full.html">with code</a>' in html
    assert_offline(html)

    failed = report.RunOutcome(outcome.run, "failed", report=outcome.report, error="boom")
    assert "cross-takedown" not in report.build_index(tmp_path, [failed]).read_text(encoding="utf-8")


def test_full_page_shows_code_and_both_pages_link_to_each_other(tmp_path):
    links = [("full notebook with code", "x.full.html"), ("all <reports>", "../index.html")]
    reviewer = report.notebook_to_html(FIXTURE, title="x", links=links)
    full = report.notebook_to_html(FIXTURE, title="x", full=True)
    editor = '<div class="jp-CodeMirrorEditor'
    assert editor not in reviewer and full.count(editor) >= 3  # the code cells
    assert '<span class="n">results_path</span>' in full  # the parameters cell, kept in the full page
    assert '<a href="x.full.html">full notebook with code</a>' in reviewer
    assert "all &lt;reports&gt;" in reviewer
    assert_offline(full)


def test_stopping_a_hung_image_server_gives_up_after_its_timeout(monkeypatch, caplog):
    """kaleido's close once waited forever for its browser at a worker's exit and hung the build: the stop
    gives up after its timeout, and marks kaleido's server closed so that kaleido's exit handler does not wait
    again.  (A fake kaleido close that blocks until the test releases it.)"""
    import kaleido
    import kaleido._sync_server

    from spamits.report import notebook as _reportnb

    release = threading.Event()
    calls = []

    def hung_close(**kwargs):
        calls.append(kwargs)
        release.wait()

    server = kaleido._sync_server.GlobalKaleidoServer()
    monkeypatch.setattr(kaleido, "stop_sync_server", hung_close)
    monkeypatch.setattr(server, "_initialized", True, raising=False)
    monkeypatch.setitem(_reportnb._server, "running", True)
    try:
        with caplog.at_level("WARNING", logger="spamits.report.notebook"):
            _reportnb.stop_image_server(timeout=0.2)
        assert calls == [{"silence_warnings": True}]
        assert _reportnb._server["running"] is False
        assert server.is_running() is False
        assert "did not close within" in caplog.text
        _reportnb.stop_image_server(timeout=0.2)  # already stopped: nothing more is called
        assert len(calls) == 1
    finally:
        release.set()


def test_report_package_has_one_way_imports_and_small_modules():
    """spamits.report's modules import one another without a cycle, none imports the package __init__ (which
    re-exports them), and none is over 450 lines."""
    import ast

    folder = Path(report.__file__).parent
    modules = {p.stem: p for p in folder.glob("*.py") if p.stem != "__init__"}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        text = path.read_text(encoding="utf-8")
        assert len(text.splitlines()) <= 450, f"{path.name} has {len(text.splitlines())} lines"
        targets: set[str] = set()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module == "spamits.report":
                    targets.update(alias.name for alias in node.names)
                elif node.module.startswith("spamits.report."):
                    targets.add(node.module.rsplit(".", 1)[1])
            elif isinstance(node, ast.Import):
                targets.update(a.name.rsplit(".", 1)[1] for a in node.names if a.name.startswith("spamits.report."))
        assert targets <= set(modules), f"{name} imports the package itself: {targets - set(modules)}"
        graph[name] = targets
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"import cycle: {' -> '.join((*path, name))}"
        if name not in done:
            for target in graph[name]:
                visit(target, (*path, name))
            done.add(name)

    for name in graph:
        visit(name, ())


def test_a_pause_with_both_ends_gives_two_runs_each_window_ending_at_the_other_end(data_folder):
    write_derived(data_folder, "2022-06", "2022-12")  # Emotet stops 2022-07-13, returns 2022-11-02, stops ~11-15
    by_name = {run.name: run for run in report.load_runs(report.DEFAULT_RUNS_FILE)}
    start, end = by_name["untroubled-emotet-pause-2022-07"], by_name["untroubled-emotet-pause-2022-07-end"]
    assert start.parameters == {"event_id": "emotet-pause-2022-07", "series": "untroubled", "effect": "step",
                                "pre_periods": 42, "post_periods": 112, "joint_events": ["emotet-pause-2022-07"]}
    assert end.parameters["event_id"] == "emotet-pause-2022-07-end" and end.parameters["effect"] == "step"
    assert (end.parameters["pre_periods"], end.parameters["post_periods"]) == (90, 60)  # 112 days of pause before
    assert end.parameters["joint_events"] == ["emotet-pause-2022-07-end", "emotet-pause-2022-11"]
    assert by_name["compare-takedowns"].parameters["real_series"] == dict.fromkeys(
        ["emotet-pause-2022-07", "emotet-pause-2022-07-end", "emotet-pause-2022-11"], "untroubled")


def test_a_surge_is_a_decaying_effect_and_its_end_is_no_run(data_folder):
    write_derived(data_folder, "2024-03", "2024-05")
    by_name = {run.name: run for run in report.load_runs(report.DEFAULT_RUNS_FILE)}
    assert sorted(n for n in by_name if n.startswith("untroubled-")) == ["untroubled-phorpiex-lockbitblack-2024"]
    surge = by_name["untroubled-phorpiex-lockbitblack-2024"].parameters
    assert surge["effect"] == "decay" and (surge["pre_periods"], surge["post_periods"]) == (54, 38)


def test_readme_commands_for_the_2022_2024_events_give_their_runs(data_folder):
    """The README's fetch and count commands parse, and counts of exactly their months give the runs it lists."""
    from spamits import cli

    readme = (report.PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Real runs of 2022-2024 events"):readme.index("## Data: what is real")]
    commands = [line.split("#")[0].split()[1:] for line in section.splitlines() if line.startswith(".venv/bin/spamits")]
    parser = cli.build_parser()
    spans = []
    for argv in commands:
        args = parser.parse_args(argv)
        if argv[:2] == ["data", "fetch"]:
            spans.append((args.start, args.end))
        else:
            assert argv[:2] == ["data", "count"] and argv[2] == "data/raw/untroubled"
            assert argv[-1] in {DAILY, HOURLY}  # the files the runs generator reads
    assert spans == [("2022-05", "2022-12"), ("2024-03", "2024-05"), ("2023-04", "2023-12")]
    days = [d for a, b in spans for d in pd.date_range(f"{a}-01", pd.Timestamp(f"{b}-01") + pd.offsets.MonthEnd(0))]
    text = "date,count\n" + "".join(f"{d:%Y-%m-%d},500\n" for d in sorted(days))
    path = data_folder / "derived" / "untroubled_daily.csv"
    path.write_text(text, encoding="utf-8")
    manifest = {"file": path.name, "sha256": hashlib.sha256(text.encode()).hexdigest(), "freq": "day"}
    path.with_name("untroubled_daily.manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    runs = {r.name: r.parameters for r in report.load_runs(report.DEFAULT_RUNS_FILE) if r.name.startswith("untr")}
    listed = re.findall(r"^\| [^|]+ \| `(untroubled-[a-z0-9-]+)`[^|]*\| [^|]+ \| (\d+) / (\d+)", section, re.M)
    assert len(listed) == 7 and {name: (int(a), int(b)) for name, a, b in listed} == {
        name: (p["pre_periods"], p["post_periods"]) for name, p in runs.items()}

"""Tests of spamits.report without a real build: the runs file, the runs generated from derived counts, the
build lock and folder swaps, index.html, the report package's layout.  Real builds: test_report_real.py (the
project notebooks, reviewer pages in headless Chromium) and test_report_build.py (failures, cache, reproducible
bytes, interrupted builds, Dask)."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import shutil
import threading
from pathlib import Path

import pandas as pd
import pytest

from report_support import (
    EVIL,
    FIXTURE,
    PLOTLY_MIME,
    REQUIRED_RUNS,
    assert_offline,
    fixture_run,
    write_runs,
)
from spamits import __version__, report
from spamits.errors import ReportError

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
        "joint_events": joint, "hourly_example": False}  # 82 counted days before 2008-09-21
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
                                "pre_periods": 42, "post_periods": 112, "joint_events": ["emotet-pause-2022-07"],
                                "hourly_example": False}
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

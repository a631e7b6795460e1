"""Tests of spamits.report: the runs file, one real papermill run, failures, atomicity and index.html."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from spamits import __version__, report
from spamits.errors import ReportError

FIXTURE = Path(__file__).parent / "fixtures" / "tiny_report.ipynb"
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


# --- one real run of the project notebook -----------------------------------------------------------------


@pytest.mark.slow
def test_real_papermill_run_writes_offline_report_with_plotly(tmp_path):
    out = tmp_path / "reports"
    assert report.run_all(out_dir=out, only=["mccolo"]) == 0
    folder = out / "mccolo"
    assert {p.name for p in folder.iterdir()} >= {"mccolo.html", "mccolo.ipynb", "results.json"}
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")], "temporary folders left behind"

    html = (folder / "mccolo.html").read_text(encoding="utf-8")
    assert re.search(r"plotly\.js v\d+\.\d+\.\d+", html), "plotly.js bundle is not embedded"
    assert len(re.findall(r"^\* plotly\.js v\d", html, re.MULTILINE)) == 1, "plotly.js embedded more than once"
    assert 'class="plotly-graph-div"' in html
    assert_offline(html)
    assert "Run parameters (papermill)" in html
    assert '<div class="jp-CodeMirrorEditor' not in html  # no code input

    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert results["run"]["event_id"] == "mccolo"
    assert results["event"]["id"] == "mccolo"
    assert results["data"]["simulated"] is True
    assert set(results["headline"]) >= {"immediate_change", "relative_30", "half_life"}

    index = (out / "index.html").read_text(encoding="utf-8")
    assert '<a href="mccolo/mccolo.html">mccolo</a>' in index
    assert "SIMULATED" in index
    for name in REQUIRED_RUNS - {"mccolo"}:
        assert f'<tr id="run-{name}">' in index  # listed, "not run" in this build
    assert_offline(index)


# --- failures and atomicity (fast fixture notebook) -------------------------------------------------------


@pytest.mark.slow
def test_failure_keeps_previous_report_and_does_not_stop_other_runs(tmp_path):
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
    assert sorted(p.name for p in failed.iterdir()) == ["error.txt", "keep.html", "keep.ipynb"]
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

"""Report builds on the small fixture notebooks: a failing run, the cache, two cold builds byte for byte, a
killed build, Ctrl-C, a second build refused, leftovers tidied, folder swaps, and a Dask scheduler."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from report_support import (
    FIGURE_FIXTURE,
    FIXTURE,
    PLOTLY_MIME,
    assert_no_run_dates,
    fixture_run,
    require_chromium,
    tree_bytes,
    write_runs,
)
from spamits import report
from spamits.errors import ReportError

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
                                                                    caplog, monkeypatch):
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
    monkeypatch.setenv(report.STATIC_IMAGES_ENV, "0")  # about force; static images: the cold-build test
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
        time.sleep(1)  # well inside the notebook's 120 s sleep
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



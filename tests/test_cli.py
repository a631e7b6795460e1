"""Tests of the command line (``python -m spamits``): version, events, error and usage exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from spamits import __version__, cli


def spamits(*args: str, cwd) -> subprocess.CompletedProcess[str]:
    """Run ``python -m spamits ARGS`` from ``cwd`` (not the project root: paths must not depend on it)."""
    return subprocess.run(
        [sys.executable, "-m", "spamits", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_version(tmp_path):
    done = spamits("--version", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"spamits {__version__}"


def test_events_list_prints_the_catalog_table(tmp_path):
    done = spamits("events", "list", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["id", "date", "mechanism", "name"]
    assert len(lines) == 1 + 21
    mccolo = next(line for line in lines if line.startswith("mccolo "))
    assert mccolo.split()[:3] == ["mccolo", "2008-11-11", "DEPEER"]
    assert "McColo" in mccolo
    assert done.stderr == ""


def test_events_show_prints_every_field(tmp_path):
    done = spamits("events", "show", "mccolo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "McColo" in out
    assert "2008-11-11 (range 2008-11-10 to 2008-11-12)" in out
    assert "DEPEER: " in out
    assert "Srizbi" in out
    assert out.count("http") >= 2  # sources, one per line


def test_unknown_event_exits_1_with_message_on_stderr(tmp_path):
    done = spamits("events", "show", "no-such-event", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("spamits: error: unknown event id 'no-such-event'")
    assert "Traceback" not in done.stderr


def test_bad_usage_exits_2(tmp_path):
    done = spamits("frobnicate", cwd=tmp_path)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "usage: spamits" in done.stderr


@pytest.mark.parametrize(
    "args",
    [[], ["events"], ["events", "show"], ["events", "explode"], ["report", "--jobs", "0"], ["report", "--bogus"]],
)
def test_bad_usage_in_process_returns_2(capsys, args):
    assert cli.main(args) == 2
    assert "usage: spamits" in capsys.readouterr().err


def test_report_with_bad_runs_file_exits_1(tmp_path):
    runs = tmp_path / "runs.yaml"
    runs.write_text("- name: a\n  colour: blue\n", encoding="utf-8")
    done = spamits("report", "--runs", str(runs), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 1
    assert f"spamits: error: {runs} entry 1 ('a'): unknown key(s) colour" in done.stderr
    assert not (tmp_path / "out").exists()


def test_main_in_process_returns_exit_codes(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"spamits {__version__}"
    assert cli.main(["events", "show", "nope"]) == 1
    assert "unknown event id 'nope'" in capsys.readouterr().err


def test_report_help_lists_the_build_options(capsys):
    assert cli.main(["report", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--jobs N", "--force", "--only RUN", "--scheduler ADDRESS", "--runs FILE", "--out DIR"):
        assert option in out
    args = cli.build_parser().parse_args(["report", "--only", "a", "b", "--only", "c"])
    assert args.only == ["a", "b", "c"] and args.jobs is None and not args.force and args.scheduler is None

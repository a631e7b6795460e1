"""Tests of the command line (``python -m spamits``): version, events, error and usage exit codes, ``spamits run``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from spamits import __version__, cli
from spamits.errors import ReportError
from spamits.report import single


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
    assert lines[0].split() == ["id", "date", "kind", "mechanism", "name"]
    assert len(lines) == 1 + 57
    mccolo = next(line for line in lines if line.startswith("mccolo "))
    assert mccolo.split()[:4] == ["mccolo", "2008-11-11", "takedown", "DEPEER"]
    assert "McColo" in mccolo
    surge = next(line for line in lines if line.startswith("phorpiex-lockbitblack-2024 "))
    assert surge.split()[1:4] == ["2024-04-24", "surge", "CAMPAIGN"]
    assert next(line for line in lines if line.startswith("asocks-2026 ")).split()[1] == "2026-05-28"
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
    assert "none marked" in out and "none given" in out
    out = spamits("events", "show", "emotet-pause-2022-11", cwd=tmp_path).stdout
    assert "2023-03-07" in out and "approx-date: no source gives the day" in out


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


# --- spamits run: one notebook, parameters checked by name -----------------------------------------------------

FIXTURE = Path(__file__).parent / "fixtures" / "tiny_report.ipynb"
NOTEBOOK = Path(__file__).parents[1] / "notebooks" / "takedown_its.ipynb"


@pytest.mark.report
def test_run_executes_the_notebook_with_checked_parameters(tmp_path):
    out = tmp_path / "out" / "tiny.ipynb"
    out.parent.mkdir()
    done = spamits("run", str(FIXTURE), "-p", "event_id", "grum", "-o", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out)
    results = json.loads((out.parent / "results.json").read_text(encoding="utf-8"))  # the kernel ran in OUT's folder
    assert results["event"]["id"] == "grum"
    nb = json.loads(out.read_text(encoding="utf-8"))
    assert any("injected-parameters" in c["metadata"].get("tags", []) for c in nb["cells"])


def test_run_rejects_a_misspelt_parameter_and_suggests_the_right_one(tmp_path):
    done = spamits("run", str(NOTEBOOK), "-p", "efect", "step", "-o", str(tmp_path / "x.ipynb"), cwd=tmp_path)
    assert done.returncode == 1
    assert "unknown parameter(s) efect for takedown_its.ipynb" in done.stderr
    assert "'efect' -> did you mean 'effect'?" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert list(tmp_path.iterdir()) == []  # nothing ran


def test_run_parameter_values_take_the_type_of_their_default(tmp_path):
    parsed = single.parse_parameters(NOTEBOOK, [("seed", "3"), ("alpha", "0.1"), ("series", "42"),
                                                ("joint_events", "[]")], [("seasonality", "null")])
    assert parsed == {"seed": 3, "alpha": 0.1, "series": "42", "joint_events": [], "seasonality": None}
    assert single.parse_value("flag", "No", True) is False
    with pytest.raises(ReportError, match=r"-p seed 'three': seed is a int in the parameters cell \(default 0\)"):
        single.parse_parameters(NOTEBOOK, [("seed", "three")])
    with pytest.raises(ReportError, match=r"no cell is tagged 'parameters'"):
        single.declared_parameters(_without_parameters_cell(tmp_path))
    with pytest.raises(ReportError, match=r"notebook not found"):
        single.declared_parameters(tmp_path / "missing.ipynb")


def test_run_refuses_to_overwrite_its_notebook(tmp_path):
    copy = tmp_path / "tiny.ipynb"
    copy.write_bytes(FIXTURE.read_bytes())
    with pytest.raises(ReportError, match="would overwrite the notebook itself"):
        single.run_notebook(copy, {}, output=copy)


def _without_parameters_cell(folder: Path) -> Path:
    nb = json.loads(FIXTURE.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        cell["metadata"].pop("tags", None)
    path = folder / "plain.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def test_run_help_and_usage(capsys):
    assert cli.main(["run", "--help"]) == 0
    out = capsys.readouterr().out
    assert "-p NAME VALUE" in out and "-o OUT" in out and "-y NAME YAML" in out
    assert cli.main(["run"]) == 2
    assert cli.main(["run", str(FIXTURE), "-p", "event_id"]) == 2

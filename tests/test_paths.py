"""Tests of ``spamits.paths``: a bad ``SPAMITS_DATA_DIR`` is one clear error naming the variable and the path,
from the library (``DataValidationError``) and from the command line (exit 1, one line on stderr)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from spamits import cli, data, events, paths
from spamits.errors import DataFileNotFoundError, DataValidationError


@pytest.fixture
def bad_dirs(tmp_path):
    """Three bad values of SPAMITS_DATA_DIR: a missing folder, a file, and a folder without events.csv."""
    afile = tmp_path / "a-file"
    afile.write_text("not a folder\n", encoding="utf-8")
    empty = tmp_path / "empty"
    empty.mkdir()
    return {"missing": (tmp_path / "nope", "does not exist"), "file": (afile, "is a file, not a folder"),
            "no-events": (empty, "events.csv not found")}


def test_default_data_dir_is_the_projects(monkeypatch):
    monkeypatch.delenv("SPAMITS_DATA_DIR", raising=False)
    assert paths.data_dir() == paths.PROJECT_ROOT / "data"
    assert paths.data_file("events.csv", must_exist=True).is_file()


@pytest.mark.parametrize("case", ["missing", "file"])
def test_a_data_dir_that_is_not_a_folder_names_the_variable_and_path(bad_dirs, monkeypatch, case):
    folder, problem = bad_dirs[case]
    monkeypatch.setenv("SPAMITS_DATA_DIR", str(folder))
    with pytest.raises(DataValidationError, match=problem) as info:
        paths.data_dir()
    assert "SPAMITS_DATA_DIR" in str(info.value) and str(folder) in str(info.value)


def test_an_unreadable_data_dir_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("SPAMITS_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(os, "access", lambda path, mode: False)  # as root, chmod 000 would still be readable
    with pytest.raises(DataValidationError, match="SPAMITS_DATA_DIR.*cannot be read"):
        paths.data_dir()


def test_a_data_dir_without_events_csv_is_a_clear_error(bad_dirs, monkeypatch):
    folder, _ = bad_dirs["no-events"]
    monkeypatch.setenv("SPAMITS_DATA_DIR", str(folder))
    with pytest.raises(DataFileNotFoundError, match="events.csv not found.*SPAMITS_DATA_DIR") as info:
        events.load()
    assert isinstance(info.value, DataValidationError) and isinstance(info.value, FileNotFoundError)
    assert str(folder) in str(info.value)


def test_a_data_dir_without_vendor_figures_is_a_clear_error(tmp_path, monkeypatch):
    shutil.copy(paths.data_file("events.csv"), tmp_path / "events.csv")
    monkeypatch.setenv("SPAMITS_DATA_DIR", str(tmp_path))
    with pytest.raises(DataFileNotFoundError, match="vendor_figures.csv not found.*SPAMITS_DATA_DIR"):
        data.vendor_figures()


@pytest.mark.parametrize("command", [["events", "list"], ["data", "verify"]])
@pytest.mark.parametrize("case", ["missing", "file", "no-events"])
def test_cli_with_a_bad_data_dir_exits_1_with_one_line(bad_dirs, monkeypatch, capsys, command, case):
    folder, problem = bad_dirs[case]
    monkeypatch.setenv("SPAMITS_DATA_DIR", str(folder))
    assert cli.main(command) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("spamits: error: ")
    assert str(folder) in err
    if command == ["events", "list"] or case != "no-events":  # verify without events.csv misses the MANIFEST first
        assert problem in err and "SPAMITS_DATA_DIR" in err


def test_cli_subprocess_reports_a_bad_data_dir_without_a_traceback(tmp_path):
    env = {**os.environ, "SPAMITS_DATA_DIR": str(tmp_path / "nope")}
    done = subprocess.run([sys.executable, "-m", "spamits", "events", "list"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"spamits: error: SPAMITS_DATA_DIR={str(tmp_path / 'nope')!r}: {tmp_path / 'nope'} does not exist. Set "
        f"SPAMITS_DATA_DIR to the folder holding events.csv, or unset it to use {paths.PROJECT_ROOT / 'data'}."]

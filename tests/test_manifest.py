"""data/MANIFEST lists every shipped data file with the right SHA-256, a source and a licence."""

from __future__ import annotations

import shutil

import pytest

from spamits import cli, paths
from spamits.errors import DataValidationError
from spamits.ingest import manifest


def test_project_data_matches_its_manifest():
    result = manifest.verify()
    assert result.ok, "\n".join(result.problems)
    assert {"README.md", "events.csv", "vendor_figures.csv"} <= set(result.checked)
    for row in manifest.read_manifest():
        assert len(row["source"]) > 10 and len(row["licence"]) > 2


def test_cli_verify_passes_on_the_project(capsys):
    assert cli.main(["data", "verify"]) == 0
    assert "0 problem(s)" in capsys.readouterr().out


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    copy = tmp_path / "data"
    shutil.copytree(paths.data_dir(), copy, ignore=shutil.ignore_patterns("raw", "derived"))
    monkeypatch.setenv("SPAMITS_DATA_DIR", str(copy))
    return copy


def test_changed_missing_and_unlisted_files_are_named(data_copy, capsys):
    with open(data_copy / "events.csv", "a", encoding="utf-8") as handle:
        handle.write("\n")
    (data_copy / "vendor_figures.csv").unlink()
    (data_copy / "extra.csv").write_text("date,count\n")
    (data_copy / "raw").mkdir()
    (data_copy / "raw" / "2008-11.7z").write_bytes(b"not listed, git-ignored")
    assert cli.main(["data", "verify"]) == 1
    err = capsys.readouterr().err
    assert f"{data_copy / 'events.csv'}: SHA-256 mismatch" in err
    assert f"{data_copy / 'vendor_figures.csv'}: listed in" in err and "but missing" in err
    assert f"{data_copy / 'extra.csv'}: not listed" in err
    assert "2008-11.7z" not in err


def test_update_refreshes_hashes_of_listed_files_only(data_copy, capsys):
    with open(data_copy / "README.md", "a", encoding="utf-8") as handle:
        handle.write("\nA local note.\n")
    assert manifest.update_hashes() == ["README.md"]
    assert manifest.verify().ok
    (data_copy / "new.csv").write_text("x\n")
    assert cli.main(["data", "verify", "--update"]) == 1
    assert "new.csv: not listed" in capsys.readouterr().err


@pytest.mark.parametrize(("text", "message"), [
    ("README.md\tabc\tsrc\tlic\n", r"first non-comment line must be the header"),
    ("path\tsha256\tsource\tlicence\nREADME.md\tabc\tsrc\tlic\n", r"line 2: sha256 'abc' is not 64"),
    ("path\tsha256\tsource\tlicence\n../x\t" + "0" * 64 + "\tsrc\tlic\n", r"line 2: path '../x' must be relative"),
    ("path\tsha256\tsource\tlicence\nREADME.md\t" + "0" * 64 + "\t\tlic\n", r"line 2: expected 4 non-empty"),
])
def test_malformed_manifest_is_an_error_naming_the_line(tmp_path, text, message):
    (tmp_path / "MANIFEST").write_text(text, encoding="utf-8")
    with pytest.raises(DataValidationError, match=message):
        manifest.read_manifest(tmp_path / "MANIFEST")

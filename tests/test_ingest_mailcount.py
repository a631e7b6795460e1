"""Counting own traps (maildir, mbox, .eml) per UTC day from headers only; date parsing; format detection."""

from __future__ import annotations

import datetime as dt
import mailbox

import pytest

from ingest_support import make_maildir, message
from spamits import cli
from spamits.errors import DataValidationError
from spamits.ingest import count_to_csv
from spamits.ingest.dating import date_message
from spamits.ingest.mailcount import count_path, detect_format, parse_date


def ts(*args: int) -> float:
    return dt.datetime(*args, tzinfo=dt.UTC).timestamp()


@pytest.mark.parametrize(("text", "expected"), [
    (b"Tue, 11 Nov 2008 14:03:27 -0800", ts(2008, 11, 11, 22, 3, 27)),
    (b"11 Nov 2008 23:59:59 +0000", ts(2008, 11, 11, 23, 59, 59)),
    (b" Wed, 12 Nov 2008 01:30 +0130 (CET)", ts(2008, 11, 12, 0, 0)),
    (b"Sat, 1 Mar 08 10:00:00 GMT", ts(2008, 3, 1, 10)),
    (b"1 Mar 99 10:00:00 EST", ts(1999, 3, 1, 15)),
    (b"Mon, 3 Aug 2009 07:00:00", ts(2009, 8, 3, 7)),
    (b"Tue, 11 November 2008 14:03:27 PST", ts(2008, 11, 11, 22, 3, 27)),
    (b"31 Feb 2008 10:00:00 +0000", None),
    (b"11 Nov 2008 25:00:00 +0000", None),
    (b"not a date", None),
    (b"", None),
])
def test_parse_date(text, expected):
    assert parse_date(text) == expected


def test_first_received_wins_then_date():
    header = (b"Received: (qmail 1 invoked from network); 12 Nov 2008 00:10:00 -0000\n"
              b"Received: from x by y; 11 Nov 2008 23:59:00 -0000\nDate: Mon, 10 Nov 2008 10:00:00 +0000\n")

    def when(header: bytes) -> tuple[float | None, str]:
        dated = date_message(header, now=ts(2026, 1, 1))
        return dated.when, dated.rule

    assert when(header) == (ts(2008, 11, 12, 0, 10), "received")
    folded = b"Received: from a\n\tby b with SMTP id 1;\n\tWed, 12 Nov 2008 00:10:00 +0000\n"
    assert when(folded) == (ts(2008, 11, 12, 0, 10), "received")
    assert when(b"Subject: x\nDate: 10 Nov 2008 10:00:00 +0000\n") == (ts(2008, 11, 10, 10), "date")


def test_maildir_counts_per_utc_day_and_fills_zero_days(tmp_path):
    root = make_maildir(tmp_path / "trap", [
        ("a", message(ts(2008, 11, 10, 23, 30))),
        ("b", message(ts(2008, 11, 10, 1))),
        ("c", message(ts(2008, 11, 12, 0, 5))),
    ])
    (root / "new" / "d").write_bytes(message(ts(2008, 11, 12, 10)))
    (root / "tmp" / "e").write_bytes(message(ts(2008, 11, 12, 10)))  # still being delivered: not counted
    report = count_path(root)
    assert report.format == "maildir"
    assert report.frame().to_dict("list") == {"date": ["2008-11-10", "2008-11-11", "2008-11-12"], "count": [2, 0, 2]}
    assert report.methods == {"received": 4}
    assert report.extra["ignored_files"] == 1


def test_mbox_and_eml_folder(tmp_path):
    box = tmp_path / "trap.mbox"
    box.write_bytes(b"".join(
        b"From spammer@example.net Tue Nov 11 10:00:00 2008\n" + message(ts(2008, 11, d, 10)) + b"\n"
        for d in (10, 11, 11)))
    assert detect_format(box) == "mbox"
    assert count_path(box).frame()["count"].tolist() == [1, 2]
    folder = tmp_path / "emls"
    folder.mkdir()
    for i, d in enumerate((9, 9, 10)):
        (folder / f"{i}.eml").write_bytes(message(ts(2008, 11, d, 10)).replace(b"\n", b"\r\n"))
    (folder / "notes.txt").write_text("not a message")
    assert detect_format(folder) == "eml"
    assert count_path(folder).frame()["count"].tolist() == [2, 1]
    assert detect_format(folder / "0.eml") == "eml"
    assert count_path(folder / "0.eml").messages == 1


def test_mbox_count_agrees_with_python_mailbox(tmp_path):
    box = tmp_path / "trap.mbox"
    with open(box, "wb") as handle:
        for i in range(50):
            body = b"line\n\nFrom the desk of the prince\n" if i % 7 == 0 else b"text\n"
            handle.write(b"From x@y Tue Nov 11 10:00:00 2008\n" + message(ts(2008, 11, 1 + i % 5, 3), body=b"x")
                         + b"\n" + body.replace(b"\nFrom ", b"\n>From ") + b"\n")
    reference = mailbox.mbox(box, create=False)
    try:
        assert count_path(box).messages == len(reference) == 50
    finally:
        reference.close()


def test_detect_format_errors_name_the_path(tmp_path):
    with pytest.raises(DataValidationError, match=r"cannot tell the format of this folder"):
        detect_format(tmp_path)
    with pytest.raises(DataValidationError, match=r"no such file or folder"):
        detect_format(tmp_path / "nope")
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(DataValidationError, match=r"x.txt: not a .7z archive"):
        detect_format(tmp_path / "x.txt")


def test_cli_count_writes_csv_and_manifest_only_in_the_output_folder(tmp_path, capsys):
    root = make_maildir(tmp_path / "trap", [(f"m{i}", message(ts(2010, 10, 1 + i % 3, 12))) for i in range(9)])
    out = tmp_path / "out" / "trap_daily.csv"
    before = {p for p in tmp_path.rglob("*")}
    assert cli.main(["data", "count", str(root), "-o", str(out), "--format", "maildir"]) == 0
    assert out.read_text() == "date,count\n2010-10-01,3\n2010-10-02,3\n2010-10-03,3\n"
    added = {p for p in tmp_path.rglob("*")} - before
    assert added == {out.parent, out, out.parent / "trap_daily.manifest.json"}
    assert "9 messages counted on 3 UTC days" in capsys.readouterr().err


def test_cli_count_needs_output_for_own_traps(tmp_path, capsys):
    root = make_maildir(tmp_path / "trap", [("a", message(ts(2010, 10, 1, 12)))])
    assert cli.main(["data", "count", str(root)]) == 1
    assert "give the output file with -o OUT.csv" in capsys.readouterr().err
    assert cli.main(["data", "count", str(root), "-o", str(tmp_path / "x.txt")]) == 1
    assert "must be a .csv file" in capsys.readouterr().err


def test_nothing_countable_writes_nothing(tmp_path):
    root = make_maildir(tmp_path / "trap", [("a", b"")])
    with pytest.raises(DataValidationError, match=r"no message could be counted .*empty file"):
        count_to_csv(root, tmp_path / "o.csv")
    assert not (tmp_path / "o.csv").exists()


def test_output_in_a_folder_that_cannot_be_written_is_a_clear_error(tmp_path, capsys, monkeypatch):
    root = make_maildir(tmp_path / "trap", [("a", message(ts(2010, 10, 1, 12)))])
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert cli.main(["data", "count", str(root), "-o", str(blocker / "sub" / "o.csv")]) == 1
    assert f"{blocker} is not a folder" in capsys.readouterr().err
    import os

    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(tmp_path / "ro") else real_access(p, mode))
    (tmp_path / "ro").mkdir()
    assert cli.main(["data", "count", str(root), "-o", str(tmp_path / "ro" / "o.csv")]) == 1
    assert "cannot write in" in capsys.readouterr().err and not (tmp_path / "ro" / "o.csv").exists()
    new = tmp_path / "new" / "deeper" / "o.csv"  # a folder that does not exist yet is made
    assert cli.main(["data", "count", str(root), "-o", str(new)]) == 0 and new.is_file()

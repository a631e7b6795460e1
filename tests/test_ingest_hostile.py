"""Hostile and malformed input: each case has a rule (skipped and reported, or a clear error) and a tested outcome.

Cases: path traversal names, absolute names, absurd declared size, corrupt archive, truncated archive, duplicate
entries, empty files/entries, non-UTF-8 headers, far past / far future dates, missing Date/Received, malformed
Received, symlinks out of the tree, a FIFO, mbox malformed From line and leading junk, huge header, a huge line
without newline (memory bound), binary junk, entry-name time against header time.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import tracemalloc

import pytest

from ingest_support import declare_size, entry_name, make_archive, make_maildir, message, rename_entry
from spamits import cli
from spamits.errors import DataValidationError
from spamits.ingest import sevenzip, trap
from spamits.ingest.mailcount import count_path
from spamits.ingest.trap import count_archives

T0 = int(dt.datetime(2008, 11, 10, 12, tzinfo=dt.UTC).timestamp())


def entries(n: int, start: int = T0, step: int = 3600) -> list[tuple[str, bytes]]:
    return [(entry_name(start + i * step, i), message(start + i * step)) for i in range(n)]


def tree(folder) -> set[str]:
    return {str(p) for p in folder.rglob("*")}


# --- archives -------------------------------------------------------------------------------------------


def test_path_traversal_and_absolute_entry_names_are_skipped_and_nothing_is_written(tmp_path):
    items = entries(6)
    path = tmp_path / "a" / "2008-11.7z"
    path.parent.mkdir()
    make_archive(path, items, patch=lambda z: [rename_entry(i, name)(z) for i, name in
                                               ((1, "../../escape"), (2, "/etc/passwd"), (3, "C:\\x"),
                                                (4, "2008/..\\..\\y"))])
    before = tree(tmp_path)
    report = count_archives(path)
    assert tree(tmp_path) == before  # counting writes nothing: entries are streamed, never extracted
    assert report.skipped == {"unsafe_name": 4}
    assert report.messages == 2
    assert "2008-11.7z:../../escape" in report.examples["unsafe_name"]


def test_absurd_size_is_skipped_and_its_data_never_read(tmp_path, monkeypatch):
    monkeypatch.setattr(sevenzip, "MAX_ENTRY_BYTES", 1 << 20)
    items = entries(5)
    items[2] = (items[2][0], items[2][1] + b"\0" * (3 << 20))  # a 3 MiB message: over the (lowered) bound
    path = make_archive(tmp_path / "2008-11.7z", items)
    heads = [len(e.head) for e in sevenzip.iter_entries(path)]
    assert heads[2] == 0 and all(0 < h < 4096 for i, h in enumerate(heads) if i != 2)
    report = count_archives(path)
    assert report.skipped == {"absurd_size": 1} and report.messages == 4


def test_header_lying_about_a_size_is_a_clear_error_naming_the_file(tmp_path):
    path = make_archive(tmp_path / "2008-11.7z", entries(5), patch=declare_size(2, 50 * 1024**3))
    with pytest.raises(DataValidationError, match=r"2008-11.7z: not a readable 7z archive .*last entry reached"):
        count_archives(path)


def test_corrupt_archive_is_a_clear_error_naming_the_file(tmp_path, capsys):
    bad = tmp_path / "2008-11.7z"
    bad.write_bytes(b"7z\xbc\xaf\x27\x1c\x00\x04" + os.urandom(2000))
    with pytest.raises(DataValidationError, match=r"2008-11.7z: not a readable 7z archive \(corrupt or truncated"):
        count_archives(bad)
    assert cli.main(["data", "count", str(tmp_path), "-o", str(tmp_path / "o.csv")]) == 1
    err = capsys.readouterr().err
    assert str(bad) in err and "fetch it again" in err
    assert not (tmp_path / "o.csv").exists()


def test_truncated_archive_is_a_clear_error_naming_the_file(tmp_path):
    good = make_archive(tmp_path / "good.7z", entries(20))
    cut = tmp_path / "2008-12.7z"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(DataValidationError, match=r"2008-12.7z: not a readable 7z archive"):
        count_archives(cut)


def test_duplicate_entries_are_counted_once_within_and_across_archives(tmp_path):
    items = entries(4)
    make_archive(tmp_path / "2008-11.7z", [*items, items[0]])
    make_archive(tmp_path / "2008-12.7z", [(items[1][0].replace("2008/", "other/"), items[1][1]),
                                           *entries(2, start=T0 + 30 * 86400)])
    report = count_archives(tmp_path)
    assert report.skipped == {"duplicate": 2}
    assert report.messages == 6
    rows = {row["archive"]: row for row in report.extra["archives"]}
    assert rows["2008-11.7z"]["skipped"] == {"duplicate": 1} and rows["2008-12.7z"]["skipped"] == {"duplicate": 1}


def test_many_names_are_remembered_compactly_and_exactly():
    seen = trap._SeenNames(batch=1000)
    names = [f"2008/11/{1226400000 + i}.{i}_{i}.txt" for i in range(5500)]
    assert all(seen.add(n) for n in names)
    assert seen.frozen.size == 5000 and len(seen.recent) == 500
    assert not any(seen.add(n) for n in names[::7])


def test_empty_entries_and_entries_dated_by_no_rule(tmp_path):
    items = [*entries(3), (entry_name(T0, 99), b""), ("2008/no-epoch-name.lorien", b"Subject: x\n\nno dates")]
    report = count_archives(make_archive(tmp_path / "x.7z", items))
    assert report.skipped == {"empty": 1, "no_date": 1}
    assert report.messages == 3


def test_implausible_dates_fall_back_and_months_outside_are_reported(tmp_path):
    far_future = int(time.time()) + 10 * 86400
    items = [*entries(3),
             (entry_name(T0 + 1, 7), message(100000000)),  # header dates of 1973: the name's epoch is used
             ("2008/11/future.txt", message(far_future)),  # no rule gives a plausible time
             (entry_name(T0 - 40 * 86400, 9), message(T0 - 40 * 86400))]  # October: outside the months asked
    report = count_archives(make_archive(tmp_path / "2008-11.7z", items), months=["2008-11"])
    assert report.skipped == {"no_date": 1, "outside_months": 1}
    assert report.dated_by == {"received": 4, "name": 1}
    assert report.problems["implausible_header_date"] == 4
    assert report.frame()["date"].iloc[[0, -1]].tolist() == ["2008-11-01", "2008-11-30"]
    assert report.messages == 4


def test_entry_name_against_header_time_is_measured_not_used(tmp_path):
    items = [(entry_name(T0 + i + (3 * 3600 if i % 2 else 0), i), message(T0 + i)) for i in range(10)]
    report = count_archives(make_archive(tmp_path / "2008-11.7z", items))
    lag = report.lag_summary()
    assert lag["n"] == 10 and lag["quantiles"]["min"] == 0 and lag["quantiles"]["max"] == 3
    assert report.frame("hour").set_index("date").loc["2008-11-10T12:00:00Z", "count"] == 10


# --- own traps ------------------------------------------------------------------------------------------


def test_non_utf8_headers_are_counted(tmp_path):
    latin = message(T0, extra=b"X-Note: caf\xe9 \xff\xfe garbage\n").replace(b"Subject: offer", b"Subject: \xe9t\xe9")
    eight_bit = message(None, received=b"from h\xf6st by mx; 11 Nov 2008 01:00:00 +0000")
    report = count_path(make_maildir(tmp_path / "m", [("a", latin), ("b", eight_bit)]))
    assert report.frame()["count"].tolist() == [1, 1]
    assert not report.skipped


def test_far_past_and_future_dates_are_skipped(tmp_path):
    future = time.time() + 5 * 86400
    items = [("ok", message(T0)), ("past", message(dt.datetime(1990, 1, 1, tzinfo=dt.UTC).timestamp())),
             ("epoch0", message(0)), ("future", message(future)), ("y2099", message(None, date=b"1 Jan 2099 0:00 GMT"))]
    report = count_path(make_maildir(tmp_path / "m", items))
    assert report.messages == 1 and report.skipped == {"no_date": 4}
    assert report.problems["implausible_header_date"] == 8  # Received: and Date: of each of the four
    tomorrow = count_path(make_maildir(tmp_path / "n", [("t", message(time.time() + 3600))]))
    assert tomorrow.messages == 1  # within the one-day slack for clock skew


def test_missing_and_malformed_received_fall_back_to_date(tmp_path):
    no_received = b"Subject: x\nDate: Tue, 11 Nov 2008 10:00:00 +0000\n\nbody"
    bad_received = b"Received: from a by b with SMTP\nDate: Tue, 11 Nov 2008 10:00:00 +0000\n\nbody"
    garbage_date = b"Received: from a by b; yesterday-ish\nDate: Tue, 11 Nov 2008 10:00:00 +0000\n\nbody"
    neither = b"Subject: no dates at all\nX-Mailer: spam\n\nbody"
    report = count_path(make_maildir(tmp_path / "m", [("a", no_received), ("b", bad_received),
                                                       ("c", garbage_date), ("d", neither)]))
    assert report.messages == 3 and report.methods == {"date": 3}
    assert report.problems == {"received_missing": 2, "received_malformed": 2, "date_missing": 1}
    assert report.skipped == {"no_date": 1}
    assert any("skipped 1: no usable date" in line for line in report.summary())


def test_empty_files_and_binary_junk_are_skipped(tmp_path):
    items = [("ok", message(T0)), ("empty", b""), ("blank", b"\n\n\n"), ("junk", os.urandom(3000) + b"\0"),
             ("png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)]
    report = count_path(make_maildir(tmp_path / "m", items))
    assert report.messages == 1 and report.skipped == {"empty": 2, "junk": 2}


def test_symlinks_are_not_followed_and_fifos_not_opened(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(message(T0))
    (outside / "cur").mkdir()
    (outside / "cur" / "x").write_bytes(message(T0))
    root = make_maildir(tmp_path / "m", [("ok", message(T0))])
    (root / "cur" / "link").symlink_to(outside / "secret")
    (root / "cur" / "dangling").symlink_to(tmp_path / "nowhere")
    (root / "sub").symlink_to(outside, target_is_directory=True)
    os.mkfifo(root / "cur" / "fifo")
    report = count_path(root)
    assert report.messages == 1
    assert report.skipped == {"symlink": 3, "not_regular": 1}


def test_mbox_malformed_from_line_and_leading_junk(tmp_path):
    box = tmp_path / "trap.mbox"
    box.write_bytes(b"garbage before any message\n\n"
                    b"From \n" + message(T0) + b"\n"
                    b"From spammer Tue Nov 11 10:00:00 2008\n" + message(T0 + 86400) + b"\n")
    report = count_path(box, "mbox")
    assert report.messages == 2
    assert report.problems["from_line_malformed"] == 1
    assert report.skipped == {"mbox_leading_junk": 1}


def test_huge_header_is_read_only_up_to_the_bound(tmp_path):
    padding = b"".join(b"X-Pad-%d: %s\n" % (i, b"a" * 100) for i in range(10_000))  # about 1 MB of header
    first = message(T0, extra=padding)
    late = padding + b"Received: from a; Tue, 11 Nov 2008 10:00:00 +0000\n\nbody"
    report = count_path(make_maildir(tmp_path / "m", [("first", first), ("late", late)]))
    assert report.messages == 1 and report.skipped == {"no_date": 1}
    assert report.problems["header_truncated"] == 2
    box = tmp_path / "big.mbox"
    box.write_bytes(b"From a Tue Nov 11 10:00:00 2008\n" + first + b"\n")
    boxed = count_path(box)
    assert boxed.messages == 1 and boxed.problems["header_truncated"] == 1


def test_memory_stays_bounded_on_a_file_without_newlines(tmp_path):
    box = tmp_path / "line.mbox"
    with open(box, "wb") as handle:
        handle.write(b"From a Tue Nov 11 10:00:00 2008\n" + message(T0) + b"\n" + b"From b\n")
        for _ in range(40):
            handle.write(b"y" * (1 << 20))  # 40 MB in one line
    tracemalloc.start()
    try:
        report = count_path(box)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.messages == 1 and peak < 8 * 1024 * 1024


# --- archives written by 7-Zip itself ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["lzma", "lzma2", "ppmd"])
def test_archives_made_by_7zip_are_read(tmp_path, method):
    """py7zr writes the other test archives; this one comes from the reference 7-Zip (Debian's 7zip, `7zz`), solid,
    with the compression methods 7-Zip archives of mail use."""
    import shutil
    import subprocess
    from pathlib import Path

    seven = shutil.which("7zz")
    if seven is None:
        pytest.skip("7-Zip (7zz) is not installed: `make syslibs` installs it (Debian package 7zip)")
    fixtures = Path(__file__).parent / "fixtures" / "untroubled"
    out = tmp_path / "2003.7z"
    subprocess.run([seven, "a", "-t7z", f"-m0={method}", "-ms=on", str(out), "2003"], cwd=fixtures, check=True,
                   capture_output=True)
    report = count_archives(out)
    expected = sum(1 for p in (fixtures / "2003").rglob("*") if p.is_file())
    assert report.messages == expected > 10 and report.dated_by == {"received": expected}

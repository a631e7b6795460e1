"""Loopback end to end: fetch (a missing month, a cut download resumed) -> count -> verify -> one ITS fit.

The archives are built here in the untroubled layout and served from 127.0.0.1; nothing leaves the machine.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from ingest_support import LoopbackServer, entry_name, make_archive, message
from spamits import cli, data, its, report
from spamits.ingest import fetch, manifest
from spamits.ingest.fetch import FetchError

MCCOLO = dt.datetime(2008, 11, 11, 20, tzinfo=dt.UTC).timestamp()


def _daily_rates(day: dt.date) -> int:
    """Messages per day: 12 before McColo (11 Nov 2008, afternoon Pacific), 4 after."""
    return 12 if day < dt.date(2008, 11, 12) else 4


def _month_archive(folder, year: int, month: int, rng: np.random.Generator):
    """An untroubled-style archive of one month with Poisson daily counts; returns its path and true counts."""
    day = dt.date(year, month, 1)
    items, truth, n = [], {}, 0
    while day.month == month:
        k = int(rng.poisson(_daily_rates(day)))
        truth[day.isoformat()] = k
        start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()
        for second in sorted(rng.integers(0, 86_400, size=k)):
            epoch = int(start + second)
            items.append((entry_name(epoch, n), message(epoch, body=b"Buy now.\n" * 20)))
            n += 1
        day += dt.timedelta(days=1)
    return make_archive(folder / f"{year:04d}-{month:02d}.7z", items), truth


@pytest.fixture
def served(tmp_path):
    """Archives for 2008-10, 2008-11 and 2008-12 on the server; 2008-09 is missing there."""
    site = tmp_path / "site"
    site.mkdir()
    rng = np.random.default_rng(7)
    truth = {}
    for month in (10, 11, 12):
        _, counts = _month_archive(site, 2008, month, rng)
        truth.update(counts)
    return site, truth


def test_fetch_count_verify_fit_over_loopback(tmp_path, served, monkeypatch, capsys):
    site, truth = served
    data_root = tmp_path / "data"
    data_root.mkdir()
    monkeypatch.setenv("SPAMITS_DATA_DIR", str(data_root))
    (data_root / "MANIFEST").write_text("path\tsha256\tsource\tlicence\n", encoding="utf-8")
    dest = data_root / "raw" / "untroubled"
    args = ["data", "fetch", "untroubled", "--from", "2008-09", "--to", "2008-12", "--rate", "0"]
    with LoopbackServer(site, cut_once={"2008-11.7z"}) as server:
        # 1. the November download is cut half-way: a clear error naming month and URL, the part file kept
        assert cli.main([*args, "--base-url", server.url]) == 1
        err = capsys.readouterr().err
        assert "2008-11" in err and f"{server.url}2008-11.7z" in err and "resume" in err
        part = dest / "2008-11.7z.part"
        assert part.stat().st_size == (site / "2008-11.7z").stat().st_size // 2
        # 2. run again: October is present, November resumes with a Range request, September is missing
        assert cli.main([*args, "--base-url", server.url]) == 1
        out, err = capsys.readouterr()
    assert "2008-09 (" in err and "2008-09.7z" in err and "missing" in err
    assert "2008-12.7z [" + "#" * 30 + "] 100%" in err  # the progress bar's last state
    assert f"bytes={part_size(site)}-" in [r for _, r in server.requests if r]
    status = {line.split()[0]: line.split()[1] for line in out.splitlines()}
    assert status == {"2008-09": "missing", "2008-10": "present", "2008-11": "resumed", "2008-12": "fetched"}
    assert not part.exists()
    log = fetch.read_fetch_log(dest)["archives"]
    for name in ("2008-10.7z", "2008-11.7z", "2008-12.7z"):
        assert (dest / name).read_bytes() == (site / name).read_bytes()
        assert log[name]["sha256"] == data.file_sha256(site / name)
        assert log[name]["url"] == f"{server.url}{name}"

    # 3. count the archives from their listing (default output in data/derived)
    assert cli.main(["data", "count", str(dest)]) == 0
    out, err = capsys.readouterr()
    csv = data_root / "derived" / "untroubled_daily.csv"
    assert str(csv) in out
    assert "cross-check of 120 sampled entries against their header: 120 same UTC day, 0 different" in err
    lines = csv.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "date,count"
    assert dict(line.split(",") for line in lines[1:]) == {k: str(v) for k, v in truth.items()}
    meta = json.loads((data_root / "derived" / "untroubled_daily.manifest.json").read_text(encoding="utf-8"))
    assert meta["sha256"] == data.file_sha256(csv)
    assert [s["url"] for s in meta["sources"]] == [f"{server.url}2008-{m}.7z" for m in (10, 11, 12)]
    assert all(s["sha256"] == log[s["archive"]]["sha256"] for s in meta["sources"])
    assert meta["package"].startswith("spamits ") and "epoch prefix" in meta["method"]
    assert meta["report"]["cross_check"]["different_utc_day"] == 0

    # 4. verify: the derived file matches its manifest; a changed file is named and fails
    assert cli.main(["data", "verify"]) == 0
    capsys.readouterr()
    csv.write_text(csv.read_text(encoding="utf-8").replace(",12\n", ",13\n", 1), encoding="utf-8")
    assert cli.main(["data", "verify"]) == 1
    assert f"{csv}: SHA-256 mismatch" in capsys.readouterr().err
    assert cli.main(["data", "count", str(dest)]) == 0
    capsys.readouterr()

    # 5. one fit on the real path: spamits.data.load("untroubled") resolves to the derived file
    y = data.load("untroubled")
    assert y.attrs["simulated"] is False and y.index.freqstr == "D" and len(y) == 92
    result = its.fit(y, "2008-11-12", family="negbin", effect="step", seasonality=None, errors="ar1")
    row = result.effects.iloc[0]
    assert row["term"] == "level" and row["ratio_low"] < 1 / 3 < row["ratio_high"]  # true ratio 4/12


def part_size(site) -> int:
    return (site / "2008-11.7z").stat().st_size // 2


def test_untroubled_runs_only_when_the_derived_file_exists(tmp_path, monkeypatch):
    monkeypatch.setenv("SPAMITS_DATA_DIR", str(tmp_path))
    names = {run.name for run in report.load_runs(report.DEFAULT_RUNS_FILE)}
    assert "untroubled-mccolo" not in names and {"mccolo", "vendor-figures"} <= names
    with pytest.raises(data.DataValidationError, match=r"spamits data fetch untroubled .* spamits data count"):
        data.load("untroubled")
    (tmp_path / "derived").mkdir()
    (tmp_path / "derived" / "untroubled_daily.csv").write_text("date,count\n2008-11-01,3\n2008-11-02,4\n")
    names = {run.name for run in report.load_runs(report.DEFAULT_RUNS_FILE)}
    assert "untroubled-mccolo" in names
    assert data.load("untroubled").tolist() == [3.0, 4.0]


def test_network_failure_and_non_archive_are_clear_errors(tmp_path):
    with LoopbackServer(tmp_path) as server:
        url = server.url
    with pytest.raises(FetchError, match=r"2008-11: network failure fetching http://127\.0\.0\.1:\d+/spam/2008-11.7z"):
        fetch.fetch_untroubled(["2008-11"], dest=tmp_path / "dest", base_url=url, rate=0, timeout=5)
    (tmp_path / "2008-11.7z").write_bytes(b"<html>Not here</html>")
    with LoopbackServer(tmp_path) as server, pytest.raises(FetchError, match=r"did not return a 7z archive"):
        fetch.fetch_untroubled(["2008-11"], dest=tmp_path / "dest", base_url=server.url, rate=0, timeout=5)
    assert not (tmp_path / "dest" / "2008-11.7z").exists()


def test_polite_delay_between_requests(tmp_path, served):
    site, _ = served
    waits = []
    with LoopbackServer(site) as server:
        results = fetch.fetch_untroubled(["2008-10", "2008-11"], dest=tmp_path / "d", base_url=server.url,
                                         rate=3.0, sleep=waits.append)
    assert [r.status for r in results] == ["fetched", "fetched"]
    assert len(waits) == 1 and 2.0 < waits[0] <= 3.0


@pytest.mark.parametrize(("start", "end", "message"), [
    ("2008-13", "2009-01", r"--from '2008-13': write a month as YYYY-MM"),
    ("2009-03", "2008-08", r"--to 2008-08 is before --from 2009-03"),
    ("1950-01", "2008-01", r"write a month"),
])
def test_month_range_errors(start, end, message):
    with pytest.raises(data.DataValidationError, match=message):
        fetch.month_range(start, end)


def test_month_range_spans_years():
    assert fetch.month_range("2008-11", "2009-02") == ["2008-11", "2008-12", "2009-01", "2009-02"]


def test_write_atomic_leaves_no_temp_file(tmp_path):
    manifest.write_atomic(tmp_path / "x.csv", b"date,count\n")
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]

"""Loopback end to end, with the README's commands: fetch by the index -> count -> verify -> one ITS fit.

Two sites laid out like http://untroubled.org/spam/ (an Apache index page, yearly ``YYYY.7z`` archives and a
monthly ``YYYY-MM.7z`` that overlaps its year), served from 127.0.0.1; nothing leaves the machine:

* the 102 real fixture messages (1998-2007): every message is counted once, on the UTC day and hour of its top
  ``Received:`` line, computed here without spamits (tests/untroubled_site.expected_arrival);
* a generated 2008 around McColo (11 Nov 2008), whose file names run hours behind arrival as on the real
  archive: the counts follow arrival, and a step fit finds the drop;
* monthly archives of June-December 2022 and March-May 2024 of the real fixture messages re-dated around Emotet's
  2022 pause and the Phorpiex surge (24 Apr 2024): counted by arrival with 2023 a gap, and ``make report`` builds
  the real runs of Emotet's return (a step up) and of the surge (a decaying rise).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from ingest_support import message
from spamits import cli, data, its, paths, report
from spamits.ingest import fetch
from untroubled_site import FIXTURES, NOT_BY_RECEIVED, SiteServer, build_site, expected_arrival, index_page, redate

MONTHS_1998_2007 = ["--from", "1998-01", "--to", "2007-11"]


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("SPAMITS_DATA_DIR", str(root))
    (root / "MANIFEST").write_text("path\tsha256\tsource\tlicence\n", encoding="utf-8")
    return root


def _fetch(server, *span: str) -> int:
    return cli.main(["data", "fetch", "untroubled", *span, "--rate", "0", "--base-url", server.url])


def test_readme_commands_count_every_real_message_once_on_its_received_day(tmp_path, data_root, capsys):
    years = range(1998, 2008)
    site = build_site(tmp_path / "site", yearly=years, monthly=("2007-11",))
    dest = data_root / "raw" / "untroubled"
    with SiteServer(tmp_path / "site", cut_once={"2003.7z"}) as server:
        assert _fetch(server, *MONTHS_1998_2007) == 1  # 2003.7z cut half-way: a clear error, the part kept
        err = capsys.readouterr().err
        assert "2003.7z" in err and "resume" in err and (dest / "2003.7z.part").is_file()
        assert _fetch(server, *MONTHS_1998_2007) == 0
        assert _fetch(server, *MONTHS_1998_2007) == 0  # everything present: no archive is asked for again
        capsys.readouterr()
        gets = Counter(path.rsplit("/", 1)[-1] for path, _ in server.archive_gets())
    assert gets == {**{f"{y}.7z": 1 for y in years if y != 2003}, "2003.7z": 2, "2007-11.7z": 1}
    log = fetch.read_fetch_log(dest)["archives"]
    assert sorted(log) == sorted(site["archives"])

    assert cli.main(["data", "count", str(dest)]) == 0
    assert cli.main(["data", "count", str(dest), "--freq", "hour"]) == 0
    err = capsys.readouterr().err
    assert "median 11.02 h" in err  # the file names run about 11 hours behind the trap's own Received: line
    daily = pd.read_csv(data_root / "derived" / "untroubled_daily.csv")
    hourly = pd.read_csv(data_root / "derived" / "untroubled_hourly.csv")

    messages = sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.parts[-3].isdigit())
    arrivals = {p.relative_to(FIXTURES).as_posix(): expected_arrival(p) for p in messages}
    want_days = Counter(dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d") for t, _ in arrivals.values())
    want_hours = Counter(dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:00:00Z")
                         for t, _ in arrivals.values())
    assert daily["count"].sum() == hourly["count"].sum() == len(messages) == 102
    assert daily.loc[daily["count"] > 0].set_index("date")["count"].to_dict() == dict(want_days)
    assert hourly.loc[hourly["count"] > 0].set_index("date")["count"].to_dict() == dict(want_hours)
    by_day = hourly.assign(day=hourly["date"].str[:10]).groupby("day")["count"].sum()
    assert by_day.to_dict() == daily.set_index("date")["count"].to_dict()  # hours sum to the days, every day

    meta = json.loads((data_root / "derived" / "untroubled_hourly.manifest.json").read_text(encoding="utf-8"))
    assert meta["messages"] == 102 and meta["freq"] == "hour" and meta["months"][0] == "1998-03"
    assert meta["dated_by"] == {"received": 101, "date": 1}
    assert {k for k, (_, rule) in arrivals.items() if rule != "received"} == set(NOT_BY_RECEIVED)
    assert meta["examples"]["received_malformed"] == ["2000.7z:2000/10/970979910.12652_3.txt"]
    assert meta["skipped"] == {"duplicate": 1}  # November 2007 is in both 2007.7z and 2007-11.7z
    assert meta["lag_hours"]["n"] == 101 and 328 < meta["lag_hours"]["quantiles"]["max"] < 330
    rows = {row["archive"]: row for row in meta["archives"]}
    assert {name: row["sha256"] for name, row in rows.items()} == {name: log[name]["sha256"] for name in log}
    assert rows["2007-11.7z"]["skipped"] == {"duplicate": 1} and rows["2007-11.7z"]["messages"] == 0
    assert all(row["url"] == f"{server.url}{name}" for name, row in rows.items())
    assert meta["recipients"]["2003-06"][0] == ["bruce-bait@localhost", 1]
    assert cli.main(["data", "verify"]) == 0


def test_month_no_archive_covers_is_a_clear_error_and_nothing_is_fetched(tmp_path, data_root, capsys):
    build_site(tmp_path / "site", yearly=(2006, 2007))
    with SiteServer(tmp_path / "site") as server:
        assert _fetch(server, "--from", "2007-06", "--to", "2008-02") == 1
        assert server.archive_gets() == []
    err = capsys.readouterr().err
    assert "2008-01..2008-02" in err and "2006.7z" in err and "2007.7z" in err


# --- McColo: a generated year in the real layout ------------------------------------------------------------

MCCOLO = dt.datetime(2008, 11, 11, 21, tzinfo=dt.UTC).timestamp()


def _mccolo_year(folder, rng: np.random.Generator) -> dict[str, int]:
    """``2008.7z`` (Sept-Dec 2008) and ``2008-12.7z`` in the real layout: 40 messages a day before McColo, 12
    after; each file name is its filing time, a log-normal lag (median 11 h) after arrival.  Returns the true
    messages per arrival day."""
    from ingest_support import make_archive

    truth: Counter = Counter()
    items, december = [], []
    day = dt.date(2008, 9, 1)
    n = 0
    while day <= dt.date(2008, 12, 31):
        start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()
        for second in sorted(rng.integers(0, 86_400, size=int(rng.poisson(40 if start < MCCOLO - 75600 else 12)))):
            arrived = int(start + second)
            filed = arrived + int(3600 * math.exp(rng.normal(math.log(11), 0.8)))
            if filed >= dt.datetime(2009, 1, 1, tzinfo=dt.UTC).timestamp():
                continue  # filed in 2009: not in these archives
            folder_month = dt.datetime.fromtimestamp(filed, dt.UTC).strftime("%Y/%m")
            entry = (f"{folder_month}/{filed}.{4000 + n}_{n}.txt", message(arrived, body=b"Buy now.\n" * 30))
            items.append(entry)
            if folder_month == "2008/12":
                december.append(entry)
            truth[dt.datetime.fromtimestamp(arrived, dt.UTC).date().isoformat()] += 1
            n += 1
        day += dt.timedelta(days=1)
    make_archive(folder / "2008.7z", items)
    make_archive(folder / "2008-12.7z", december)
    rows = [(p.name, p.stat().st_mtime, p.stat().st_size) for p in sorted(folder.glob("*.7z"))]
    (folder / "index.html").write_text(index_page(rows), encoding="utf-8")
    return dict(truth)


def test_mccolo_counts_follow_arrival_and_the_fit_finds_the_drop(tmp_path, data_root, capsys):
    site = tmp_path / "site"
    site.mkdir()
    truth = _mccolo_year(site, np.random.default_rng(11))
    with SiteServer(site) as server:
        assert _fetch(server, "--from", "2008-09", "--to", "2008-12") == 0
    capsys.readouterr()
    dest = data_root / "raw" / "untroubled"
    assert sorted(p.name for p in dest.glob("*.7z")) == ["2008-12.7z", "2008.7z"]
    assert cli.main(["data", "count", str(dest), "--from", "2008-09", "--to", "2008-12"]) == 0
    err = capsys.readouterr().err
    assert "note: 2008-12: the last days may be short" in err  # late-filed messages would be in 2009/01/
    counted = pd.read_csv(data_root / "derived" / "untroubled_daily.csv").set_index("date")["count"]
    assert counted[counted > 0].to_dict() == truth  # by arrival day, not by filing day
    by_name = Counter()
    for path in dest.glob("2008.7z"):
        from spamits.ingest.sevenzip import iter_entries

        for entry in iter_entries(path):
            if not entry.is_dir:
                epoch = int(entry.name.rsplit("/", 1)[1].split(".")[0])
                by_name[dt.datetime.fromtimestamp(epoch, dt.UTC).date().isoformat()] += 1
    assert sum(abs(by_name[d] - truth.get(d, 0)) for d in set(by_name) | set(truth)) > 100  # names would mislead

    y = data.load("untroubled")
    assert y.attrs["simulated"] is False and y.index.freqstr == "D" and len(y) == 122
    result = its.fit(y, "2008-11-12", family="negbin", effect="step", seasonality=None, errors="ar1")
    row = result.effects.iloc[0]
    assert row["term"] == "level" and row["ratio_low"] < 12 / 40 < row["ratio_high"]
    assert cli.main(["data", "verify"]) == 0
    shutil.copy(paths.PROJECT_ROOT / "data" / "events.csv", data_root / "events.csv")  # the catalog, for the runs
    runs = {run.name for run in report.load_runs(report.DEFAULT_RUNS_FILE)}
    assert "untroubled-mccolo" in runs


@pytest.mark.slow
@pytest.mark.report
def test_make_report_builds_the_real_runs_from_derived_counts(tmp_path, data_root, capsys, monkeypatch):
    monkeypatch.setenv(report.STATIC_IMAGES_ENV, "0")  # about the data path: no kaleido, no PDF (test_report_real.py)
    site = tmp_path / "site"
    site.mkdir()
    _mccolo_year(site, np.random.default_rng(5))
    with SiteServer(site) as server:
        assert _fetch(server, "--from", "2008-09", "--to", "2008-12") == 0
    dest = data_root / "raw" / "untroubled"
    assert cli.main(["data", "count", str(dest), "--from", "2008-09", "--to", "2008-12"]) == 0
    assert cli.main(["data", "count", str(dest), "--from", "2008-09", "--to", "2008-12", "--freq", "hour"]) == 0
    for name in ("events.csv", "vendor_figures.csv"):  # the catalog and vendor figures the notebooks read
        shutil.copy(paths.PROJECT_ROOT / "data" / name, data_root / name)
    capsys.readouterr()
    out = tmp_path / "reports"
    runs = {run.name: run for run in report.load_runs(report.DEFAULT_RUNS_FILE)}
    assert runs["trap-audit"].parameters["counts_path"] == "data/derived/untroubled_hourly.csv"
    assert report.run_all(out_dir=out, only=["untroubled-mccolo"], jobs=1) == 0  # the audit notebook: test_audit.py
    fit = json.loads((out / "untroubled-mccolo" / "results.json").read_text(encoding="utf-8"))
    assert fit["data"]["simulated"] is False and fit["run"]["series"] == "untroubled"
    assert fit["run"]["pre_periods"] == 71 and fit["run"]["post_periods"] == 51  # the event's own window
    page = (out / "untroubled-mccolo" / "untroubled-mccolo.html").read_text(encoding="utf-8")
    assert "Left out of this run (hourly_example=False)" in page  # no SIMULATED example in a report on real counts
    assert "At what hour did spam fall? Likelihood profile" not in page
    assert "untroubled-mccolo" in (out / "index.html").read_text(encoding="utf-8")



# --- 2022-2024: real fixture messages re-dated into monthly archives (Emotet 2022, the Phorpiex surge of 2024) -----

PHORPIEX = dt.datetime(2024, 4, 24, tzinfo=dt.UTC).timestamp()
SPANS = ((dt.date(2022, 6, 1), dt.date(2022, 12, 31)), (dt.date(2024, 3, 1), dt.date(2024, 5, 31)))


def _rate(day: dt.date) -> float:
    """Messages a day: 4; Emotet's pause (13 Jul to 1 Nov 2022) 2, its second stop (from 15 Nov 2022) 3; from
    24 Apr 2024 a Phorpiex burst of 6 times the baseline, halving every 2 days."""
    if dt.date(2022, 7, 13) <= day < dt.date(2022, 11, 2):
        return 2.0
    if dt.date(2022, 11, 15) <= day <= dt.date(2022, 12, 31):
        return 3.0
    k = (day - dt.date(2024, 4, 24)).days
    return 4.0 * (1 + (5.0 * 0.5 ** (k / 2) if k >= 0 and day.year == 2024 else 0.0))


def _redated_months(folder, rng: np.random.Generator) -> dict[str, int]:
    """One ``YYYY-MM.7z`` per month of :data:`SPANS` in the real layout, from the real fixture messages re-dated (top
    Received:, Date: and the file name's epoch, filed a log-normal lag of median 11 h after arrival) at
    :func:`_rate`.  Returns the true messages per arrival day (a message filed after its span's last month is not
    in these archives and not counted)."""
    from ingest_support import make_archive

    sources = [p for p in sorted(FIXTURES.rglob("*")) if p.is_file() and p.parts[-3].isdigit()
               and p.relative_to(FIXTURES).as_posix() not in NOT_BY_RECEIVED]
    truth: Counter = Counter()
    months: dict[str, list] = {}
    n = 0
    for first, last in SPANS:
        end = dt.datetime(last.year, last.month, last.day, tzinfo=dt.UTC).timestamp() + 86_400
        day = first
        while day <= last:
            start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()
            for second in sorted(rng.integers(0, 86_400, size=int(rng.poisson(_rate(day))))):
                arrived = int(start + second)
                filed = arrived + int(3600 * math.exp(rng.normal(math.log(11), 0.8)))
                if filed >= end:
                    continue
                folder_month = dt.datetime.fromtimestamp(filed, dt.UTC).strftime("%Y/%m")
                entry = (f"{folder_month}/{filed}.{4000 + n}_{n}.txt",
                         redate(sources[n % len(sources)].read_bytes(), arrived))
                months.setdefault(folder_month.replace("/", "-"), []).append(entry)
                truth[dt.datetime.fromtimestamp(arrived, dt.UTC).date().isoformat()] += 1
                n += 1
            day += dt.timedelta(days=1)
    for month, items in months.items():
        make_archive(folder / f"{month}.7z", items)
    rows = [(p.name, p.stat().st_mtime, p.stat().st_size) for p in sorted(folder.glob("*.7z"))]
    (folder / "index.html").write_text(index_page(rows), encoding="utf-8")
    return dict(truth)


def test_redate_moves_the_trap_stamp_and_the_date_header():
    source = FIXTURES / "2003" / "01" / "1042816728.2283_398.txt"
    moved = redate(source.read_bytes(), PHORPIEX)
    assert moved is not None and b"Wed, 24 Apr 2024 00:00:00 GMT" in moved
    assert b"Date: Tue, 23 Apr 2024 23:58:00" in moved
    assert moved.split(b"\n\n", 1)[1] == source.read_bytes().split(b"\n\n", 1)[1]  # the body is untouched
    assert redate((FIXTURES / next(iter(NOT_BY_RECEIVED))).read_bytes(), PHORPIEX) is None


@pytest.mark.slow
@pytest.mark.report
def test_make_report_builds_real_runs_of_2022_2024_events_from_monthly_archives(tmp_path, data_root, capsys,
                                                                                monkeypatch):
    monkeypatch.setenv(report.STATIC_IMAGES_ENV, "0")  # about the data path: no kaleido, no PDF (test_report_real.py)
    site = tmp_path / "site"
    site.mkdir()
    truth = _redated_months(site, np.random.default_rng(7))
    dest = data_root / "raw" / "untroubled"
    with SiteServer(site) as server:
        assert _fetch(server, "--from", "2022-06", "--to", "2022-12") == 0
        assert _fetch(server, "--from", "2024-03", "--to", "2024-05") == 0
        gets = sorted(path.rsplit("/", 1)[-1] for path, _ in server.archive_gets())
    assert gets == [f"2022-{m:02d}.7z" for m in range(6, 13)] + ["2024-03.7z", "2024-04.7z", "2024-05.7z"]
    assert cli.main(["data", "count", str(dest), "-o", str(data_root / "derived" / "untroubled_daily.csv")]) == 0
    counted = pd.read_csv(data_root / "derived" / "untroubled_daily.csv").set_index("date")["count"]
    assert counted[counted > 0].to_dict() == truth  # by arrival day; 2023 was not fetched: a gap, not zeros
    assert "2023-06-01" not in counted.index and {"2022-12-31", "2024-03-01"} <= set(counted.index)
    meta = json.loads((data_root / "derived" / "untroubled_daily.manifest.json").read_text(encoding="utf-8"))
    assert meta["dated_by"] == {"received": sum(truth.values())}
    for name in ("events.csv", "vendor_figures.csv"):  # the catalog and vendor figures the notebooks read
        shutil.copy(paths.PROJECT_ROOT / "data" / name, data_root / name)
    capsys.readouterr()
    runs = {run.name: run for run in report.load_runs(report.DEFAULT_RUNS_FILE)}
    assert sorted(n for n in runs if n.startswith("untroubled-")) == [
        "untroubled-emotet-pause-2022-07", "untroubled-emotet-pause-2022-07-end", "untroubled-emotet-pause-2022-11",
        "untroubled-phorpiex-lockbitblack-2024"]
    assert runs["compare-takedowns"].parameters["real_series"]["emotet-pause-2022-07-end"] == "untroubled"
    out = tmp_path / "reports"
    built = ["untroubled-emotet-pause-2022-07-end", "untroubled-phorpiex-lockbitblack-2024"]
    assert report.run_all(out_dir=out, only=built, jobs=1) == 0
    fits = {name: json.loads((out / name / "results.json").read_text(encoding="utf-8")) for name in built}
    assert all(fit["data"]["simulated"] is False and fit["run"]["series"] == "untroubled" for fit in fits.values())
    back, surge = fits["untroubled-emotet-pause-2022-07-end"], fits["untroubled-phorpiex-lockbitblack-2024"]
    assert back["run"]["effect"] == "step" and (back["run"]["pre_periods"], back["run"]["post_periods"]) == (90, 60)
    assert back["headline"]["immediate_change_low"] > 0  # the return: from 2 to 4 a day
    assert surge["run"]["effect"] == "decay" and (surge["run"]["pre_periods"], surge["run"]["post_periods"]) == (54, 38)
    head = surge["headline"]
    assert head["data"] == "real" and 0 < head["immediate_change_low"] < head["immediate_change"]  # a rise
    assert 1 < head["half_life"] < 6 and head["half_life_high"] < 30  # it fades within days (log scale: not 2 exactly)

"""Tests of spamits.data: CSV loading and validation, gaps, frequencies, vendor figures."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from spamits import data, events
from spamits.errors import DataGapWarning, DataValidationError, ModelSpecError


def _daily_rows(start: str, end: str, value: float = 10.0) -> str:
    return "".join(f"{d.date()},{value}\n" for d in pd.date_range(start, end, freq="D"))


def _write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


# ------------------------------------------------------------------------------------------ bad input

HEADER = "date,count\n"
WEEKLY6 = "".join(f"{d.date()},5\n" for d in pd.date_range("2008-01-06", periods=6, freq="W-SUN"))
DAYS32 = _daily_rows("2008-01-01", "2008-02-01")
MONTHS = "2008-03-01,1\n2008-04-01,1\n2008-05-01,1\n2008-06-01,1\n"
BAD_ROWS = [
    # (file name, contents, 1-based data row of the problem, word the message must contain)
    ("unparseable.csv", HEADER + "2008-01-01,1\n01/02/2008,2\n2008-01-03,3\n", 2, "unparseable"),
    ("garbage_date.csv", HEADER + "2008-01-01,1\n2008-01-02,2\nyesterday,3\n", 3, "'yesterday'"),
    ("blank_line.csv", HEADER + "2008-01-01,1\n\n2008-01-02,2\n", 2, "empty date"),
    ("unsorted.csv", HEADER + "2008-01-01,1\n2008-01-03,2\n2008-01-02,3\n", 3, "unsorted"),
    ("negative.csv", HEADER + "2008-01-01,1\n2008-01-02,-2\n2008-01-03,3\n", 2, "negative"),
    ("nonnumeric.csv", HEADER + "2008-01-01,1\n2008-01-02,12k\n2008-01-03,3\n", 2,
     "non-numeric 'count' value '12k'"),
    ("empty_count.csv", HEADER + "2008-01-01,1\n2008-01-02,\n2008-01-03,3\n", 2, "empty"),
    ("nan_count.csv", HEADER + "2008-01-01,1\n2008-01-02,2\n2008-01-03,NaN\n", 3, "missing count"),
    ("infinite.csv", HEADER + "2008-01-01,1\n2008-01-02,inf\n", 2, "infinite"),
    # 32 daily rows (2008-01-01..02-01), then monthly rows: row 33 is 2008-03-01, where the cadence switches
    ("daily_then_monthly.csv", HEADER + DAYS32 + MONTHS, 33, "mixed frequencies"),
    # 6 weekly rows (Sundays), then a row one day later: not a whole number of weeks
    ("weekly_then_daily.csv", HEADER + WEEKLY6 + "2008-02-11,1\n2008-02-12,1\n", 7, "mixed frequencies"),
    ("monthly_then_daily.csv", HEADER + "2008-01,1\n2008-02,1\n2008-03,1\n2008-04,1\n2008-04-02,1\n", 5,
     "mixed frequencies"),
    ("monthly_then_quarterly.csv", HEADER + "2008-01,1\n2008-02,1\n2008-03,1\n2008-06,1\n2008-09,1\n"
     "2008-12,1\n", 4, "mixed frequencies"),
    ("single_row.csv", HEADER + "2008-01-01,1\n", 1, "only one data row"),
]


@pytest.mark.parametrize(("name", "text", "row", "word"), BAD_ROWS, ids=[b[0] for b in BAD_ROWS])
def test_bad_row_is_reported_with_file_row_line_and_problem(tmp_path, name, text, row, word):
    path = _write(tmp_path, name, text)
    with pytest.raises(DataValidationError) as info:
        data.load(path)
    message = str(info.value)
    assert name in message
    assert f"row {row} (line {row + 1})" in message
    assert word in message


def test_duplicate_dates_name_both_rows(tmp_path):
    path = _write(tmp_path, "dupes.csv", HEADER + "2008-01-01,1\n2008-01-02,2\n2008-01-01,3\n")
    with pytest.raises(DataValidationError, match=r"rows 1 and 3 \(lines 2 and 4\)") as info:
        data.load(path)
    assert "dupes.csv" in str(info.value)
    assert "duplicate date 2008-01-01" in str(info.value)


def test_missing_columns_lists_what_was_found(tmp_path):
    path = _write(tmp_path, "columns.csv", "day,value\n2008-01-01,1\n2008-01-02,2\n")
    with pytest.raises(DataValidationError, match="missing column") as info:
        data.load(path)
    assert "columns.csv" in str(info.value)
    assert "['day', 'value']" in str(info.value)


@pytest.mark.parametrize(("name", "text"), [("empty.csv", ""), ("header_only.csv", HEADER)])
def test_empty_file(tmp_path, name, text):
    path = _write(tmp_path, name, text)
    with pytest.raises(DataValidationError, match="empty file|file is empty") as info:
        data.load(path)
    assert name in str(info.value)


def test_unknown_frequency(tmp_path):
    path = _write(tmp_path, "every_other_day.csv", HEADER + "2008-01-01,1\n2008-01-03,2\n2008-01-05,3\n")
    with pytest.raises(DataValidationError, match="cannot infer the frequency.*2 days"):
        data.load(path)


def test_unknown_source_lists_scenarios(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataValidationError, match="neither a simulated scenario") as info:
        data.load("no_such_file.csv")
    assert "mccolo" in str(info.value)


def test_validation_error_is_a_value_error(tmp_path):
    path = _write(tmp_path, "neg.csv", HEADER + "2008-01-01,-1\n2008-01-02,1\n")
    with pytest.raises(ValueError):
        data.load(path)


# ----------------------------------------------------------------------------------------- good input


def test_daily_csv_loads_with_attrs(tmp_path):
    path = _write(tmp_path, "daily.csv", HEADER + _daily_rows("2008-11-01", "2008-11-30", 12.5))
    series = data.load(path)
    assert series.index.freqstr == "D"
    assert series.name == "count" and series.index.name == "date"
    assert len(series) == 30 and series.dtype == float
    assert series.attrs["source"] == str(path.resolve())
    assert series.attrs["simulated"] is False
    assert series.attrs["gaps"] == []
    assert series.attrs["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert data.file_sha256(path) == series.attrs["sha256"]


@pytest.mark.parametrize(("start", "freq"), [("2008-01-06", "W-SUN"), ("2008-01-07", "W-MON")])
def test_weekly_csv(tmp_path, start, freq):
    rows = "".join(f"{d.date()},{i}\n" for i, d in enumerate(pd.date_range(start, periods=10, freq=freq)))
    series = data.load(_write(tmp_path, "weekly.csv", HEADER + rows))
    assert series.index.freqstr == freq
    assert len(series) == 10


@pytest.mark.parametrize(
    ("rows", "freq"),
    [
        ("2008-01,1\n2008-02,2\n2008-03,3\n", "MS"),
        ("2008-01-01,1\n2008-02-01,2\n2008-03-01,3\n", "MS"),
        ("2008-01-31,1\n2008-02-29,2\n2008-03-31,3\n", "ME"),
    ],
)
def test_monthly_csv(tmp_path, rows, freq):
    series = data.load(_write(tmp_path, "monthly.csv", HEADER + rows))
    assert series.index.freqstr == freq
    assert series.tolist() == [1.0, 2.0, 3.0]


def test_gaps_are_warned_kept_as_nan_and_listed(tmp_path):
    text = HEADER + "2008-01-01,1\n2008-01-02,2\n2008-01-05,5\n2008-01-06,6\n2008-01-08,8\n"
    path = _write(tmp_path, "gappy.csv", text)
    with pytest.warns(DataGapWarning, match=r"gappy\.csv: 3 missing day\(s\)") as record:
        series = data.load(path)
    assert "2008-01-03 to 2008-01-04" in str(record[0].message)
    assert record[0].filename == __file__  # the warning points at the caller's line
    assert series.index.freqstr == "D"
    assert len(series) == 8
    assert series.isna().sum() == 3
    assert np.isnan(series["2008-01-03"]) and np.isnan(series["2008-01-07"])
    assert series.attrs["gaps"] == [("2008-01-03", "2008-01-04"), ("2008-01-07", "2008-01-07")]


def test_monthly_gap(tmp_path):
    path = _write(tmp_path, "monthly_gap.csv", HEADER + "2008-01,1\n2008-02,2\n2008-05,5\n2008-06,6\n")
    with pytest.warns(DataGapWarning, match="2 missing month"):
        series = data.load(path)
    assert series.index.freqstr == "MS"
    assert series.attrs["gaps"] == [("2008-03-01", "2008-04-01")]
    assert series.isna().sum() == 2


def test_isolated_long_gap_in_daily_data_is_a_gap_not_a_frequency_change(tmp_path):
    text = HEADER + _daily_rows("2008-01-01", "2008-01-10") + _daily_rows("2008-02-10", "2008-02-20")
    with pytest.warns(DataGapWarning):
        series = data.load(_write(tmp_path, "long_gap.csv", text))
    assert series.attrs["gaps"] == [("2008-01-11", "2008-02-09")]


def test_timezone_aware_dates_become_naive_utc(tmp_path):
    text = HEADER + "2008-01-01T00:00:00+00:00,1\n2008-01-02T01:00:00+01:00,2\n2008-01-02T23:00:00-01:00,3\n"
    series = data.load(_write(tmp_path, "tz.csv", text))
    assert series.index.tz is None
    assert list(series.index) == list(pd.date_range("2008-01-01", periods=3, freq="D"))


def test_extra_columns_float_rates_and_trailing_blank_lines(tmp_path):
    text = "date,count,source\n2008-01-01,0.5,a\n2008-01-02, 2.25 ,b\n2008-01-03,0,c\n\n\n"
    series = data.load(_write(tmp_path, "rates.csv", text))
    assert series.tolist() == [0.5, 2.25, 0.0]


def test_value_column_and_header_whitespace(tmp_path):
    text = "date, spam \n2008-01-01,1\n2008-01-02,2\n"
    series = data.load(_write(tmp_path, "other.csv", text), value_column="spam")
    assert series.name == "count" and series.tolist() == [1.0, 2.0]


def test_relative_path_and_derived_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "here.csv", HEADER + "2008-01-01,1\n2008-01-02,2\n")
    assert len(data.load("here.csv")) == 2
    derived = tmp_path / "datadir" / "derived"
    derived.mkdir(parents=True)
    _write(derived, "trap_daily.csv", HEADER + "2008-01-01,1\n2008-01-02,2\n2008-01-03,3\n")
    monkeypatch.setenv("SPAMITS_DATA_DIR", str(tmp_path / "datadir"))
    assert len(data.load("trap_daily.csv")) == 3
    assert len(data.load("trap_daily")) == 3


def test_validate_accepts_a_typed_frame_and_leaves_it_alone():
    frame = pd.DataFrame({" date": pd.to_datetime(["2008-01-01", "2008-01-02"]), "count": [1, 2]})
    series = data.validate(frame, path="in-memory")
    assert series.index.freqstr == "D" and series.tolist() == [1.0, 2.0]
    assert list(frame.columns) == [" date", "count"]
    bad = pd.DataFrame({"date": ["2008-01-01", "2008-01-02"], "count": [1.0, np.nan]})
    with pytest.raises(DataValidationError, match=r"in-memory: row 2 \(line 3\): empty"):
        data.validate(bad, path="in-memory")


def test_scenario_is_loaded_and_marked_simulated():
    series = data.load("mccolo", seed=1)
    assert series.attrs["simulated"] is True
    assert series.name == "count" and series.index.name == "date"
    assert series.index.freqstr == "D"
    assert series.attrs["gaps"] == []
    assert series.attrs["sha256"] is None
    observed = data.simulate("mccolo", seed=1)["observed"]
    np.testing.assert_array_equal(series.to_numpy(), observed.to_numpy())


def test_simulate_is_reexported():
    from spamits import _simulate

    assert data.simulate is _simulate.simulate
    assert data.SCENARIOS is _simulate.SCENARIOS


# ------------------------------------------------------------------------------------------ vendors

VENDOR_HEADER = "vendor,metric,period,value,unit,source_url,note,conflict\n"
VENDOR_ROWS = [
    "Acme,spam_rate,2008-09,80.0,percent,https://a.example/1,,false",
    "Acme,spam_rate,2008-10,81.0,percent,https://a.example/2,,false",
    "Acme,spam_rate,2008-12,60.0,percent,https://a.example/3,,false",
    "Acme,spam_rate,2008Q4,70.0,percent,https://a.example/4,quarterly,false",
    "Acme,spam_rate,2009,75.0,percent,https://a.example/5,annual,false",
    "Acme,volume,2008-11-12,20.0,bn per day,https://a.example/6,day after,false",
    "Bolt,spam_rate,2008-10,90.0,percent,https://b.example/1,,false",
    "Bolt,spam_rate,2008-11,50.0,percent,https://b.example/2,,false",
    "Bolt,spam_rate,2008-11,55.0,percent,https://b.example/3,other page,true",
    "Bolt,spam_rate,2009-06,70.0,percent,https://b.example/4,far from the event,false",
]


@pytest.fixture
def vendor_dir(tmp_path, monkeypatch):
    folder = tmp_path / "vendordata"
    folder.mkdir()
    (folder / "vendor_figures.csv").write_text(VENDOR_HEADER + "\n".join(VENDOR_ROWS) + "\n")
    monkeypatch.setenv("SPAMITS_DATA_DIR", str(folder))
    monkeypatch.setattr(
        events, "get", lambda event_id, **_: SimpleNamespace(id=event_id, date=pd.Timestamp("2008-11-11"))
    )
    return folder


def test_vendor_figures_parse_and_sort(vendor_dir):
    table = data.vendor_figures()
    assert len(table) == len(VENDOR_ROWS)
    assert list(table.columns[:8]) == list(data.VENDOR_COLUMNS)
    assert table["value"].dtype == float and table["conflict"].dtype == bool
    keys = list(zip(table["vendor"], table["metric"], table["period_start"], strict=True))
    assert keys == sorted(keys)
    quarter = table[table["period"] == "2008Q4"].iloc[0]
    assert quarter["period_start"] == pd.Timestamp("2008-10-01") and quarter["period_kind"] == "quarter"


def test_vendor_figures_event_window(vendor_dir):
    window = data.vendor_figures(event="mccolo", months=2)
    assert set(window["period_kind"]) <= {"month", "day"}  # quarterly and annual figures are left out
    assert "2009-06" not in set(window["period"])
    assert set(window["period"]) == {"2008-09", "2008-10", "2008-11", "2008-11-12", "2008-12"}
    narrow = data.vendor_figures(vendor="Acme", event="mccolo", months=0)
    assert list(narrow["period"]) == ["2008-11-12"]
    with pytest.raises(ModelSpecError, match="months"):
        data.vendor_figures(event="mccolo", months=-1)


def test_vendor_series_never_mixes_vendors(vendor_dir):
    series = data.vendor_series("Acme", "spam_rate")
    assert series.attrs["vendor"] == "Acme" and series.attrs["metric"] == "spam_rate"
    assert series.index.freqstr == "MS"
    assert series.dropna().tolist() == [80.0, 81.0, 60.0]  # no Bolt values, no quarterly or annual figure
    assert np.isnan(series["2008-11-01"])  # missing month kept missing
    assert series.attrs["gaps"] == [("2008-11-01", "2008-11-01")]
    assert all(url.startswith("https://a.example") for url in series.attrs["source_urls"])


def test_vendor_series_conflicts(vendor_dir):
    with pytest.raises(DataValidationError, match="conflicting figures.*2008-11") as info:
        data.vendor_series("Bolt", "spam_rate")
    assert "keep-first" in str(info.value)
    assert data.vendor_series("Bolt", "spam_rate", conflict="keep-first")["2008-11-01"] == 50.0
    assert data.vendor_series("Bolt", "spam_rate", conflict="keep-last")["2008-11-01"] == 55.0
    dropped = data.vendor_series("Bolt", "spam_rate", conflict="drop")
    assert np.isnan(dropped["2008-11-01"]) and dropped["2008-10-01"] == 90.0
    assert dropped.attrs["conflicts"][0]["values"] == [50.0, 55.0]
    with pytest.raises(ModelSpecError, match="conflict must be one of"):
        data.vendor_series("Bolt", "spam_rate", conflict="mean")


def test_vendor_series_bad_requests_list_valid_values(vendor_dir):
    with pytest.raises(ModelSpecError, match=r"unknown vendor 'Nobody'.*'Acme', 'Bolt'"):
        data.vendor_series("Nobody", "spam_rate")
    with pytest.raises(ModelSpecError, match=r"unknown metric 'volume' for vendor 'Bolt'.*'spam_rate'"):
        data.vendor_series("Bolt", "volume")
    with pytest.raises(ModelSpecError, match="exactly one vendor and one metric"):
        data.vendor_series(None, "spam_rate")
    with pytest.raises(ModelSpecError, match="no monthly"):
        data.vendor_series("Acme", "volume")


def test_vendor_file_validation(vendor_dir):
    path = vendor_dir / "vendor_figures.csv"
    path.write_text(VENDOR_HEADER + VENDOR_ROWS[0] + "\n" + "Acme,spam_rate,2008-13,1,percent,u,,false\n")
    with pytest.raises(DataValidationError, match=r"vendor_figures\.csv: row 2 \(line 3\): unrecognised"):
        data.vendor_figures()
    path.write_text(VENDOR_HEADER + "Acme,spam_rate,2008-10,80%,percent,u,,false\n")
    with pytest.raises(DataValidationError, match=r"row 1 \(line 2\): non-numeric value '80%'"):
        data.vendor_figures()
    path.write_text("vendor,metric,period,value\nAcme,spam_rate,2008-10,1\n")
    with pytest.raises(DataValidationError, match=r"missing column\(s\) \['unit'"):
        data.vendor_figures()


def test_shipped_vendor_figures_around_mccolo():
    table = data.vendor_figures(event="mccolo")
    assert not table.empty
    months = (table["period_start"].dt.year - 2008) * 12 + table["period_start"].dt.month - 11
    assert months.abs().max() <= 6
    for (vendor, metric), rows in data.vendor_figures().groupby(["vendor", "metric"]):
        if (rows["period_kind"] == "month").any():
            series = data.vendor_series(vendor, metric, conflict="keep-first")
            assert series.attrs["vendor"] == vendor and series.index.freqstr == "MS"

"""Bad inputs to ``spamits.data``'s series helpers: each is a clear spamits error naming the argument (issue 12)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from spamits import data, events
from spamits.errors import DataValidationError, ModelSpecError


@pytest.fixture(scope="module")
def y() -> pd.Series:
    return data.load("mccolo")


def test_window_accepts_every_date_form(y):
    expected = data.window(y, "2008-11-11", pre=30, post=30)
    for date in (pd.Timestamp("2008-11-11"), dt.datetime(2008, 11, 11), dt.date(2008, 11, 11),
                 np.datetime64("2008-11-11"), events.get("mccolo")):
        got = data.window(y, date, pre=30, post=30)
        pd.testing.assert_series_equal(got, expected)
        assert got.index[30] == pd.Timestamp("2008-11-11")


@pytest.mark.parametrize("date", [20081111, 2008.0, np.int64(20081111)])
def test_an_int_date_is_refused_naming_the_argument(y, date):
    with pytest.raises(ModelSpecError, match=r"^date=.*a number is not a date.*'2008-11-11'"):
        data.window(y, date, pre=30, post=30)


def test_an_int_date_to_period_position_is_refused(y):
    with pytest.raises(ModelSpecError, match="^date=20081111: a number is not a date"):
        data.period_position(y.index, 20081111)


def test_a_tz_aware_date_is_refused_naming_the_argument(y):
    with pytest.raises(ModelSpecError, match=r"^date=.*has a time zone.*tz_convert\(None\)"):
        data.window(y, pd.Timestamp("2008-11-11", tz="UTC"), pre=30, post=30)


def test_an_unparseable_date_is_refused_naming_the_argument(y):
    with pytest.raises(ModelSpecError, match="^date='garbage': not a date"):
        data.window(y, "garbage", pre=30, post=30)


def test_a_tz_aware_series_is_refused_naming_the_argument(y):
    aware = y.tz_localize("UTC")
    with pytest.raises(DataValidationError, match=r"^y: the dates have a time zone \(UTC\).*y.tz_convert\(None\)"):
        data.window(aware, "2008-11-11", pre=30, post=30)
    with pytest.raises(DataValidationError, match="^y: the dates have a time zone"):
        data.describe(aware)


def test_a_series_without_dates_is_refused_naming_the_argument(y):
    with pytest.raises(DataValidationError, match="^y: the index is a RangeIndex, not a DatetimeIndex"):
        data.window(y.reset_index(drop=True), "2008-11-11", pre=30, post=30)


def test_a_series_without_frequency_is_refused(y):
    irregular = y.drop(y.index[5])
    irregular.index.freq = None
    with pytest.raises(DataValidationError, match=r"^y: the DatetimeIndex has no frequency.*asfreq"):
        data.window(irregular, "2008-11-11", pre=30, post=30)


@pytest.mark.parametrize("pre", ["30", 30.0, True])
def test_window_lengths_must_be_whole_numbers(y, pre):
    with pytest.raises(ModelSpecError, match="^window: pre=.* must be a whole number of periods"):
        data.window(y, "2008-11-11", pre=pre, post=30)


@pytest.mark.parametrize("source", [20081111, None, 3.5])
def test_load_refuses_a_source_that_is_neither_name_nor_path(source):
    with pytest.raises(ModelSpecError, match=f"^source: expected a scenario name .* got {type(source).__name__}"):
        data.load(source)


def test_load_given_a_tz_aware_series_points_to_validate(y):
    with pytest.raises(ModelSpecError, match=r"^source: .* got Series\. .*spamits\.data\.validate"):
        data.load(y.tz_localize("UTC"))


def test_validate_refuses_a_series_naming_the_argument(y):
    with pytest.raises(DataValidationError, match="^frame: expected a DataFrame .* got Series"):
        data.validate(y, path="in-memory")


def test_validate_converts_a_tz_aware_date_column_to_naive_utc():
    frame = pd.DataFrame({"date": pd.date_range("2008-01-01", periods=3, freq="D", tz="UTC"), "count": [1, 2, 3]})
    series = data.validate(frame, path="in-memory")
    assert series.index.tz is None and series.index.freqstr == "D"

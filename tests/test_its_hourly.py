"""Hourly series in its.fit and the robust scans (issue 13): SIMULATED series with a cut-off at a known hour."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from spamits import its, robust
from spamits.data.stress import simulate_stress
from spamits.errors import ModelSpecError

EVENT = "2008-11-11 21:00"  # the SIMULATED cut-off hour of the hourly stress case (a simulation parameter)


@pytest.fixture(scope="module")
def quiet() -> pd.DataFrame:
    """A SIMULATED hourly series with little noise: -60% at 21:00, half-life 24 hours."""
    return simulate_stress("hourly", seed=2, phi=(0.3,), sigma=0.05, alpha=0.002, drop=0.6, half_life=24.0)


@pytest.fixture(scope="module")
def decay_fit(quiet: pd.DataFrame) -> its.ITSResult:
    return its.fit(quiet["observed"], EVENT, effect="decay", n_draws=300)


def test_hourly_fit_recovers_effect_and_half_life_in_hours(quiet: pd.DataFrame, decay_fit: its.ITSResult) -> None:
    res = decay_fit
    assert res.freq == "H" and res.unit == "hours" and res.seasonality == "hod+dow"
    eff = res.effects.set_index("term")
    level, half = eff.loc["level"], eff.loc["half_life"]
    assert level["ci_low"] <= np.log(0.4) <= level["ci_high"]
    assert half["ci_low"] <= 24.0 <= half["ci_high"] and 18 < half["estimate"] < 32
    pos = quiet.attrs["settings"]["n_pre"]
    imp = res.impact(EVENT, quiet.index[pos + 719])
    assert imp["start"] == "2008-11-11 21:00" and imp["periods"] == 720
    assert imp["relative_low"] <= quiet.attrs["truth"]["relative_effect_30d"] <= imp["relative_high"]
    rec = res.recovery_time(0.9)
    assert rec["unit"] == "hours" and rec["low"] <= rec["estimate"] <= rec["high"]
    assert list(res.impact_table()["horizon"].dropna()) == [24, 168, 720]
    assert "hours" in res.summary()


def test_events_with_a_time_of_day(quiet: pd.DataFrame) -> None:
    y = quiet["observed"]
    model = its.ITSModel(y, EVENT)
    assert y.index[model.specs[0].position] == pd.Timestamp(EVENT)
    assert model.specs[0].label == "2008-11-11 21:00"
    for same in (pd.Timestamp(EVENT), dt.datetime(2008, 11, 11, 21), np.datetime64("2008-11-11T21:00")):
        assert its.ITSModel(y, same).specs[0].position == model.specs[0].position
    midnight = its.ITSModel(y, "2008-11-11")  # a date alone is its midnight UTC
    assert y.index[midnight.specs[0].position] == pd.Timestamp("2008-11-11 00:00")
    assert midnight.specs[0].label == "2008-11-11"
    # daily series: a time of day falls in the day that contains it (the behaviour before hourly support)
    daily = y.resample("D").sum()
    assert its.ITSModel(daily, EVENT).specs[0].position == its.ITSModel(daily, "2008-11-11").specs[0].position


@pytest.mark.parametrize(("seasonality", "has", "lacks"), [
    ("auto", ["hod(13)", "dow(Sun)"], []),
    ("hod", ["hod(1)"], ["dow(Tue)"]),
    ("dow", ["dow(Tue)"], ["hod(1)"]),
    (None, ["trend"], ["hod(1)", "dow(Tue)"]),
    (3, ["sin(3,24)", "cos(1,24)"], ["hod(1)"]),
])
def test_seasonality_variants_on_hourly_series(quiet: pd.DataFrame, seasonality: object, has: list,
                                               lacks: list) -> None:
    model = its.ITSModel(quiet["observed"], EVENT, seasonality=seasonality)
    cols = set(model.baseline.columns)
    assert set(has) <= cols and not set(lacks) & cols


def test_daily_default_seasonality_is_unchanged(quiet: pd.DataFrame) -> None:
    daily = quiet["observed"].resample("D").sum()
    assert its.ITSModel(daily, "2008-11-12").seasonality is None
    with pytest.raises(ModelSpecError, match="hourly"):
        its.ITSModel(daily, "2008-11-12", seasonality="hod")


def test_bad_hourly_inputs(quiet: pd.DataFrame) -> None:
    y = quiet["observed"]
    irregular = y.drop(y.index[[5, 6, 40]])
    irregular.index.freq = None
    with pytest.raises(ModelSpecError, match="not regular"):
        its.fit(irregular, EVENT)
    with pytest.raises(ModelSpecError, match="y: the index is time-zone aware"):
        its.fit(y.tz_localize("UTC"), EVENT)
    with pytest.raises(ModelSpecError, match="time-zone aware"):
        its.fit(y, pd.Timestamp(EVENT, tz="UTC"))
    with pytest.raises(ModelSpecError, match=r"events: 2008-11-11 21:30 is not on the hourly grid"):
        its.fit(y, "2008-11-11 21:30")
    with pytest.raises(ModelSpecError, match="not supported"):
        its.fit(y.resample("2h").sum(), EVENT)
    with pytest.raises(ModelSpecError, match="outside the series"):
        its.fit(y, "2009-02-01 05:00")


def test_break_scan_finds_the_hour(quiet: pd.DataFrame, decay_fit: its.ITSResult) -> None:
    y, event = quiet["observed"], pd.Timestamp(EVENT)
    rate = decay_fit.decay_rates[decay_fit.events[0]]
    scan = robust.break_scan(y, event - pd.Timedelta(hours=6), event + pd.Timedelta(hours=6), effect="decay",
                             decay_rate=rate)
    assert abs((scan.date - event) / pd.Timedelta(hours=1)) <= 2
    assert scan.date_low <= event <= scan.date_high and scan.hourly
    assert len(scan.table) == 13 and scan.spec["seasonality"] == "hod+dow"
    assert "SIMULATED" in scan.summary() and ":00" in robust.describe_break(scan, event)
    assert "hour" in robust.describe_break(scan, event)


def test_placebo_and_window_sweep_in_hours(quiet: pd.DataFrame) -> None:
    y = quiet["observed"]
    placebo = robust.placebo_in_time(y, EVENT, min_pre=24 * 29, min_post=24 * 29, effect="step")
    assert placebo.unit == "hours" and placebo.spec["data_end"] == "2008-11-11 20:00"
    assert placebo.n == 1440 - 2 * 24 * 29 + 1 and "21:00" in placebo.summary()
    sweep = robust.window_sweep(y, EVENT, pre=(720,), post=(360,), effect="step")
    assert list(sweep["window"].unique()) == ["720 pre / 360 post"] and (sweep["ratio"] < 1).all()


def test_break_scan_profiled_over_decay_rates_finds_the_hour_knowing_only_the_day(quiet: pd.DataFrame) -> None:
    rates = [0.5 ** (1 / h) for h in (6, 24, 96)]
    scan = robust.break_scan(quiet["observed"], "2008-11-11 12:00", "2008-11-12 06:00", effect="decay",
                             decay_rate=rates)
    assert abs((scan.date - pd.Timestamp(EVENT)) / pd.Timedelta(hours=1)) <= 2
    assert scan.spec["decay_rate"] in rates and scan.spec["decay_rates"] == rates
    assert set(scan.table["decay_rate"]) <= set(rates)
    with pytest.raises(ModelSpecError, match="decay_rate"):
        robust.break_scan(quiet["observed"], effect="decay", decay_rate=[0.5, 1.5])

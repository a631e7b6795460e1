"""Issue 13: the pre-period calibrated interval (``its.calibrate``) and the checks carried by the result.

Mechanics only (coverage is measured by ``benchmarks/stress_study.py``, docs/simulation_study.md); SIMULATED.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

from spamits.data.stress import HORIZON_DAYS, simulate_stress
from spamits.errors import ModelFitWarning, ModelSpecError
from spamits.its import fit
from spamits.its.calibrate import block_errors, calibrated_impact


def _fit(case: str, seed: int = 0):
    frame = simulate_stress(case, seed=seed)
    y, pos = frame["observed"], int(frame.attrs["settings"]["n_pre"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a normal fit leaks no warning
        return fit(y, y.index[pos], effect="decay", seasonality="dow", n_draws=400), frame, pos


def test_calibrated_impact_keeps_the_point_and_widens_on_bursts():
    res, frame, pos = _fit("bursts", seed=2)
    window = (res.y.index[pos], res.y.index[pos + HORIZON_DAYS - 1])
    plain = dataclasses.replace(res, counterfactual="stationary").impact(*window, interval="model")
    cal = calibrated_impact(res, *window)
    assert cal["relative"] == plain["relative"] and cal["interval"] == "pre-period calibrated"
    assert cal["relative_low"] < cal["relative"] < cal["relative_high"]
    assert cal["relative_high"] - cal["relative_low"] > plain["relative_high"] - plain["relative_low"]
    assert calibrated_impact(res, *window) == cal  # fixed seed: the same interval every call
    errors = block_errors(res, HORIZON_DAYS)
    assert errors.size == pos - HORIZON_DAYS + 1 and np.all(np.isfinite(errors))


def test_interval_auto_is_calibrated_on_bursts_and_says_so():
    res, _, pos = _fit("bursts", seed=2)
    window = (res.y.index[pos], res.y.index[pos + HORIZON_DAYS - 1])
    assert res.interval == "calibrated"
    assert any("interval='auto' chose 'calibrated'" in note for note in res.notes)
    cal = calibrated_impact(res, *window)
    assert res.impact(*window) == {key: value for key, value in cal.items() if key != "blocks"}
    model = res.impact(*window, interval="model")
    assert model["interval"] == "model" and model["relative_low"] != cal["relative_low"]
    assert res.impact(*window, interval="auto") == res.impact(*window)
    assert res.to_dict()["model"]["interval"] == "calibrated"
    assert set(res.impact_table()["interval"]) == {"pre-period calibrated"}
    y = res.y
    asked = fit(y, y.index[pos], effect="decay", seasonality="dow", n_draws=400, interval="model")
    assert asked.interval == "model" and asked.impact(*window) == model
    assert not any("interval=" in note for note in asked.notes)


def test_interval_auto_keeps_the_model_interval_without_bursts():
    res, _, pos = _fit("conforming", seed=3)
    assert len(res.burst_days) == 0 and res.interval == "model"
    assert res.impact()["interval"] == "model" and res.to_dict()["model"]["interval"] == "model"


def test_interval_auto_falls_back_to_the_model_when_the_pre_period_is_too_short():
    frame = simulate_stress("bursts", seed=2)
    pos = int(frame.attrs["settings"]["n_pre"])
    y = frame["observed"].iloc[pos - 60:]  # 60 pre-period days: 16 windows of 45 days, fewer than 20
    res = fit(y, y.index[60], effect="decay", seasonality="dow", n_draws=400)
    assert res.interval == "calibrated"
    window = (y.index[60], y.index[60 + 44])
    assert res.impact(*window)["interval"] == "model"
    assert res.impact(*window) == res.impact(*window, interval="model")
    with pytest.raises(ModelSpecError, match="windows"):
        res.impact(*window, interval="calibrated")


@pytest.mark.parametrize("bad", ["calibrate", "", None, 3])
def test_a_bad_interval_names_the_argument(bad):
    res, _, _ = _fit("conforming")
    with pytest.raises(ModelSpecError, match=r"interval=.*must be one of 'auto', 'model', 'calibrated'"):
        fit(res.y, res.specs[0].date, interval=bad)
    if bad is not None:  # None: the fit's own choice
        with pytest.raises(ModelSpecError, match=r"interval=.*must be one of"):
            res.impact(interval=bad)


def test_calibration_needs_enough_pre_period_blocks():
    res, _, pos = _fit("conforming")
    with pytest.raises(ModelSpecError, match="windows"):
        block_errors(res, pos)


def test_burst_days_found_on_a_seeded_burst_series():
    res, frame, pos = _fit("bursts", seed=1)
    days = res.burst_days
    assert isinstance(days, pd.DatetimeIndex) and len(days) > 5
    truth = frame.index[:pos][frame["burst"].to_numpy()[:pos]]
    assert days.isin(truth).mean() > 0.9
    with pytest.warns(ModelFitWarning, match="calibrated_impact"):  # the warning names the option to use
        assert res.prechecks.bursts["date"].isin(days).all()
    assert len(_fit("conforming", seed=1)[0].burst_days) <= 2


def test_prechecks_warn_and_name_the_earlier_break():
    res, frame, pos = _fit("earlier-event", seed=0)
    with pytest.warns(ModelFitWarning, match="break in the pre-period level"):
        check = res.prechecks
    assert check.break_found
    assert abs((check.break_date - frame.index[pos - 120]).days) <= 21


def test_low_counts_fit_or_raise_a_clear_error():
    for seed in range(6):
        frame = simulate_stress("low-counts", seed=seed)
        y, pos = frame["observed"], int(frame.attrs["settings"]["n_pre"])
        try:
            res = fit(y, y.index[pos], effect="decay", seasonality="dow", n_draws=200)
        except ModelSpecError:
            continue
        out = calibrated_impact(res, y.index[pos], y.index[pos + HORIZON_DAYS - 1])
        assert np.isfinite([out["relative_low"], out["relative_high"]]).all()

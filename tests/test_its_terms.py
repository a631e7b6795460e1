"""Tests of the design terms (spamits.its.terms): value objects, the Design container and its rank check."""

import numpy as np
import pandas as pd
import pytest

from spamits.errors import ModelSpecError
from spamits.its import terms
from spamits.its.model import ITSModel

DAYS = pd.date_range("2020-01-06", periods=28, freq="D")  # starts on a Monday
HOURS = pd.date_range("2020-01-06", periods=24 * 14, freq="h")


def test_terms_are_value_objects():
    assert terms.Constant() == terms.Constant() and hash(terms.Trend()) == hash(terms.Trend())
    assert terms.Fourier(7, 2) == terms.Fourier(7, 2) != terms.Fourier(7, 3)
    assert terms.Level("a", "2020-01-10") == terms.Level("a", pd.Timestamp("2020-01-10"))
    assert terms.Level("a", "2020-01-10") != terms.Slope("a", "2020-01-10")
    assert terms.Decay("a", "2020-01-10", 0.5) != terms.Decay("a", "2020-01-10", 0.6)
    assert len({terms.DayOfWeek(), terms.DayOfWeek(), terms.HourOfDay()}) == 2
    assert str(terms.Fourier(24, 3)) == "Fourier(period=24, order=3)"
    assert terms.Level.is_event and terms.Decay.is_event and not terms.Fourier.is_event


def test_in_sample_is_labelled_by_the_index():
    frame = terms.Design(DAYS, [terms.Constant(), terms.Trend(), terms.DayOfWeek()]).matrix
    assert list(frame.columns) == ["const", "trend", "dow(Tue)", "dow(Wed)", "dow(Thu)", "dow(Fri)", "dow(Sat)",
                                   "dow(Sun)"]
    assert frame.index.equals(DAYS)
    assert frame["dow(Tue)"].sum() == 4 and frame.loc["2020-01-07", "dow(Tue)"] == 1
    assert abs(frame["trend"].mean()) < 1e-12


def test_event_terms_start_on_the_event_period():
    frame = terms.Design(DAYS, [terms.Level("e", "2020-01-10"), terms.Slope("e", "2020-01-10")]).matrix
    assert frame["level(e)"].tolist()[2:6] == [0, 0, 1, 1]
    assert frame["slope(e)"].tolist()[3:7] == [0, 0, 1, 2]
    decay = terms.Decay("e", "2020-01-10", 0.5).in_sample(DAYS)["level(e)"]
    assert decay.tolist()[3:7] == [0, 1, 0.5, 0.25]


def test_hour_of_day_and_its_combination_with_day_of_week():
    hod = terms.HourOfDay().in_sample(HOURS)
    assert list(hod.columns) == [f"hod({h})" for h in range(1, 24)]
    assert (hod.sum(axis=1) == (HOURS.hour != 0)).all()
    both = terms.Design(HOURS, terms.seasonal_terms("hod+dow", "H")).matrix
    assert both.shape == (len(HOURS), 23 + 6)
    assert both.loc["2020-01-07 05:00", ["hod(5)", "dow(Tue)"]].tolist() == [1.0, 1.0]
    with pytest.raises(ModelSpecError, match="hourly"):
        terms.HourOfDay().in_sample(DAYS)


def test_fourier_pairs_at_a_period():
    frame = terms.Fourier(24, 2).in_sample(HOURS)
    assert list(frame.columns) == ["sin(1,24)", "cos(1,24)", "sin(2,24)", "cos(2,24)"]
    hour = HOURS.hour.to_numpy()
    np.testing.assert_allclose(frame["sin(1,24)"], np.sin(2 * np.pi * hour / 24), atol=1e-9)
    np.testing.assert_allclose(frame["cos(2,24)"], np.cos(4 * np.pi * hour / 24), atol=1e-9)
    assert list(terms.Fourier(4, 2).in_sample(DAYS).columns) == ["sin(1,4)", "cos(1,4)", "sin(2,4)"]
    with pytest.raises(ModelSpecError, match="between 1 and 3"):
        terms.Fourier(7, 4)


def test_design_rejects_a_duplicate_term_and_a_duplicate_column():
    with pytest.raises(ModelSpecError, match="Trend is given twice"):
        terms.Design(DAYS, [terms.Constant(), terms.Trend(), terms.Trend()])
    design = terms.Design(DAYS, [terms.Level("e", "2020-01-10"), terms.Decay("e", "2020-01-10", 0.5)])
    with pytest.raises(ModelSpecError, match="'level\\(e\\)' come from more than one term"):
        design.matrix  # noqa: B018


def test_rank_check_names_a_collinear_control():
    rng = np.random.default_rng(0)
    y = pd.Series(rng.poisson(100, len(DAYS) * 4).astype(float),
                  index=pd.date_range("2020-01-06", periods=len(DAYS) * 4, freq="D"))
    control = pd.Series(np.exp(np.arange(len(y)) / len(y)), index=y.index)  # log control = a linear trend
    with pytest.raises(ModelSpecError, match="the control 'control\\(c\\)' is collinear .* drop it"):
        ITSModel(y, "2020-02-20", control=control.rename("c"), errors="iid")
    design = terms.Design(DAYS, [terms.Constant(), terms.Trend(),
                                 terms.Control("c", pd.Series(np.arange(len(DAYS), dtype=float), index=DAYS))])
    with pytest.raises(ModelSpecError, match="control\\(c\\)"):
        design.check_rank()
    terms.Design(DAYS, [terms.Constant(), terms.Trend()]).check_rank()  # full rank: no error


def test_the_model_baseline_is_the_design_of_its_terms():
    y = pd.Series(np.arange(60, dtype=float) + 10, index=pd.date_range("2020-01-06", periods=60, freq="D"))
    model = ITSModel(y, "2020-02-20", seasonality=2, errors="iid")
    assert model.design.terms == (terms.Constant(), terms.Trend(), terms.Fourier(7, 2))
    assert model.baseline.equals(model.design.matrix)

"""Issue 12's bad and edge inputs of ``spamits.its`` and ``spamits.robust``: each a clear ModelSpecError naming
the argument, or (for valid input) a sound result; and the checked model object ``its.ITSModel``."""

from __future__ import annotations

import datetime as dt
import functools

import numpy as np
import pandas as pd
import pytest

from spamits import events, its, robust
from spamits._simulate import simulate
from spamits.errors import ModelSpecError, SpamitsError

DATE = "2008-11-11"


@functools.cache
def _y() -> pd.Series:
    return simulate("mccolo", seed=0)["observed"]


@functools.cache
def _res() -> its.ITSResult:
    return its.fit(_y(), pd.Timestamp(DATE), n_draws=200)


@pytest.mark.parametrize("event", [pd.Timestamp(DATE), dt.datetime(2008, 11, 11)], ids=["Timestamp", "datetime"])
def test_placebo_and_window_sweep_take_the_timestamp_or_datetime_given_to_fit(event):
    y = _y()
    its.fit(y, event, n_draws=200)
    placebo = robust.placebo_in_time(y, event, errors="hac")
    assert placebo.event == DATE and 0 < placebo.p_value <= 1
    sweep = robust.window_sweep(y, event, pre=(120,), post=(60,), n_draws=200)
    assert set(sweep["term"]) == {"level"}


@pytest.mark.parametrize("event", [pd.Timestamp(DATE), dt.datetime(2008, 11, 11), dt.date(2008, 11, 11),
                                   np.datetime64(DATE), DATE],
                         ids=["Timestamp", "datetime", "date", "datetime64", "str"])
def test_impact_takes_the_very_event_passed_to_fit(event):
    res = its.fit(_y(), event, n_draws=200)
    assert res.impact(events=[event]) == res.impact()


def test_impact_by_date_of_a_catalog_event():
    res = its.fit(_y(), "mccolo", n_draws=200)
    assert res.events == ["mccolo"]
    assert res.impact(events=[events.get("mccolo")]) == res.impact(events=[DATE]) == res.impact()


def test_every_event_form_gives_the_same_fit():
    y = _y()
    forms = [DATE, pd.Timestamp(DATE), dt.datetime(2008, 11, 11), dt.date(2008, 11, 11), np.datetime64(DATE)]
    effects = [its.fit(y, f, n_draws=200).effects for f in forms]
    for table in effects[1:]:
        pd.testing.assert_frame_equal(table, effects[0])
    by_id = its.fit(y, "mccolo", n_draws=200).effects
    np.testing.assert_array_equal(by_id["estimate"], effects[0]["estimate"])


def test_complete_takedown_with_decay_fits_and_says_so():
    y = _y().copy()
    y[y.index >= DATE] = 0.0
    res = its.fit(y, DATE, effect="decay", n_draws=200)
    assert res.impact()["relative"] == -1.0
    assert any("complete stop" in note for note in res.notes)


def _bad(fn, match: str) -> None:
    with pytest.raises(ModelSpecError, match=match) as info:
        fn()
    assert isinstance(info.value, SpamitsError | ValueError)


@pytest.mark.parametrize(("make", "match"), [
    (lambda y: its.fit(y * 0.0, DATE), "every observed value is 0"),
    (lambda y: its.fit(y.where(y.index < DATE), DATE), "every value from the event"),
    (lambda y: its.fit(y, [DATE, events.get("mccolo")]), "same event is given twice"),
    (lambda y: its.fit(y, [DATE, DATE]), "same event is given twice"),
    (lambda y: its.fit(y, DATE, n_draws=1), "n_draws=1"),
    (lambda y: its.fit(y, DATE, alpha="0.05"), "alpha='0.05'"),
    (lambda y: its.fit(y, pd.Timestamp(DATE, tz="UTC")), "time-zone aware"),
    (lambda y: its.fit(y.tz_localize("UTC"), DATE), "y: the index is time-zone aware"),
    (lambda y: its.fit(y, 20081111), "is a number, not a date"),
    (lambda y: its.fit(y, DATE, offset=pd.Series(1.0, index=y.index + pd.Timedelta(days=30))),
     "offset: misaligned"),
    (lambda y: its.fit(y, DATE, control=pd.Series(1.0, index=y.index[::2], name="c")), r"control\['c'\]: misaligned"),
    (lambda y: its.fit(y, DATE, control=pd.DataFrame({"a": 2.0, "b": 3.0}, index=y.index)), "collinear"),
    (lambda y: its.fit(y, "no-such-event"), "neither a date"),
    (lambda y: its.fit(y, DATE, family="binomial"), "family='binomial'"),
    (lambda y: its.fit(y, DATE, errors="robust"), "errors='robust'"),
    (lambda y: robust.placebo_in_time(y, 20081111), "is a number"),
])
def test_bad_fit_inputs_are_clear_errors(make, match):
    _bad(lambda: make(_y()), match)


@pytest.mark.parametrize(("call", "match"), [
    (lambda r: r.impact("garbage", "2008-12-01"), "start: 'garbage'"),
    (lambda r: r.impact(events=[]), r"events=\[\]"),
    (lambda r: r.impact(events="mccolo"), "give a list"),
    (lambda r: r.impact(events=["2009-01-01"]), "not in this fit"),
    (lambda r: r.recovery_time("0.9"), "fraction='0.9'"),
    (lambda r: r.diagnostics(lags=-3), "lags=-3"),
])
def test_bad_result_arguments_are_clear_errors(call, match):
    _bad(lambda: call(_res()), match)


def test_model_checks_once_and_fits_like_fit():
    y = _y()
    model = its.ITSModel(y, "mccolo", effect="decay", n_draws=200)
    assert model.freq == "D" and model.unit == "days" and model.n_baseline == 2
    assert [s.label for s in model.specs] == ["mccolo"]
    direct = its.fit(y, "mccolo", effect="decay", n_draws=200)
    pd.testing.assert_frame_equal(model.fit().effects, direct.effects)
    with pytest.raises(ModelSpecError, match="no event"):
        its.ITSModel(y, None).fit()


def test_registries_name_every_family_and_error_model():
    assert tuple(its.FAMILY_MODELS) == its.FAMILIES
    assert list(its.ERROR_MODELS) == list(its.ERRORS)
    assert its.ERROR_MODELS["ar1"].batched == "ar1-sandwich" and its.ERROR_MODELS["ar1"].gls
    assert str(its.ERROR_MODELS["hac"]).startswith("Newey-West")
    assert "negbin" in str(its.FAMILY_MODELS["negbin"])
    with pytest.raises(ModelSpecError, match="family=3"):
        its.FAMILY_MODELS.get(3)


def test_a_decay_estimate_at_its_search_bound_is_a_field_not_only_a_note():
    """A lasting drop fitted as a decay: the half-life reaches the upper search bound; the result says so as a
    field (``decay_at_bound``) and in its notes, and the cross-takedown table reads the field."""
    rng = np.random.default_rng(3)
    index = pd.date_range("2010-01-01", periods=300, freq="D")
    mean = np.where(index < pd.Timestamp("2010-08-01"), 200.0, 80.0)
    y = pd.Series(rng.poisson(mean).astype(float), index=index)
    res = its.fit(y, "2010-08-01", family="negbin", effect="decay", errors="iid")
    label = res.events[0]
    assert res.decay_at_bound == {label: ("upper",)}
    assert [n for n in res.notes if "upper search bound" in n] == [n for n in res.notes if n.startswith(label)]
    after = np.maximum(np.arange(300) - index.get_loc(pd.Timestamp("2010-08-01")), 0)
    recovering = np.where(index < pd.Timestamp("2010-08-01"), 200.0, 200.0 - 120.0 * 0.8 ** after)
    inside = its.fit(pd.Series(rng.poisson(recovering).astype(float), index=index), "2010-08-01",
                     family="negbin", effect="decay", errors="iid")
    assert inside.decay_at_bound == {} and not any("search bound" in n for n in inside.notes)

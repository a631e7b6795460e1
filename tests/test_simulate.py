"""Tests of the seeded simulation (``spamits.data.simulate``): determinism, labelling, and the built-in truth."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from spamits import data
from spamits._simulate import SCENARIOS, scenario, simulate, true_relative_effect
from spamits.errors import ModelSpecError

EFFECT_SCENARIOS = [name for name, sc in SCENARIOS.items() if sc.shape != "none"]


def test_the_issue_scenarios_exist_and_data_simulate_is_this_function():
    assert {"mccolo", "intercage", "rustock", "grum", "rustock-holiday", "no-effect"} <= set(SCENARIOS)
    assert data.simulate is simulate


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_same_seed_gives_identical_frames(name):
    a, b = simulate(name, seed=7), simulate(name, seed=7)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert a.attrs == b.attrs


def test_different_seeds_give_different_series():
    a, b = simulate("mccolo", seed=0), simulate("mccolo", seed=1)
    assert a.index.equals(b.index)
    assert not np.array_equal(a["observed"].to_numpy(), b["observed"].to_numpy())
    assert not np.array_equal(a["counterfactual"].to_numpy(), b["counterfactual"].to_numpy())


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_frame_shape_index_and_labels(name):
    sc = SCENARIOS[name]
    df = simulate(name, seed=3)
    assert list(df.columns)[:3] == ["observed", "counterfactual", "expected"]
    # one log-effect column per simulated event, the scenario's own event first
    assert list(df.columns)[3] == f"log_effect[{sc.event_id}]"
    assert all(c.startswith("log_effect[") for c in list(df.columns)[3:])
    assert isinstance(df.index, pd.DatetimeIndex) and df.index.freqstr == "D" and df.index.name == "date"
    assert len(df) == sc.n_pre + sc.n_post
    assert df.index[sc.n_pre] == pd.Timestamp(sc.event_date)  # the event day is the first post day
    assert df.attrs["simulated"] is True
    assert "SIMULATED" in df.attrs["title"] and "SIMULATED" in df.attrs["source"]
    assert df.attrs["unit"] == "messages per day"
    assert df.attrs["seed"] == 3 and df.attrs["scenario"] == name
    counts = df[["observed", "counterfactual"]].to_numpy()
    assert (counts >= 0).all() and np.array_equal(counts, np.round(counts))


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_observed_never_exceeds_counterfactual_and_equals_it_before_the_event(name):
    df = simulate(name, seed=11)
    sc = SCENARIOS[name]
    first_event = min([pd.Timestamp(sc.event_date)] + [pd.Timestamp(o["event_date"]) for o in sc.others])
    before = df.index < first_event
    assert (df["observed"] <= df["counterfactual"]).all()
    np.testing.assert_array_equal(df["observed"][before], df["counterfactual"][before])


@pytest.mark.parametrize("name", EFFECT_SCENARIOS)
def test_the_drop_on_the_first_days_matches_the_scenario(name):
    """Over the first 3 post days observed/counterfactual is near the scenario's 1 - drop.

    The tolerance covers binomial thinning of about 3000 messages a day (sd of a day's ratio about 0.01) and,
    for decaying effects, the recovery already under way on days 1-2 (for intercage, half-life 4 days, the
    true mean ratio over the three days is 0.69 against 1 - drop = 0.65).
    """
    sc = SCENARIOS[name]
    ratios = []
    for seed in range(5):
        df = simulate(name, seed=seed)
        first = df.iloc[sc.n_pre: sc.n_pre + 3]
        ratios.append(first["observed"].to_numpy() / first["counterfactual"].to_numpy())
        truth = df.attrs["truth"]
        assert truth["drop"] == sc.drop and truth["level"] == pytest.approx(math.log1p(-sc.drop))
    ratios = np.array(ratios)  # seeds x 3 days
    expected = np.exp(df.attrs["truth"]["log_effect_first_days"])
    assert expected[0] == pytest.approx(1 - sc.drop)
    assert ratios[:, 0].mean() == pytest.approx(1 - sc.drop, abs=0.02)
    np.testing.assert_allclose(ratios.mean(axis=0), expected, atol=0.02)
    assert ratios.mean() == pytest.approx(1 - sc.drop, abs=0.06)


def test_decay_recovers_with_the_scenario_half_life():
    sc = SCENARIOS["mccolo"]
    df = simulate("mccolo", seed=0)
    effect = np.log(df["observed"] / df["counterfactual"]).iloc[sc.n_pre:]
    h = int(sc.half_life)
    early = effect.iloc[:7].mean()
    one_half_life_later = effect.iloc[h: h + 7].mean()
    assert one_half_life_later / early == pytest.approx(0.5, abs=0.08)
    assert df.attrs["truth"]["decay_rate"] == pytest.approx(0.5 ** (1 / sc.half_life))


def test_pause_ends_after_its_duration():
    sc = SCENARIOS["rustock-holiday"]
    df = simulate("rustock-holiday", seed=0)
    after = df.iloc[sc.n_pre + sc.duration:]
    np.testing.assert_array_equal(after["observed"], after["counterfactual"])
    during = df.iloc[sc.n_pre: sc.n_pre + sc.duration]
    assert (during["observed"] < during["counterfactual"]).all()


def test_no_effect_scenario_has_observed_equal_to_counterfactual():
    df = simulate("no-effect", seed=4)
    np.testing.assert_array_equal(df["observed"], df["counterfactual"])
    assert true_relative_effect(df, 0, 30) == 0.0


def test_true_relative_effect_is_ratio_of_sums_over_the_window():
    df = simulate("mccolo", seed=2)
    n_pre = SCENARIOS["mccolo"].n_pre
    window = df.iloc[n_pre + 5: n_pre + 35]
    assert true_relative_effect(df, 5, 30) == pytest.approx(
        window["observed"].sum() / window["counterfactual"].sum() - 1, rel=1e-12)
    post = df.iloc[n_pre:]
    assert true_relative_effect(df) == pytest.approx(post["observed"].sum() / post["counterfactual"].sum() - 1)


def test_overrides_change_the_settings_and_are_recorded():
    df = simulate("mccolo", seed=0, n_pre=400, n_post=60, half_life=30.0)
    assert len(df) == 460
    assert df.attrs["overrides"] == {"n_pre": 400, "n_post": 60, "half_life": 30.0}
    assert df.attrs["settings"]["half_life"] == 30.0 and df.attrs["truth"]["half_life"] == 30.0
    assert scenario("rustock", phi=0.8).phi == 0.8
    assert SCENARIOS["rustock"].phi == 0.6  # the registry itself is not changed


BAD = [
    ("unknown scenario", dict(scenario_name="no-such-takedown"), "unknown scenario 'no-such-takedown'"),
    ("unknown setting", dict(scenario_name="mccolo", colour="red"), r"cannot override \['colour'\]"),
    ("non-overridable setting", dict(scenario_name="mccolo", event_id="x"), r"cannot override \['event_id'\]"),
    ("drop of 1", dict(scenario_name="mccolo", drop=1.0), "drop=1.0"),
    ("negative drop", dict(scenario_name="mccolo", drop=-0.1), "drop=-0.1"),
    ("unknown shape", dict(scenario_name="mccolo", shape="wobble"), "shape 'wobble'"),
    ("decay without half-life", dict(scenario_name="rustock", shape="decay"), "half_life"),
    ("pause without duration", dict(scenario_name="rustock", shape="pause"), "duration"),
    ("non-stationary noise", dict(scenario_name="mccolo", phi=1.0), "phi=1.0"),
    ("short pre-period", dict(scenario_name="mccolo", n_pre=10), "n_pre"),
]


@pytest.mark.parametrize(("kwargs", "pattern"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_scenarios_and_overrides_raise_model_spec_error(kwargs, pattern):
    with pytest.raises(ModelSpecError, match=pattern):
        simulate(**kwargs)

"""Issue 13, phase 7: the defaults ``pre_break="auto"`` (its.prebreak) and ``counterfactual="auto"``.

Mechanics only; coverage is measured by ``benchmarks/stress_study.py`` (docs/simulation_study.md). SIMULATED.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from spamits.data.stress import HORIZON_DAYS, daily_bins, simulate_stress
from spamits.errors import ModelFitWarning, ModelSpecError
from spamits.its import fit, precheck
from spamits.its._conditional import SHORT_EFFECT_DAYS
from spamits.its.precheck import find_break
from spamits.robust import batched_kwargs


def _series(case: str, seed: int) -> tuple[pd.Series, int]:
    frame = simulate_stress(case, seed=seed)
    return frame["observed"], int(frame.attrs["settings"]["n_pre"])


def _fit(y: pd.Series, pos: int, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the joint fit's own warnings stay notes
        return fit(y, y.index[pos], effect="decay", seasonality="dow", n_draws=400, **kwargs)


def test_a_detected_break_joins_the_fit_as_a_nuisance_event():
    y, pos = _series("earlier-event", seed=3)
    event = y.index[pos]
    date = find_break(y, event)
    assert date is not None and y.index[pos - 150] <= date < event  # the earlier takedown, 120 days before
    res = _fit(y, pos)
    label = f"pre-period break {date.date()}"
    assert res.nuisance == (label,) and res.nuisance_dates == (date,)
    assert res.events == [event.date().isoformat()] and res.first_position == pos
    assert res.n_pre == pos
    assert set(res.effects["event"]) == {label, res.events[0]}  # the break's own rows, under its label
    window = (event, y.index[pos + HORIZON_DAYS - 1])
    assert res.impact(*window) == res.impact(*window, events=[event])  # the break stays in the counterfactual
    assert res.impact()["start"] == event.date().isoformat()
    assert any("nuisance event" in note for note in res.notes)
    model = res.to_dict()["model"]
    assert [e.get("nuisance", False) for e in model["events"]] == [True, False]
    assert f"Nuisance (modelled)   {label}" in res.summary().splitlines()
    plain = _fit(y, pos, pre_break="none")
    assert plain.nuisance == () and plain.events == res.events
    assert plain.impact(*window)["relative"] != res.impact(*window)["relative"]


def test_no_break_found_leaves_the_fit_as_it_was():
    y, pos = _series("conforming", seed=0)
    assert find_break(y, y.index[pos]) is None
    res, plain = _fit(y, pos), _fit(y, pos, pre_break="none")
    assert res.nuisance == () and res.notes == plain.notes
    pd.testing.assert_frame_equal(res.effects, plain.effects)
    assert res.impact() == plain.impact()


def test_a_break_that_leaves_a_wandering_level_is_not_modelled():
    for seed in range(20):
        y, pos = _series("wandering", seed=seed)
        if find_break(y, y.index[pos]) is None:
            continue
        res = _fit(y, pos)
        if not res.nuisance:
            assert any("still wanders" in note for note in res.notes)
            return
    pytest.fail("no wandering series in 20 seeds kept its plain fit")


def test_breaks_are_not_modelled_on_hourly_series_or_gaussian_families():
    frame = simulate_stress("hourly", seed=0)
    y = frame["observed"]
    event = frame.attrs["truth"]["event"]
    hourly = fit(y, event, effect="decay", n_draws=200)
    assert hourly.nuisance == ()
    y, pos = _series("earlier-event", seed=3)
    gaussian = fit(y, y.index[pos], family="gaussian-log", effect="decay", seasonality="dow", n_draws=200)
    assert gaussian.nuisance == ()


@pytest.mark.parametrize("bad", ["yes", None, 1])
def test_bad_pre_break_names_the_argument(bad):
    y, pos = _series("conforming", seed=0)
    with pytest.raises(ModelSpecError, match="pre_break=.*'auto', 'none'"):
        fit(y, y.index[pos], pre_break=bad)


def test_placebo_scans_measure_the_real_fit_without_a_break():
    assert batched_kwargs({"effect": "decay"})["pre_break"] == "none"


def test_precheck_notes_a_modelled_break_without_warning():
    y, pos = _series("earlier-event", seed=3)
    event = y.index[pos]
    with pytest.warns(ModelFitWarning, match="break in the pre-period"):
        plain = precheck(y, event, catalog=False)
    date = plain.break_date
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check = precheck(y, event, catalog=False, modelled=(date,))
    assert check.break_found and any("models it as a nuisance event" in n for n in check.notes)


# --- counterfactual="auto" ------------------------------------------------------------------------------------


def test_auto_counterfactual_is_in_sample_when_the_effect_is_gone_early():
    binned = daily_bins(simulate_stress("hourly", seed=3))  # half-life 48 hours, in 24-hour bins
    y, pos = binned["observed"], int(binned.attrs["settings"]["n_pre"])
    res = _fit(y, pos)
    half_life = float(res.effects.set_index("term").loc["half_life", "estimate"])
    assert half_life <= SHORT_EFFECT_DAYS and res.counterfactual == "in-sample"
    assert any("in-sample counterfactual" in note for note in res.notes)
    forced = _fit(y, pos, counterfactual="in-sample")
    assert res.impact() == forced.impact()


def test_auto_counterfactual_is_conditional_for_lasting_or_step_effects():
    y, pos = _series("conforming", seed=0)
    assert _fit(y, pos).counterfactual == "conditional"  # half-life 14 days
    step = fit(y, y.index[pos], effect="step", seasonality="dow", n_draws=200)
    assert step.counterfactual == "conditional"
    named = _fit(y, pos, counterfactual="stationary")
    assert named.counterfactual == "stationary"


def test_fit_specs_give_every_specification_the_first_ones_nuisance_events():
    from spamits.its import compare, fit_specs

    y, pos = _series("earlier-event", seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fits = fit_specs(y, [y.index[pos]], effects={"decay": "decay", "step": "step"}, errors=["ar1", "hac"],
                         seasonality="dow", n_draws=200)
    first = next(iter(fits.values()))
    assert first.nuisance and all(f.nuisance == first.nuisance for f in fits.values())
    table = compare(fits)
    assert len(table) == 4 and (table["delta_aic"] >= 0).all()


def test_the_counterfactual_figure_marks_a_modelled_break():
    from spamits import plots

    y, pos = _series("earlier-event", seed=3)
    res = _fit(y, pos)
    fig = plots.fig_counterfactual(res.frame, event_date=y.index[pos], event_label="main",
                                   breaks=res.nuisance_dates).to_dict()
    labels = [a["text"] for a in fig["layout"]["annotations"]]
    assert "pre-period break (modelled)" in labels and "main" in labels
    lines = [s["x0"] for s in fig["layout"]["shapes"]]
    assert str(res.nuisance_dates[0].date()) in lines

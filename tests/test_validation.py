"""Tests of spamits.validation: a small simulation study (negbin with AR(1) errors) and its tables and figures;
a tiny run of the stress cases through the same entry point (``cases=``).

The study here is a reduced version of the one in ``notebooks/validation.ipynb``: phi 0 and 0.8, a 50% drop,
half-lives of 3 and 14 days, a lasting drop and the overlapping pair, 12 seeds per cell.  With 12 series a
cell's coverage moves in steps of 8 points, so the thresholds hold pooled figures, not single cells.
"""

from __future__ import annotations

import functools
import json
import math

import numpy as np
import pandas as pd
import pytest

from spamits import plots, validation
from spamits.errors import ModelSpecError
from spamits.validation import (
    DEFAULT_METHODS,
    RUN_COLUMNS,
    TABLE_COLUMNS,
    StressResult,
    StudyResult,
    simulation_study,
    stress,
)

SMALL = {"phis": (0.0, 0.8), "drops": (0.5,), "half_lives": (3.0, 14.0), "lasting": True, "overlapping": True,
         "seeds": 12, "methods": [("negbin", "ar1")], "n_draws": 500}
CELLS_PER_PHI = 2 + 1 + 2  # two decay half-lives, one lasting drop, two events of the overlapping pair


@functools.cache
def _study() -> StudyResult:
    return simulation_study(**SMALL)


def test_default_methods_are_the_issue_pairs():
    assert DEFAULT_METHODS[0] == ("negbin", "ar1")
    assert set(DEFAULT_METHODS) == {("negbin", "ar1"), ("negbin", "ar1-sandwich"), ("negbin", "hac"),
                                    ("negbin", "iid"), ("quasipoisson", "ar1"), ("gaussian-log", "ar1")}


@pytest.mark.slow
def test_table_shape_columns_and_labels():
    study = _study()
    assert list(study.table.columns) == TABLE_COLUMNS
    assert list(study.runs.columns) == RUN_COLUMNS
    assert len(study.table) == 2 * CELLS_PER_PHI
    assert len(study.runs) == 2 * CELLS_PER_PHI * SMALL["seeds"]
    assert (study.table["n"] == SMALL["seeds"]).all()
    assert (study.table["failed"] == 0).all()
    assert set(study.table["design"]) == {"decay", "lasting", "overlap"}
    assert set(study.table["method"]) == {"negbin/ar1"}
    for table in (study.runs, study.table, study.by_method(), study.overlap(), study.recommended_errors()):
        assert table.columns.name == "SIMULATED"
    assert study.settings["seeds"] == SMALL["seeds"]


@pytest.mark.slow
def test_coverage_in_a_sane_range_and_bias_small():
    study = _study()
    runs = study.runs
    pooled = runs["covered"].mean()
    assert 0.85 <= pooled <= 1.0, pooled
    assert study.table["coverage"].min() >= 0.6
    for phi, group in runs.groupby("phi"):
        assert group["covered"].mean() >= 0.8, phi
    assert abs((runs["estimate"] - runs["truth"]).mean()) < 0.02
    assert study.table["bias"].abs().max() < 0.1
    row = study.by_method().iloc[0]
    assert row["method"] == "negbin/ar1"
    assert row["coverage"] == pytest.approx(pooled)
    assert row["min_coverage"] == pytest.approx(study.table["coverage"].min())


@pytest.mark.slow
def test_median_half_life_close_to_the_truth():
    """The median of 12 estimates is itself noisy: in the hardest cell here (phi 0.8, 3-day half-life) the
    200-seed study puts the median of 12 random seeds between -22% and +36% of the truth 90% of the time, so
    single cells get a 40% bound and the typical cell 15% (the issue's 15% is checked on 1000 seeds per cell
    in the full study, docs/simulation_study.md, recorded in the README)."""
    decay = _study().table.query("effect == 'decay'")
    assert len(decay) == 2 * 2 + 2  # the decay design and the first event of each overlapping pair
    rel = decay["median_half_life"] / decay["half_life"] - 1
    np.testing.assert_allclose(rel, decay["half_life_rel_error"])
    assert rel.abs().median() <= 0.15, decay[["phi", "half_life", "median_half_life"]]
    assert (rel.abs() <= 0.4).all(), decay[["phi", "half_life", "median_half_life"]]
    assert decay["half_life_coverage"].min() >= 0.7
    # the Monte Carlo interval of each median brackets it (12 series: the 2nd and 11th order statistics)
    assert (decay["median_half_life_low"] <= decay["median_half_life"]).all()
    assert (decay["median_half_life"] <= decay["median_half_life_high"]).all()
    assert (decay["median_half_life_low"] < decay["median_half_life_high"]).all()


def test_median_interval_covers_the_median_of_a_skewed_distribution():
    """Over 2000 seeded samples of 200 lognormal draws (median 1), the interval covers 1 in 94-97.5% of them
    (the order-statistic interval is conservative by a point or so; a t-interval on the mean would not do)."""
    rng = np.random.default_rng(7)
    samples = rng.lognormal(0.0, 1.5, size=(2000, 200))
    bounds = np.array([validation.median_interval(row) for row in samples])
    covered = np.mean((bounds[:, 0] <= 1.0) & (1.0 <= bounds[:, 1]))
    assert 0.94 <= covered <= 0.975, covered
    lo, hi = validation.median_interval(np.arange(1.0, 201.0))
    assert (lo, hi) == (86.0, 115.0)  # r = 86: P(Binomial(200, 1/2) <= 85) = 2.0%, so it covers with 96%
    assert all(math.isnan(v) for v in validation.median_interval(np.arange(5.0)))


@pytest.mark.slow
def test_overlapping_contributions_are_covered_in_most_series():
    study = _study()
    overlap = study.overlap()
    assert set(overlap["event"]) == {"first", "second"}
    runs = study.runs.query("design == 'overlap'")
    assert runs["covered"].mean() >= 0.8
    first, second = (runs[runs["event"] == e] for e in ("first", "second"))
    assert (first["truth"] < 0).all() and (second["truth"] < 0).all()
    # the truth of each event is its own contribution: the 30% lasting drop, not the two events together
    assert second["truth"].mean() == pytest.approx(-0.3, abs=0.03)
    np.testing.assert_allclose(second["level_true"], math.log(0.7))


@pytest.mark.slow
def test_study_is_deterministic():
    again = simulation_study(**SMALL)
    pd.testing.assert_frame_equal(again.runs, _study().runs)
    pd.testing.assert_frame_equal(again.table, _study().table)


@pytest.mark.slow
def test_summary_recommendation_and_json():
    study = _study()
    text = study.summary()
    assert text.startswith("SIMULATED")
    assert "negbin/ar1" in text and "closest to nominal for negbin" in text
    assert "Monte Carlo 95% interval" in text and "cells; worst" in text
    rec = study.recommended_errors()
    assert list(rec["family"]) == ["negbin"] and list(rec["errors"]) == ["ar1"]
    blob = json.dumps(study.to_dict(), allow_nan=False)
    back = json.loads(blob)
    assert back["data"] == "SIMULATED"
    assert len(back["table"]) == len(study.table)


@pytest.mark.slow
def test_figures_say_simulated_and_have_units():
    study = _study()
    for fig in (plots.fig_coverage(study.table), plots.fig_half_life(study.table)):
        assert "SIMULATED" in fig.layout.title.text
        named = [t.name for t in fig.data if t.name and t.name.startswith(("negbin", "phi"))]
        assert named and all("SIMULATED" in n for n in named)
        assert "(" in fig.layout.xaxis.title.text and "(" in fig.layout.yaxis.title.text
        assert any(a.text.startswith("Source:") for a in fig.layout.annotations)
        assert fig.to_json() == fig.to_json()
    cov = plots.fig_coverage(study.table)
    ys = [y for t in cov.data for y in t.y]
    assert all(0 <= y <= 100 for y in ys)
    # each median half-life carries its Monte Carlo interval as an error bar, in days
    hl = plots.fig_half_life(study.table).to_dict()
    marked = [t for t in hl["data"] if str(t.get("name", "")).startswith("phi")]
    decay = study.table.query("design == 'decay'")
    for trace, (_, rows) in zip(marked, decay.groupby("phi"), strict=True):
        np.testing.assert_allclose(trace["error_y"]["array"],
                                   (rows["median_half_life_high"] - rows["median_half_life"]).round(2))
        np.testing.assert_allclose(trace["error_y"]["arrayminus"],
                                   (rows["median_half_life"] - rows["median_half_life_low"]).round(2))


def test_recommended_errors_picks_the_model_closest_to_nominal():
    table = pd.DataFrame({"family": ["negbin"] * 4, "errors": ["ar1", "ar1", "iid", "iid"],
                          "coverage": [0.93, 0.96, 0.99, 0.95], "n": [20] * 4})
    rec = validation.recommended_errors(StudyResult(runs=pd.DataFrame(), table=table, settings={"alpha": 0.05}))
    assert rec.iloc[0]["errors"] == "ar1"
    assert rec.iloc[0]["mean_abs_gap"] == pytest.approx(0.015)
    assert rec.iloc[0]["compared"] == "ar1, iid"


@pytest.mark.parametrize("kwargs, match", [
    ({"phis": (1.0,)}, "phis"),
    ({"drops": (0.0,)}, "drops"),
    ({"half_lives": (-1.0,)}, "half_lives"),
    ({"seeds": 0}, "seeds"),
    ({"methods": [("negbin", "newey")]}, "method"),
    ({"methods": []}, "methods"),
    ({"horizon": 200}, "horizon"),
    ({"jobs": 0}, "jobs"),
])
def test_bad_arguments_name_the_parameter(kwargs, match):
    with pytest.raises(ModelSpecError, match=match):
        simulation_study(**kwargs)


# --- the stress cases through the same entry point (issue 13) ---------------------------------------------------


@functools.cache
def _stress() -> StressResult:
    return simulation_study(cases=["conforming", "low-counts"], methods=["default", "calibrated"], seeds=2,
                            first_seed=3)


def test_stress_cases_give_a_case_by_method_table():
    study = _stress()
    assert isinstance(study, StressResult)
    assert list(study.table.columns) == stress.TABLE_COLUMNS
    assert {"n", "failed", "coverage", "bias", "rmse", "mean_width"} <= set(study.table.columns)
    assert list(zip(study.table["case"], study.table["method"], strict=True)) == [
        ("conforming", "default"), ("conforming", "calibrated"), ("low-counts", "default"),
        ("low-counts", "calibrated")]
    assert (study.table["n"] == 2).all() and (study.table["failed"] == 0).all()
    assert list(study.runs.columns) == stress.RUN_COLUMNS and sorted(set(study.runs["seed"])) == [3, 4]
    assert study.table.columns.name == "SIMULATED" and "seeds 3-4" in study.table.attrs["source"]
    grid = study.coverage()
    assert list(grid.index) == ["conforming", "low-counts"] and list(grid.columns) == ["default", "calibrated"]
    assert study.settings == {"cases": ["conforming", "low-counts"], "methods": ["default", "calibrated"],
                              "seeds": 2, "first_seed": 3, "horizon_days": 30, "alpha": 0.05,
                              "target": [0.90, 0.97]}
    assert json.loads(json.dumps(study.to_dict(), allow_nan=False))["data"] == "SIMULATED"


def test_stress_study_is_deterministic_and_its_summary_stable():
    again = simulation_study(cases=["conforming", "low-counts"], methods=["default", "calibrated"], seeds=2,
                             first_seed=3)
    timing = ["seconds"]
    pd.testing.assert_frame_equal(again.runs.drop(columns=timing), _stress().runs.drop(columns=timing))
    assert again.summary() == _stress().summary()
    lines = _stress().summary().splitlines()
    assert lines[0].startswith("SIMULATED stress cases: 2 series per case (seeds 3-4)") and "90-97%" in lines[0]
    assert [line.split(":")[0].strip() for line in lines[1:]] == ["default", "calibrated"]
    assert "seconds" not in _stress().summary()


def test_stress_coverage_figure_has_the_target_band_and_says_simulated():
    fig = plots.fig_stress_coverage(_stress().table).to_dict()
    layout = fig["layout"]
    assert layout["title"]["text"].startswith("SIMULATED")
    assert [t["name"] for t in fig["data"]] == ["default (SIMULATED)", "calibrated (SIMULATED)"]
    assert list(fig["data"][0]["x"]) == ["conforming", "low-counts"]
    expected = (100 * _stress().table.query("method == 'default'")["coverage"]).round(1).tolist()
    assert list(fig["data"][0]["y"]) == expected
    bands = [s for s in layout["shapes"] if s["type"] == "rect"]
    assert [(b["y0"], b["y1"]) for b in bands] == [(90, 97)]
    caption = [a["text"] for a in layout["annotations"] if a["text"].startswith("Source:")]
    assert caption and "simulation_study" in caption[0] and "seeds 3-4" in caption[0]
    assert "(" in layout["yaxis"]["title"]["text"]
    assert plots.fig_stress_coverage(_stress().table).to_json() == plots.fig_stress_coverage(_stress().table).to_json()


@pytest.mark.parametrize("kwargs, match", [
    ({"cases": ["bursts", "hurricane"]}, r"unknown stress case 'hurricane'.*valid cases: conforming, bursts, "
                                         r"wandering, ar2"),
    ({"cases": ["bursts"], "methods": ["default", "magic"]}, r"unknown stress-case method 'magic'.*default, hac"),
    ({"cases": ["bursts"], "methods": [("negbin", "ar1")]}, r"stress-case method \('negbin', 'ar1'\)"),
    ({"cases": "bursts"}, "lists of names"),
    ({"cases": []}, "must not be empty"),
    ({"cases": ["bursts"], "phis": (0.5,)}, r"phis describe the design cells"),
    ({"cases": ["bursts"], "seeds": 0}, "seeds=0"),
    ({"methods": ["default"]}, "give cases="),
    ({"first_seed": 5}, "first_seed=5 applies to cases= only"),
])
def test_bad_stress_arguments_name_what_is_wrong(kwargs, match):
    with pytest.raises(ModelSpecError, match=match):
        simulation_study(**kwargs)


def test_stress_table_for_people_leaves_out_the_timings():
    from spamits.findings import tables

    shown = tables.stress_table(_stress().table)
    assert shown.caption.startswith("SIMULATED")
    assert list(shown.frame.columns) == ["case", "method", "series", "failed fits", "coverage", "bias (pp)",
                                         "RMSE (pp)", "mean width (pp)", "median half-life (days)"]
    assert all(v.endswith("%") for v in shown.frame["coverage"]) and "target 90–97%" in shown.notes

"""Tests of spamits.its: the public contract, agreement with statsmodels, estimator bias and interval coverage
on simulated series with known truth, argument errors, gaps, and weekly/monthly series.

The estimator studies (``test_study_*``) fit the package defaults (``family="negbin"``, ``errors="ar1"``,
``seasonality="dow"``) to 100 seeded series per effect shape (200 for ``step``) and compare the 30-day relative
effect with the truth of each series (``true_relative_effect``: observed over the simulated counterfactual).
They print what they measured; run ``pytest tests/test_its.py -rA -k study`` to see it.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import re
import warnings
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from spamits import events
from spamits._simulate import simulate, true_relative_effect
from spamits.errors import ModelFitWarning, ModelSpecError
from spamits.its import DEFAULT_ERRORS, EFFECTS, ERRORS, FAMILIES, ITSResult, fit

EFFECT_COLUMNS = ["event", "term", "estimate", "ci_low", "ci_high", "p_value", "ratio", "ratio_low", "ratio_high"]
FRAME_COLUMNS = ["observed", "fitted", "counterfactual", "counterfactual_low", "counterfactual_high"]
IMPACT_KEYS = {"relative", "relative_low", "relative_high", "cumulative", "cumulative_low", "cumulative_high"}
TERMS = {"step": ["level"], "slope": ["slope"], "step+slope": ["level", "slope"],
         "decay": ["level", "decay_rate", "half_life"]}
Z95 = 1.959963984540054
N_DRAWS = 1000


@functools.cache
def _sim(name: str, seed: int = 0, **overrides: object) -> pd.DataFrame:
    return simulate(name, seed=seed, **overrides)


@functools.cache
def _mccolo_fit(effect: str = "decay", family: str = "negbin", errors: str = DEFAULT_ERRORS) -> ITSResult:
    df = _sim("mccolo")
    return fit(df["observed"], "2008-11-11", family=family, effect=effect, seasonality="dow", errors=errors,
               n_draws=N_DRAWS)


def _row(result: ITSResult, term: str, event: str | None = None) -> pd.Series:
    eff = result.effects
    eff = eff[eff["event"] == event] if event is not None else eff[eff["event"].isin(result.events)]
    rows = eff[eff["term"] == term]
    assert len(rows) == 1, f"expected one {term!r} row, got {len(rows)}"
    return rows.iloc[0]


# ======================================================================================= the public contract


def test_fit_signature_has_the_contract_keywords_and_defaults():
    params = inspect.signature(fit).parameters
    assert list(params)[:2] == ["y", "events"]
    # seasonality "auto" (issue 13): None on daily, weekly and monthly series as before, "hod+dow" on hourly ones
    expected = {"family": "negbin", "effect": "step", "seasonality": "auto", "errors": "ar1", "offset": None,
                "control": None, "alpha": 0.05}
    for name, default in expected.items():
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY, name
        assert params[name].default == default, name
    assert DEFAULT_ERRORS == "ar1"


def test_registries_list_what_the_issue_names():
    assert set(FAMILIES) == {"gaussian-log", "gaussian-logit", "poisson", "quasipoisson", "negbin"}
    assert set(EFFECTS) == {"step", "slope", "step+slope", "decay"}
    assert {"iid", "hac", "ar1"} <= set(ERRORS)


@pytest.mark.parametrize("effect", list(TERMS))
def test_effects_columns_and_terms_for_each_shape(effect):
    result = _mccolo_fit(effect)
    eff = result.effects
    assert list(eff.columns) == EFFECT_COLUMNS
    assert list(eff["term"]) == TERMS[effect]
    assert set(eff["event"]) == {"2008-11-11"}
    for row in eff.itertuples():
        assert row.ci_low <= row.estimate <= row.ci_high, row.term
    linear = eff[eff["term"].isin(["level", "slope"])]
    assert np.allclose(linear["ratio"], np.exp(linear["estimate"]))
    assert np.allclose(linear["ratio_low"], np.exp(linear["ci_low"]))
    assert np.allclose(linear["ratio_high"], np.exp(linear["ci_high"]))
    assert ((linear["p_value"] >= 0) & (linear["p_value"] <= 1)).all()


def test_half_life_is_log_half_over_log_decay_rate_for_estimate_and_bounds():
    result = _mccolo_fit("decay")
    rate, half = _row(result, "decay_rate"), _row(result, "half_life")
    assert 0 < rate["ci_low"] < rate["estimate"] < rate["ci_high"] < 1
    for col in ("estimate", "ci_low", "ci_high"):
        assert half[col] == pytest.approx(math.log(0.5) / math.log(rate[col]), rel=1e-12), col
    assert result.unit == "days"


def test_frame_columns_index_and_band():
    df = _sim("mccolo")
    frame = _mccolo_fit("decay").frame
    assert list(frame.columns) == FRAME_COLUMNS
    assert frame.index.equals(df.index)
    np.testing.assert_array_equal(frame["observed"].to_numpy(), df["observed"].to_numpy())
    assert (frame["counterfactual_low"] <= frame["counterfactual"]).all()
    assert (frame["counterfactual"] <= frame["counterfactual_high"]).all()
    pre = frame.loc[: "2008-11-10"]
    np.testing.assert_allclose(pre["counterfactual"], pre["fitted"], rtol=1e-12)  # events are off before
    assert frame.attrs.get("simulated") is True


def test_impact_default_window_is_the_post_period_and_matches_the_frame():
    result = _mccolo_fit("decay")
    imp = result.impact()
    assert IMPACT_KEYS <= set(imp)
    post = result.frame.loc["2008-11-11":]
    assert imp["start"] == "2008-11-11" and imp["end"] == post.index[-1].date().isoformat()
    assert imp["periods"] == len(post)
    relative = post["observed"].sum() / post["counterfactual"].sum() - 1
    assert imp["relative"] == pytest.approx(relative, rel=1e-10)
    assert imp["cumulative"] == pytest.approx(post["observed"].sum() - post["counterfactual"].sum(), rel=1e-10)
    assert imp["relative_low"] < imp["relative"] < imp["relative_high"]
    assert imp["cumulative_low"] < imp["cumulative"] < imp["cumulative_high"]


def test_impact_window_start_end_inclusive():
    result = _mccolo_fit("decay")
    imp = result.impact("2008-11-11", "2008-12-10")
    assert imp["periods"] == 30
    assert (imp["start"], imp["end"]) == ("2008-11-11", "2008-12-10")
    window = result.frame.loc["2008-11-11":"2008-12-10"]
    assert imp["relative"] == pytest.approx(window["observed"].sum() / window["counterfactual"].sum() - 1,
                                            rel=1e-10)
    assert imp["relative"] < result.impact()["relative"]  # the drop is deepest early and then recovers
    with pytest.raises(ModelSpecError, match="before start"):
        result.impact("2008-12-10", "2008-11-11")


def test_summary_has_no_run_date_or_time_and_is_reproducible():
    df = _sim("mccolo")
    texts = [fit(df["observed"], "2008-11-11", effect="decay", seasonality="dow", n_draws=N_DRAWS).summary()
             for _ in range(2)]
    assert texts[0] == texts[1]
    today = date.today()
    for stamp in (today.isoformat(), today.strftime("%d %b %Y"), today.strftime("%a, %d %b %Y")):
        assert stamp not in texts[0]
    assert not re.search(r"\b\d{1,2}:\d{2}:\d{2}\b", texts[0])
    assert not re.search(r"^\s*(Date|Time):", texts[0], re.MULTILINE)
    assert "SIMULATED" in texts[0]
    assert repr(_mccolo_fit("decay")) == _mccolo_fit("decay").summary()


def test_to_dict_is_strict_json():
    result = _mccolo_fit("decay")
    text = json.dumps(result.to_dict(), allow_nan=False, sort_keys=True)
    back = json.loads(text)
    assert back["model"]["family"] == "negbin" and back["model"]["errors"] == "ar1"
    assert [e["term"] for e in back["effects"]] == TERMS["decay"]
    assert back["data"]["simulated"] is True


def test_events_as_str_timestamp_and_event_give_the_same_fit():
    y = _sim("mccolo")["observed"]
    by_str = fit(y, "2008-11-11", n_draws=200)
    by_ts = fit(y, pd.Timestamp("2008-11-11"), n_draws=200)
    by_event = fit(y, events.get("mccolo"), n_draws=200)
    assert by_str.events == by_ts.events == ["2008-11-11"]
    assert by_event.events == ["mccolo"]
    assert list(by_event.effects["event"]) == ["mccolo"]
    for other in (by_ts, by_event):
        np.testing.assert_allclose(other.effects["estimate"], by_str.effects["estimate"], rtol=1e-12)


def test_two_events_with_one_effect_each():
    y = _sim("mccolo")["observed"]
    result = fit(y, [events.get("mccolo"), "2009-02-01"], effect=["decay", "step"], seasonality="dow",
                 n_draws=N_DRAWS)
    eff = result.effects
    assert list(zip(eff["event"], eff["term"], strict=True)) == [
        ("mccolo", "level"), ("mccolo", "decay_rate"), ("mccolo", "half_life"), ("2009-02-01", "level")]
    assert result.events == ["mccolo", "2009-02-01"]
    imp = result.impact()
    assert imp["start"] == "2008-11-11"
    assert imp["relative_low"] < imp["relative"] < imp["relative_high"]
    only_second = result.impact(events=["2009-02-01"])
    assert only_second["relative_low"] < only_second["relative_high"]


# ==================================================================== agreement with statsmodels on one design


@functools.cache
def _direct_design(seed: int = 3) -> tuple[pd.Series, pd.DataFrame]:
    """The design spamits builds for step + 'dow', written out by hand: const, trend, Tue..Sun, step."""
    df = _sim("rustock", seed)
    y = df["observed"]
    n = len(y)
    t = np.arange(n, dtype=float)
    X = pd.DataFrame({"const": 1.0, "trend": (t - t.mean()) / n}, index=y.index)
    for d in range(1, 7):
        X[f"dow{d}"] = (y.index.day_of_week == d).astype(float)
    X["step"] = (y.index >= pd.Timestamp(df.attrs["event_date"])).astype(float)
    return y, X


def _level(result: ITSResult) -> tuple[float, float]:
    row = _row(result, "level")
    se_from_ci = (row["ci_high"] - row["ci_low"]) / (2 * Z95)
    col = next(c for c in result.params.index if c.startswith("level("))
    se = math.sqrt(result.cov.loc[col, col])
    assert se_from_ci == pytest.approx(se, rel=1e-9)
    return float(row["estimate"]), se


def _spamits(family: str, errors: str) -> ITSResult:
    y, _ = _direct_design()
    return fit(y, "2011-03-16", family=family, effect="step", seasonality="dow", errors=errors, n_draws=200)


def test_poisson_iid_equals_statsmodels_glm():
    y, X = _direct_design()
    est, se = _level(_spamits("poisson", "iid"))
    ref = sm.GLM(y, X, family=sm.families.Poisson()).fit()
    assert est == pytest.approx(ref.params["step"], abs=1e-6)
    assert se == pytest.approx(ref.bse["step"], rel=1e-6)


def test_poisson_hac_equals_statsmodels_newey_west_with_small_sample_factor():
    y, X = _direct_design()
    n, p = X.shape
    lags = int(np.floor(4 * (n / 100) ** (2 / 9)))
    result = _spamits("poisson", "hac")
    assert result.to_dict()["model"]["covariance"]["lags"] == lags
    est, se = _level(result)
    ref = sm.GLM(y, X, family=sm.families.Poisson()).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
    assert est == pytest.approx(ref.params["step"], abs=1e-6)
    # spamits multiplies the HAC middle matrix by n/(n-p); statsmodels' GLM HAC does not
    assert se == pytest.approx(ref.bse["step"] * math.sqrt(n / (n - p)), rel=1e-6)


def test_quasipoisson_iid_equals_statsmodels_glm_with_pearson_scale():
    y, X = _direct_design()
    est, se = _level(_spamits("quasipoisson", "iid"))
    ref = sm.GLM(y, X, family=sm.families.Poisson()).fit(scale="X2")
    assert est == pytest.approx(ref.params["step"], abs=1e-6)
    assert se == pytest.approx(ref.bse["step"], rel=1e-6)


def test_gaussian_log_iid_equals_ols_on_log_counts():
    y, X = _direct_design()
    est, se = _level(_spamits("gaussian-log", "iid"))
    ref = sm.OLS(np.log(y), X).fit()
    assert est == pytest.approx(ref.params["step"], abs=1e-6)
    assert se == pytest.approx(ref.bse["step"], rel=1e-6)


def test_negbin_point_estimates_equal_statsmodels_glm_at_the_same_alpha():
    y, X = _direct_design()
    result = _spamits("negbin", "iid")
    nb_alpha = result.dispersion
    assert nb_alpha > 0  # the simulated counts are over-dispersed
    ref = sm.GLM(y, X, family=sm.families.NegativeBinomial(alpha=nb_alpha)).fit()
    np.testing.assert_allclose(result.params.to_numpy(), ref.params.to_numpy(), rtol=0, atol=1e-6)
    assert _level(result)[1] == pytest.approx(ref.bse["step"], rel=1e-6)


# ============================================================================= every family x every effect


@pytest.mark.parametrize("family", ["gaussian-log", "poisson", "quasipoisson", "negbin"])
@pytest.mark.parametrize("effect", list(TERMS))
def test_every_family_and_effect_fits_mccolo_without_warnings(family, effect):
    df = _sim("mccolo", 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = fit(df["observed"], "2008-11-11", family=family, effect=effect, seasonality="dow",
                     n_draws=500)
        imp = result.impact()
        result.to_dict()
    own = result.effects[result.effects["event"].isin(result.events)]  # a modelled pre-period break has its own
    assert list(own["term"]) == TERMS[effect]
    assert np.isfinite(own[["estimate", "ci_low", "ci_high"]].to_numpy()).all()
    assert np.isfinite([imp[k] for k in IMPACT_KEYS]).all()
    assert imp["relative_low"] < imp["relative_high"]
    if "level" in TERMS[effect]:  # a slope alone is misspecified for a sudden drop: its sign is not checked
        assert imp["relative"] < 0


# ====================================================================== estimators on series of known truth

# One fit takes about 0.03 s (0.06 s with a decay), so the batches can be large enough that a coverage of
# about 0.93 does not fall under a 0.90 threshold by chance (binomial sd 0.017 at 200 seeds, 0.025 at 100).
N_SEEDS = 100
N_SEEDS_STEP = 200  # the shape with the issue's hard requirement


def _ramp(seed: int, level: float, slope: float) -> pd.DataFrame:
    """A 'no-effect' series thinned by exp(level + slope*k) from the event day on (k = days since the event).

    The simulator has no ramp shape, so the observed counts are drawn here the way it draws them (binomial
    thinning of the simulated counterfactual); the truth of each series is still ``true_relative_effect``.
    """
    df = _sim("no-effect", seed).copy()
    n_pre = df.attrs["settings"]["n_pre"]
    k = np.arange(len(df)) - n_pre
    log_effect = np.where(k >= 0, level + slope * np.clip(k, 0, None), 0.0)
    rng = np.random.default_rng(10_000 + seed)
    df["observed"] = rng.binomial(df["counterfactual"].to_numpy().astype(np.int64), np.exp(log_effect))
    df["observed"] = df["observed"].astype(float)
    df.attrs["scenario"] = "ramp (tests)"
    df.attrs["truth"] = {"shape": "ramp", "level": level, "slope": slope}
    return df


@dataclass(frozen=True)
class Study:
    """Per-seed estimates of one effect shape: 30-day relative effect with its interval and the truth."""

    rel: np.ndarray
    rel_low: np.ndarray
    rel_high: np.ndarray
    truth: np.ndarray
    terms: dict  # term -> (estimates, ci_low, ci_high), each (n_seeds,)

    @property
    def bias(self) -> float:
        return float(np.mean(self.rel - self.truth))

    @property
    def coverage(self) -> float:
        return float(np.mean((self.rel_low <= self.truth) & (self.truth <= self.rel_high)))

    def term_bias(self, term: str, truth: float) -> float:
        return float(np.mean(self.terms[term][0]) - truth)

    def term_coverage(self, term: str, truth: float) -> float:
        _, lo, hi = self.terms[term]
        return float(np.mean((lo <= truth) & (truth <= hi)))

    def report(self, name: str) -> str:
        return (f"{name}: {len(self.rel)} seeds, 30-day relative effect bias {self.bias:+.4f}, 95% interval coverage "
                f"{self.coverage:.3f}, mean width {np.mean(self.rel_high - self.rel_low):.3f}")


def _run_study(make, effect: str, n_seeds: int = N_SEEDS) -> Study:
    rel, lo, hi, truth = [], [], [], []
    terms: dict[str, list] = {}
    for seed in range(n_seeds):
        df = make(seed)
        n_pre = df.attrs["settings"]["n_pre"]
        result = fit(df["observed"], df.index[n_pre], effect=effect, seasonality="dow", n_draws=N_DRAWS)
        imp = result.impact(df.index[n_pre], df.index[n_pre + 29])
        rel.append(imp["relative"])
        lo.append(imp["relative_low"])
        hi.append(imp["relative_high"])
        truth.append(true_relative_effect(df, 0, 30))
        for row in result.effects[result.effects["event"].isin(result.events)].itertuples():  # not a nuisance break
            terms.setdefault(row.term, []).append((row.estimate, row.ci_low, row.ci_high))
    arrays = {t: tuple(np.array(v).T) for t, v in terms.items()}
    return Study(*(np.array(v) for v in (rel, lo, hi, truth)), terms=arrays)


def _emit(record_property, name: str, study: Study, extra: str = "") -> None:
    line = study.report(name) + extra
    print(line)  # shown by pytest -rA (or on failure)
    record_property(f"{name}_coverage", study.coverage)
    record_property(f"{name}_bias", study.bias)


@pytest.mark.slow
def test_study_step_lasting_drop(record_property):
    """Scenario 'rustock' (a lasting 33.6% drop) fitted with effect='step': the model is correctly specified.

    The issue requires 95% intervals of the 30-day relative effect to cover the truth in >= 90% of series.
    """
    study = _run_study(lambda s: _sim("rustock", s), "step", N_SEEDS_STEP)
    truth_level = _sim("rustock", 0).attrs["truth"]["level"]
    _emit(record_property, "step", study, f"; level bias {study.term_bias('level', truth_level):+.4f}, "
          f"level coverage {study.term_coverage('level', truth_level):.3f}")
    assert study.coverage >= 0.90
    assert abs(study.bias) < 0.02
    assert abs(study.term_bias("level", truth_level)) < 0.03
    assert study.term_coverage("level", truth_level) >= 0.85


@pytest.mark.slow
def test_study_decay_mccolo(record_property):
    """Scenario 'mccolo' (65% drop, half-life 14 days) fitted with effect='decay'.

    The intervals carry the decay rate's uncertainty (its logit enters the simulation draws).  The issue asks
    only that the coverage be measured and printed; we also hold it at >= 85% and the median half-life within
    20% of the true 14 days.
    """
    study = _run_study(lambda s: _sim("mccolo", s), "decay")
    truth = _sim("mccolo", 0).attrs["truth"]
    half_lives = study.terms["half_life"][0]
    median_hl = float(np.median(half_lives))
    hl_cov = study.term_coverage("half_life", truth["half_life"])
    _emit(record_property, "decay", study, f"; level bias {study.term_bias('level', truth['level']):+.4f}, "
          f"median half-life {median_hl:.2f} days (truth {truth['half_life']}), half-life coverage {hl_cov:.3f}")
    record_property("decay_median_half_life", median_hl)
    assert study.coverage >= 0.85
    assert abs(study.bias) < 0.02
    assert abs(median_hl - truth["half_life"]) <= 0.2 * truth["half_life"]
    assert abs(study.term_bias("level", truth["level"])) < 0.05
    assert hl_cov >= 0.8


RAMP_SLOPE = math.log(0.5) / 180  # log-change per day: half the spam gone after 180 days
STEP_SLOPE = (math.log(0.7), math.log(0.8) / 180)  # a 30% drop, then a further 20% over 180 days


@pytest.mark.slow
def test_study_slope_ramp(record_property):
    """effect='slope' on a simulated ramp (no jump, log-rate falling linearly after the event).

    The simulator's shapes are jumps, against which a slope-only model is misspecified and its coverage says
    nothing about the estimator; so the series here are 'no-effect' series thinned by a known log-linear ramp
    (see ``_ramp``), the model is correct, and both the 30-day relative effect and the slope are checked.
    """
    study = _run_study(lambda s: _ramp(s, 0.0, RAMP_SLOPE), "slope")
    slope_bias = study.term_bias("slope", RAMP_SLOPE)
    _emit(record_property, "slope", study, f"; slope bias {slope_bias:+.2e} (truth {RAMP_SLOPE:.2e}/day), "
          f"slope coverage {study.term_coverage('slope', RAMP_SLOPE):.3f}")
    assert study.coverage >= 0.85
    assert abs(study.bias) < 0.02
    assert abs(slope_bias) < 0.15 * abs(RAMP_SLOPE)
    assert study.term_coverage("slope", RAMP_SLOPE) >= 0.85


@pytest.mark.slow
def test_study_step_plus_slope(record_property):
    """effect='step+slope' on a simulated jump followed by a ramp (again a correctly specified model)."""
    level, slope = STEP_SLOPE
    study = _run_study(lambda s: _ramp(s, level, slope), "step+slope")
    _emit(record_property, "step+slope", study, f"; level bias {study.term_bias('level', level):+.4f}, "
          f"level coverage {study.term_coverage('level', level):.3f}")
    assert study.coverage >= 0.85
    assert abs(study.bias) < 0.02
    assert abs(study.term_bias("level", level)) < 0.03
    assert study.term_coverage("level", level) >= 0.85


@pytest.mark.slow
def test_study_null_no_effect(record_property):
    """Scenario 'no-effect': the level interval should cover 0 in most series (a false-positive check)."""
    study = _run_study(lambda s: _sim("no-effect", s), "step")
    cover0 = study.term_coverage("level", 0.0)
    _emit(record_property, "null", study, f"; level interval covers 0 in {cover0:.3f}")
    assert cover0 >= 0.85
    assert study.coverage >= 0.85
    assert np.all(study.truth == 0.0)


# ============================================================================================ bad arguments


def _daily() -> pd.Series:
    return _sim("rustock")["observed"]


def _monthly() -> pd.Series:
    y = _daily().resample("MS").sum()
    return y.iloc[1:-1]


BAD_ARGUMENTS = [
    ("unknown family", lambda: fit(_daily(), "2011-03-16", family="binomial"), r"family='binomial'"),
    ("unknown effect", lambda: fit(_daily(), "2011-03-16", effect="pulse"), r"effect='pulse'"),
    ("unknown errors", lambda: fit(_daily(), "2011-03-16", errors="ols"), r"errors='ols'"),
    ("unknown seasonality", lambda: fit(_daily(), "2011-03-16", seasonality="month"), r"seasonality='month'"),
    ("too many Fourier pairs", lambda: fit(_daily(), "2011-03-16", seasonality=9), r"seasonality=9"),
    ("dow on monthly data", lambda: fit(_monthly(), "2011-03-16", seasonality="dow"), r"seasonality='dow'"),
    ("too-short pre-period", lambda: fit(_daily(), _daily().index[5]), r"pre-period"),
    ("event after the series", lambda: fit(_daily(), "2015-01-01"), r"events: 2015-01-01 is outside"),
    ("event before the series", lambda: fit(_daily(), "2001-01-01"), r"events: 2001-01-01 is outside"),
    ("not a date", lambda: fit(_daily(), "next tuesday"), r"events"),
    ("gaussian-log with zeros", lambda: fit(_daily().where(_daily().index.day != 1, 0.0), "2011-03-16",
                                            family="gaussian-log"), r"gaussian-log"),
    ("DataFrame as y", lambda: fit(_sim("rustock"), "2011-03-16"), r"y: got a DataFrame"),
    ("effect list length", lambda: fit(_daily(), ["2011-03-16", "2011-05-01"], effect=["step"]), r"effect:"),
    ("offset with zeros", lambda: fit(_daily(), "2011-03-16", offset=pd.Series(0.0, index=_daily().index)),
     r"offset"),
    ("offset wrong length", lambda: fit(_daily(), "2011-03-16", offset=np.ones(3)), r"offset"),
    ("alpha out of range", lambda: fit(_daily(), "2011-03-16", alpha=1.5), r"alpha=1.5"),
]


@pytest.mark.parametrize(("call", "pattern"), [b[1:] for b in BAD_ARGUMENTS], ids=[b[0] for b in BAD_ARGUMENTS])
def test_bad_arguments_raise_model_spec_error_naming_the_argument(call, pattern):
    with pytest.raises(ModelSpecError, match=pattern):
        call()


def test_model_spec_error_is_a_value_error():
    with pytest.raises(ValueError):
        fit(_daily(), "2011-03-16", family="binomial")


# ============================================================================== gaps, weekly, monthly, offset


def test_missing_days_are_left_out_not_filled():
    df = _sim("rustock", 2)
    y = df["observed"].copy()
    gaps = [100, 101, 102, 370, 380]  # three pre-period days, two post-period days (event at 365)
    y.iloc[gaps] = np.nan
    result = fit(y, "2011-03-16", seasonality="dow", n_draws=N_DRAWS)
    frame = result.frame
    assert frame.index.equals(y.index)
    assert frame["observed"].iloc[gaps].isna().all()
    assert np.isfinite(frame[["fitted", "counterfactual", "counterfactual_low"]].iloc[gaps]).all().all()
    assert result.n_pre == 365 - 3 and result.n_post == len(y) - 365 - 2
    imp = result.impact()
    post = frame.loc["2011-03-16":].dropna(subset=["observed"])
    assert imp["periods"] == len(post) == result.n_post
    assert imp["relative"] == pytest.approx(post["observed"].sum() / post["counterfactual"].sum() - 1, rel=1e-10)
    assert np.isfinite([imp[k] for k in IMPACT_KEYS]).all()
    window = result.impact("2011-03-20", "2011-03-31")  # 12 days; days 370 (03-21) and 380 (03-31) missing
    assert window["periods"] == 10


def _weekly(seed: int = 2) -> tuple[pd.DataFrame, pd.Series]:
    # the event on a Monday, so that the week containing it (W-SUN: Monday to Sunday) is wholly post-event
    df = _sim("rustock", seed, n_pre=1200, n_post=400, event_date="2011-03-14")
    y = df["observed"].resample("W-SUN").sum().iloc[1:-1]  # drop the partial first and last weeks
    return df, y


def test_weekly_series_with_fourier_seasonality():
    df, y = _weekly()
    assert y.index.freqstr == "W-SUN"
    result = fit(y, "2011-03-14", seasonality=2, n_draws=N_DRAWS)
    assert result.unit == "weeks"
    assert result.frame.index.equals(y.index)
    assert result.to_dict()["model"]["seasonality"] == 2
    level = _row(result, "level")
    assert level["ci_low"] < df.attrs["truth"]["level"] < level["ci_high"]
    imp = result.impact()
    assert imp["relative_low"] < imp["relative"] < imp["relative_high"] < 0


def test_monthly_series_with_fourier_seasonality():
    df = _sim("rustock", 2, n_pre=1200, n_post=400, event_date="2011-03-01")
    y = df["observed"].resample("MS").sum().iloc[1:-1]
    assert y.index.freqstr == "MS"
    result = fit(y, "2011-03-01", seasonality=2, n_draws=N_DRAWS)
    assert result.unit == "months"
    assert result.n_pre >= 36
    level = _row(result, "level")
    assert level["ci_low"] < df.attrs["truth"]["level"] < level["ci_high"]
    assert result.impact()["relative"] < 0


def test_short_weekly_pre_period_warns():
    y = _sim("rustock", 2, event_date="2011-03-14")["observed"].resample("W-SUN").sum().iloc[1:-1]
    with pytest.warns(ModelFitWarning, match="three seasonal cycles"):
        fit(y, "2011-03-14", seasonality=2, n_draws=200)
    with pytest.raises(ModelSpecError, match="seasonality='dow'"):
        fit(y, "2011-03-14", seasonality="dow")


def test_offset_of_ones_changes_nothing_and_a_constant_offset_only_the_intercept():
    y = _daily()
    plain = fit(y, "2011-03-16", family="poisson", seasonality="dow", n_draws=200)
    ones = fit(y, "2011-03-16", family="poisson", seasonality="dow", offset=pd.Series(1.0, index=y.index),
               n_draws=200)
    scaled = fit(y, "2011-03-16", family="poisson", seasonality="dow", offset=np.full(len(y), 1000.0),
                 n_draws=200)
    np.testing.assert_allclose(ones.effects["estimate"], plain.effects["estimate"], rtol=1e-10)
    np.testing.assert_allclose(scaled.effects["estimate"], plain.effects["estimate"], rtol=1e-7)
    assert scaled.params["const"] == pytest.approx(plain.params["const"] - math.log(1000.0), abs=1e-7)


# ==================================================================== comparing specifications


def test_compare_and_verdict_pick_the_simulated_decay_shape_within_each_error_model():
    from spamits.its import compare, fit_specs, verdict

    y = _sim("mccolo", 1)["observed"]
    fits = fit_specs(y, ["2008-11-11"], effects={"step": "step", "decay": "decay"}, errors=["ar1", "ar1-sandwich"],
                     seasonality="dow", n_draws=200)
    assert list(fits) == ["step / ar1", "step / ar1-sandwich", "decay / ar1", "decay / ar1-sandwich"]
    assert [(k.effect_name, k.errors) for k in fits] == [("step", "ar1"), ("step", "ar1-sandwich"),
                                                         ("decay", "ar1"), ("decay", "ar1-sandwich")]
    table = compare(fits)
    assert table.columns.name == "SIMULATED"
    for errors, group in table.groupby("errors"):
        assert group["delta_aic"].min() == 0.0, errors
        best = group.loc[group["aic"].idxmin()]
        assert best["model"].startswith("decay"), errors  # the series was simulated with a fading drop
        assert group.set_index("model").loc[f"step / {errors}", "delta_aic"] > 10, errors
    # independence estimates are shared by ar1-sandwich, hac and iid; ar1 (GLS) re-estimates them
    assert fits["decay / ar1-sandwich"].params.equals(fit(y, "2008-11-11", effect="decay", seasonality="dow",
                                                          errors="hac", n_draws=200).params)
    assert not np.allclose(fits["decay / ar1"].params, fits["decay / ar1-sandwich"].params)
    text = verdict(table)
    assert "the data support 'decay'" in text and "'step' has AIC" in text
    renamed = verdict(compare({"a / b": fits["step / ar1"], "c / d": fits["decay / ar1"]}))
    assert "the data support 'c / d'" in renamed  # a plain name is not split on ' / '


# --- a rise (surge, a pause's return): the engine is sign-agnostic ------------------------------------------


def _surge(seed: int = 4) -> pd.Series:
    """Poisson counts around 200 a day with a burst on 2024-04-24: 4 times the baseline, half-life 2 days."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2024-02-01", "2024-06-30", freq="D", name="date")
    k = np.arange(len(index)) - index.get_loc(pd.Timestamp("2024-04-24"))
    effect = np.where(k >= 0, math.log(4.0) * 0.5 ** (np.clip(k, 0, None) / 2.0), 0.0)
    return pd.Series(rng.poisson(200 * np.exp(effect)).astype(float), index=index, name="count")


def test_a_decaying_rise_is_estimated_with_a_positive_level_and_its_half_life():
    result = fit(_surge(), "2024-04-24", family="negbin", effect="decay", errors="ar1")
    level, half = _row(result, "level"), _row(result, "half_life")
    assert level["ratio_low"] < 4.0 < level["ratio_high"] and level["ratio_low"] > 2.5
    assert half["ci_low"] < 2.0 < half["ci_high"] < 6
    assert result.impact()["relative"] > 0 and not result.decay_at_bound


def test_recovery_time_of_a_rise_counts_until_the_excess_is_gone():
    result = fit(_surge(), "2024-04-24", family="negbin", effect="decay", errors="ar1")
    back = result.recovery_time(0.9)  # within 10% on the log scale: ln(4)·0.5^(k/2) <= -ln(0.9): k >= 7.4, day 8
    assert back["within_window"] and 7 <= back["estimate"] <= 9 and back["low"] <= back["estimate"] <= back["high"]
    drop = _mccolo_fit().recovery_time(0.9)  # a drop still counts upwards (as before)
    assert drop["estimate"] is None or drop["estimate"] > 0

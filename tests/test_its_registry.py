"""Tests of the family and error-model registries (spamits.its.families, errormodels): behaviour is dispatched to
the registered objects, the NB log-likelihood and Pearson residuals are one formula, and renamed fields."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from spamits.errors import ModelSpecError
from spamits.its import ERROR_MODELS, FAMILY_MODELS, ITSResult, families, fit

Y = np.array([0.0, 1, 3, 7, 12, 2])
MU = np.array([0.5, 1.2, 2.5, 6.0, 10.0, 3.0])


def test_family_attributes_replace_name_tests():
    negbin, quasi = FAMILY_MODELS.get("negbin"), FAMILY_MODELS.get("quasipoisson")
    assert negbin.has_dispersion and negbin.nb(0.3) == 0.3 and quasi.nb(0.3) == 0.0
    assert quasi.pearson_scale and quasi.reports_scale and not negbin.reports_scale
    assert FAMILY_MODELS.get("gaussian-logit").link == "logit" and FAMILY_MODELS.get("gaussian-log").gaussian
    assert [FAMILY_MODELS.get(f).n_extra_params for f in FAMILY_MODELS] == [1, 1, 0, 0, 1]
    np.testing.assert_allclose(FAMILY_MODELS.get("gaussian-logit").transform(np.array([0.5, 0.25])),
                               [0.0, np.log(1 / 3)])
    np.testing.assert_allclose(FAMILY_MODELS.get("gaussian-logit").inverse_link(np.array([0.0])), [0.5])
    with pytest.raises(ModelSpecError, match="family='nb': must be one of"):
        FAMILY_MODELS.get("nb")


def test_error_models_name_their_covariance_type():
    assert {name: m.cov_type for name, m in ERROR_MODELS.items()} == {
        "ar1": "ar1", "ar1-sandwich": "ar1", "hac": "hac", "iid": "iid"}
    assert ERROR_MODELS.get("ar1").gls and ERROR_MODELS.get("ar1").batched == "ar1-sandwich"
    with pytest.raises(ModelSpecError, match="errors='ar2'"):
        ERROR_MODELS.get("ar2")


def test_nb_loglik_and_pearson_are_the_textbook_formulas():
    a = 0.4
    ref = stats.nbinom.logpmf(Y, 1 / a, 1 / (1 + a * MU)).sum()
    assert families.nb_loglik(Y, MU, a) == pytest.approx(ref, rel=1e-12)
    assert families.poisson_loglik(Y, MU) == pytest.approx(stats.poisson.logpmf(Y, MU).sum(), rel=1e-12)
    expected = (Y - MU) / np.sqrt(MU + a * MU**2)
    np.testing.assert_allclose(families.pearson(Y, MU, a), expected, rtol=1e-14)
    w, r, _ = FAMILY_MODELS.get("negbin").weights(Y, np.log(MU), a)
    np.testing.assert_allclose(r, expected, rtol=1e-14)
    np.testing.assert_allclose(w, MU / (1 + a * MU), rtol=1e-14)


def test_result_is_frozen_with_plain_fields():
    rng = np.random.default_rng(3)
    idx = pd.date_range("2020-01-01", periods=120, freq="D")
    mu = 200 * np.where(np.arange(120) >= 80, 0.5, 1.0)
    y = pd.Series(rng.negative_binomial(20, 20 / (20 + mu)).astype(float), index=idx)
    res = fit(y, "2020-03-21", errors="iid", n_draws=200)
    assert isinstance(res, ITSResult) and dataclasses.is_dataclass(res)
    assert not hasattr(res, "_p")
    assert res.freq == "D" and res.dispersion > 0 and res.simulated is False
    assert res.observed_mask.all() and list(res.event_columns) == ["2020-03-21"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.family = "poisson"
    assert "NB dispersion " in res.summary() and "NB dispersion alpha" not in res.summary()
    out = res.to_dict()
    assert out["model"]["dispersion"] == pytest.approx(res.dispersion, rel=1e-7)
    assert "nb_alpha" not in out["diagnostics"] and "nb_alpha" not in res.diagnostics()
    table = res.impact_table(horizons=(7, 30))
    assert table["horizon"].tolist() == [7, 30, pd.NA]
    assert "horizon" not in out["impact_table"][0]  # results.json keeps its keys

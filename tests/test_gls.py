"""Tests of the feasible GLS behind ``errors="ar1"`` (spamits.its._gls): the whitening filter, agreement of the
Gaussian fit with statsmodels' GLS for the same covariance, the count fit's estimating equations, and what it
buys on simulated series (the residuals it leaves are white; it is at least as precise as the independence fit).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import signal

from spamits._simulate import simulate, true_relative_effect
from spamits.its import _gls as gls
from spamits.its import fit


def _ar_plus_noise(n: int, phi: float, ar_var: float, white_var: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    innov = rng.normal(0, np.sqrt(ar_var * (1 - phi**2)), n)
    innov[0] = rng.normal(0, np.sqrt(ar_var))
    return signal.lfilter([1.0], [1.0, -phi], innov) + rng.normal(0, np.sqrt(white_var), n)


@pytest.mark.parametrize(("phi", "ar_var", "white_var"), [(0.8, 1.0, 0.5), (0.4, 0.3, 1.0), (0.95, 2.0, 0.1)])
def test_whitener_turns_ar_plus_white_noise_into_white_noise_of_unit_variance(phi, ar_var, white_var):
    x = _ar_plus_noise(200_000, phi, ar_var, white_var, seed=1)
    w = gls.Whitener.from_process(ar_var + white_var, ar_var, phi)
    e = w.apply(x)
    assert e.var() == pytest.approx(1.0, abs=0.01)
    for lag in (1, 2, 5):
        assert abs(np.corrcoef(e[:-lag], e[lag:])[0, 1]) < 0.01, lag
    assert abs(np.corrcoef(x[:-1], x[1:])[0, 1]) > 0.05  # the input was not white


def test_whitener_without_autocorrelation_only_scales():
    w = gls.Whitener.from_process(4.0, 0.0, 0.0)
    x = np.arange(5.0)
    np.testing.assert_allclose(w.apply(x), x / 2.0)


def test_whitener_is_linear_and_acts_on_columns_alike():
    w = gls.Whitener.from_process(1.5, 1.0, 0.7)
    rng = np.random.default_rng(0)
    M = rng.normal(size=(50, 3))
    out = w.apply(M)
    for j in range(3):
        np.testing.assert_allclose(out[:, j], w.apply(M[:, j]))
    np.testing.assert_allclose(w.apply(2 * M[:, 0] - M[:, 1]), 2 * out[:, 0] - out[:, 1], atol=1e-12)


@functools.cache
def _series(seed: int = 2, phi: float = 0.8):
    frame = simulate("no-effect", seed=seed, phi=phi, drop=0.5, shape="lasting")
    return frame


def test_gaussian_log_ar1_equals_statsmodels_gls_with_the_whitener_covariance():
    """Prais-Winsten with an ARMA(1,1) filter is GLS with the covariance (LᵀL)⁻¹ of the whitening matrix L."""
    y = _series()["observed"]
    res = fit(y, "2008-11-11", family="gaussian-log", seasonality="dow", errors="ar1", n_draws=200)
    p = res
    X = p.design_matrix.to_numpy()
    L = p.whitener.apply(np.eye(len(y)))
    ref = sm.GLS(np.log(y.to_numpy()), X, sigma=np.linalg.inv(L.T @ L)).fit()
    np.testing.assert_allclose(res.params.to_numpy(), ref.params, rtol=1e-7, atol=1e-9)
    assert p.whitener.phi > 0.5  # the first-stage residual process saw the AR(0.8) noise


def test_negbin_ar1_solves_the_whitened_estimating_equations():
    y = _series()["observed"]
    res = fit(y, "2008-11-11", seasonality="dow", errors="ar1", n_draws=200)
    p = res
    X, yv = p.design_matrix.to_numpy(), y.to_numpy()
    mu = np.exp(X @ res.params.to_numpy())
    sd = np.sqrt(mu * (1 + p.dispersion * mu))
    Z = p.whitener.apply((mu / sd)[:, None] * X)
    score = Z.T @ p.whitener.apply((yv - mu) / sd)
    assert np.abs(score).max() < 1e-6 * np.abs(Z.T @ Z).max()
    assert p.cov_info["errors"] == "ar1" and abs(p.cov_info["whitened_phi"]) < 0.2


def test_ar1_is_at_least_as_precise_as_the_independence_fit_under_strong_autocorrelation():
    """30 SIMULATED series with AR(0.8) noise and a lasting 50% drop: the GLS level estimates scatter less."""
    errs = {"ar1": [], "ar1-sandwich": []}
    for seed in range(30):
        frame = simulate("no-effect", seed=seed, phi=0.8, drop=0.5, shape="lasting")
        for errors in errs:
            res = fit(frame["observed"], "2008-11-11", seasonality="dow", errors=errors, n_draws=200)
            errs[errors].append(res.params.filter(like="level(").iloc[0] - np.log(0.5))
    rmse = {k: float(np.sqrt(np.mean(np.square(v)))) for k, v in errs.items()}
    assert rmse["ar1"] < rmse["ar1-sandwich"], rmse


def test_ar1_decay_interval_covers_on_overlapping_events():
    """The overlapping pair of the simulation study at AR(0.8): both contributions inside their intervals in
    most of 20 SIMULATED series (the 200-seed study in the README gives 91-92%)."""
    covered = []
    for seed in range(20):
        frame = simulate("no-effect", seed=seed, phi=0.8, drop=0.5, shape="decay", half_life=14.0,
                         others=({"event_id": "second", "event_date": "2008-11-21", "drop": 0.3,
                                  "shape": "lasting"},))
        res = fit(frame["observed"], ["2008-11-11", "2008-11-21"], effect=["decay", "step"], seasonality="dow",
                  n_draws=500)
        for i, (label, sim_id) in enumerate(zip(res.events, ["mccolo", "second"], strict=True)):
            start = frame.index[365 + 10 * i]
            imp = res.impact(start, start + np.timedelta64(29, "D"), events=[label])
            truth = true_relative_effect(frame, 10 * i, 30, events=[sim_id])
            covered.append(imp["relative_low"] <= truth <= imp["relative_high"])
    assert np.mean(covered) >= 0.8, np.mean(covered)


def test_negbin_ar1_decay_rate_solves_its_estimating_equation_too():
    """The decay rate is estimated with the other coefficients: the whitened score of its linearised column
    (logit δ) is zero at the estimate, to within a small fraction of a standard error."""
    for seed in range(3):
        frame = simulate("no-effect", seed=seed, phi=0.8, drop=0.5, shape="decay", half_life=14.0)
        res = fit(frame["observed"], "2008-11-11", effect="decay", seasonality="dow", n_draws=200)
        p = res
        X, yv = p.design_matrix.to_numpy(), frame["observed"].to_numpy()
        mu = np.exp(X @ res.params.to_numpy())
        sd = np.sqrt(mu * (1 + p.dispersion * mu))
        Z = p.whitener.apply((mu / sd)[:, None] * X)
        score = Z.T @ p.whitener.apply((yv - mu) / sd)
        in_se = score / np.sqrt(np.diag(Z.T @ Z))
        assert list(p.design_matrix.columns)[-1].startswith("logit_decay(")
        assert np.abs(in_se).max() < 0.01, (seed, in_se)

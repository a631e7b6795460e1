"""Issue 13, phase 3: the counterfactual conditional on the end of the pre-period (``its._conditional``).

Mechanics and small SIMULATED checks; coverage is measured by ``benchmarks/stress_study.py``
(docs/simulation_study.md).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

from spamits.data.stress import HORIZON_DAYS, simulate_stress
from spamits.errors import ModelSpecError
from spamits.its import _conditional as cond
from spamits.its import fit
from spamits.its._covariance import ResidualProcess


def _level_ar_white(n: int, q: float, phi: float, ar_sd: float, white_sd: float, seed: int) -> np.ndarray:
    """SIMULATED local level + AR(1) + white noise (n,)."""
    rng = np.random.default_rng(seed)
    level = np.cumsum(rng.normal(0.0, np.sqrt(q), n)) if q > 0 else np.zeros(n)
    ar = np.zeros(n)
    ar[0] = rng.normal(0.0, ar_sd)
    for t in range(1, n):
        ar[t] = phi * ar[t - 1] + rng.normal(0.0, ar_sd * np.sqrt(1 - phi**2))
    return level + ar + rng.normal(0.0, white_sd, n)


def _plain_filter(r: np.ndarray, pos: np.ndarray, proc: cond.LevelProcess) -> tuple[np.ndarray, np.ndarray]:
    """The Kalman filter written out with numpy matrices (state: level, AR): filtered mean and covariance."""
    a, P = np.zeros(2), np.diag([proc.q * (pos[-1] - pos[0] + 1), proc.ar_var])
    z = np.ones(2)
    for t in range(len(pos)):
        if t:
            g = pos[t] - pos[t - 1]
            T = np.diag([1.0, proc.phi**g])
            a, P = T @ a, T @ P @ T + np.diag([g * proc.q, proc.ar_var * (1 - proc.phi ** (2 * g))])
        k = P @ z / (z @ P @ z + proc.white_var)
        a, P = a + k * (r[t] - z @ a), P - np.outer(k, z @ P)
    return a, P


def test_kalman_weights_reproduce_the_filter_across_gaps():
    pos = np.delete(np.arange(300), [40, 41, 42, 150, 299 - 5])
    r = _level_ar_white(300, 0.0009, 0.5, 0.1, 0.1, seed=3)[pos]
    proc = cond.LevelProcess(q=0.0008, ar_var=0.012, phi=0.55, white_var=0.01)
    C, P = cond.kalman(pos, proc)
    mean, cov = _plain_filter(r, pos, proc)
    np.testing.assert_allclose(C.T @ r, mean, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(P, cov, rtol=1e-10, atol=1e-14)
    assert C[:, 0].sum() == pytest.approx(1.0, abs=1e-6)  # the level absorbs a constant


def test_semivariogram_counts_only_pairs_exactly_k_apart():
    pos = np.array([0, 1, 2, 4, 5, 9])
    r = np.array([1.0, 2.0, 0.0, 3.0, 1.0, 2.0])
    v, count = cond.semivariogram(r, pos, np.arange(1, 5))
    pairs = {k: [(i, j) for i in range(6) for j in range(6) if pos[j] - pos[i] == k] for k in range(1, 5)}
    for k in range(1, 5):
        assert count[k - 1] == len(pairs[k])
        if pairs[k]:
            assert v[k - 1] == pytest.approx(np.mean([(r[j] - r[i]) ** 2 for i, j in pairs[k]]) / 2)


def test_the_level_is_found_when_it_wanders_and_not_in_ar_noise():
    pos = np.arange(365)
    walk = cond.fit_level_process(_level_ar_white(365, 0.03**2, 0.4, 0.15, 0.05, seed=1), pos)
    assert 0.0003 < walk.q < 0.003
    flat = [cond.fit_level_process(_level_ar_white(365, 0.0, 0.4, 0.15, 0.05, seed=s), pos).q for s in range(10)]
    assert sum(q > 0 for q in flat) <= 2


def test_block_means_end_at_the_last_period():
    pos = np.array([0, 1, 2, 3, 5, 6, 7, 9, 10, 11])
    r = np.arange(10.0)
    means, at = cond.block_means(r, pos, 4)
    np.testing.assert_allclose(means, [1.5, 5.0, 8.0])  # periods 0-3, 4-7 (4 missing) and 8-11 (8 missing)
    np.testing.assert_array_equal(at, [0, 1, 2])


def test_far_from_the_event_the_forecast_is_the_stationary_process():
    proc = cond.LevelProcess(q=0.0, ar_var=0.02, phi=0.6, white_var=0.01)
    state = cond.EndState(proc, 99, np.array([0.0, 0.3]), np.diag([0.0, 0.005]), np.zeros((2, 3)))
    f, var = cond.forecast(state, np.array([100, 101, 400]))
    np.testing.assert_allclose(f, [0.6, 0.36, 0.6**301])
    assert var[0] == pytest.approx(0.36 * 0.005 + 0.02 * (1 - 0.36) + 0.01)
    assert var[-1] == pytest.approx(0.03)
    walk = dataclasses.replace(state, process=dataclasses.replace(proc, q=0.001))
    assert cond.forecast(walk, np.array([400]))[1][0] == pytest.approx(0.03 + 301 * 0.001)


def test_the_noise_paths_have_the_forecast_variance_and_share_the_stationary_draws():
    rows = np.arange(100, 130)
    state = cond.EndState(cond.LevelProcess(0.001, 0.03, 0.6, 0.02), 97, np.zeros(2),
                          np.array([[0.004, -0.001], [-0.001, 0.01]]), np.zeros((2, 3)))
    noise = cond.conditional_noise(state, rows, 100_000, seed=1)
    np.testing.assert_allclose(noise.var(axis=0), cond.forecast(state, rows)[1], rtol=0.03)
    np.testing.assert_allclose(noise.mean(axis=0), 0.0, atol=0.01)
    # an uninformative state without a level: exactly the stationary draws (common random numbers)
    flat = cond.EndState(cond.LevelProcess(0.0, 0.03, 0.6, 0.02), 99, np.zeros(2), np.diag([0.0, 0.03]),
                         np.zeros((2, 3)))
    np.testing.assert_allclose(cond.conditional_noise(flat, rows, 50, seed=3),
                               cond.stationary_noise(ResidualProcess(0.05, 0.03, 0.6), rows, 50, seed=3), atol=1e-12)


def _fit(seed: int, counterfactual: str = "conditional"):
    frame = simulate_stress("wandering", seed=seed)
    y, pos = frame["observed"], int(frame.attrs["settings"]["n_pre"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a normal fit leaks no warning
        return fit(y, y.index[pos], effect="decay", seasonality="dow", n_draws=400,
                   counterfactual=counterfactual), frame, pos


def test_on_a_random_walk_the_counterfactual_starts_at_the_drifted_level():
    """SIMULATED: wandering seed 5 ends its pre-period ~30% below the fitted trend."""
    res, frame, pos = _fit(seed=5)
    assert res.counterfactual == "conditional" and res.to_dict()["model"]["counterfactual"] == "conditional"
    stationary = dataclasses.replace(res, counterfactual="stationary")
    week = slice(pos, pos + 7)
    truth = np.log(frame["counterfactual"].iloc[week].sum())
    conditional_error = truth - np.log(res.frame["counterfactual"].iloc[week].sum())
    stationary_error = truth - np.log(stationary.frame["counterfactual"].iloc[week].sum())
    assert abs(conditional_error) < 0.1 < 0.3 < abs(stationary_error)
    state = cond.end_state(*res.residuals, pos, res.process)
    assert state.process.q > 0 and state.mean[0] < -0.15  # the level found, and below the trend
    # before the event the counterfactual is the fitted baseline, as with stationary noise
    np.testing.assert_allclose(res.frame["counterfactual"].iloc[:pos], stationary.frame["counterfactual"].iloc[:pos])


def test_the_draws_are_centred_on_the_conditional_point():
    res, _, pos = _fit(seed=4)
    rows = np.arange(pos, pos + HORIZON_DAYS)
    point, draws = res._counterfactual(res.events, rows)
    ratio = draws.sum(axis=1).mean() / point.sum()
    assert ratio == pytest.approx(1.0, abs=0.03)  # Monte Carlo error and Jensen terms of the parameter draws


def test_the_counterfactual_option_is_checked():
    y = simulate_stress("conforming", seed=0)["observed"]
    with pytest.raises(ModelSpecError, match="counterfactual='bogus'"):
        fit(y, "2008-11-11", counterfactual="bogus")


def test_without_a_pre_period_to_filter_the_noise_is_stationary():
    stationary = ResidualProcess(gamma0=0.03, ar_var=0.02, phi=0.5)
    pos = np.arange(100)
    state = cond.end_state(np.zeros(100), pos, np.ones((100, 1)), 5, stationary)
    assert state.process == cond.LevelProcess(0.0, 0.02, 0.5, 0.03 - 0.02)
    np.testing.assert_allclose(state.cov, np.diag([0.0, 0.02]))


@pytest.mark.slow
def test_on_wandering_series_the_conditional_interval_is_less_biased_and_covers_more():
    """SIMULATED, 30 wandering series (about 3 s): the stationary counterfactual's bias shrinks."""
    rows = []
    for seed in range(30):
        res, frame, pos = _fit(seed)
        truth = frame.attrs["truth"]["relative_effect_30d"]
        window = (res.y.index[pos], res.y.index[pos + HORIZON_DAYS - 1])
        for name, r in (("conditional", res), ("stationary", dataclasses.replace(res, counterfactual="stationary"))):
            imp = r.impact(*window)
            rows.append((name, imp["relative"] - truth, imp["relative_low"] <= truth <= imp["relative_high"]))
    err = {n: np.array([e for m, e, _ in rows if m == n]) for n in ("conditional", "stationary")}
    cover = {n: np.mean([c for m, _, c in rows if m == n]) for n in ("conditional", "stationary")}
    assert np.sqrt(np.mean(err["conditional"] ** 2)) < np.sqrt(np.mean(err["stationary"] ** 2))
    assert cover["conditional"] >= cover["stationary"]


# --- counterfactual="in-sample" (issue 13, phase 6) ---------------------------------------------------------------
def _hourly_bins(seed: int):
    from spamits.data.stress import daily_bins

    frame = simulate_stress("hourly", seed=seed)
    bins = daily_bins(frame)
    y, pos = bins["observed"], int(bins.attrs["settings"]["n_pre"])
    res = fit(y, y.index[pos], family="negbin", effect="decay", seasonality="dow", n_draws=400,
              counterfactual="in-sample")
    return res, y, pos, frame.attrs["truth"]["relative_effect_30d"]


def test_in_sample_impact_is_the_observed_series_without_the_estimated_effect():
    """SIMULATED hourly case in daily bins, seed 0 (no wandering level): the in-sample impact's counterfactual is
    ``sum(y·exp(-ω δ^k))`` at the estimates, the frame shows it, and its interval is narrower than the forecast's."""
    res, y, pos = _hourly_bins(0)[:3]
    assert res.counterfactual == "in-sample" and cond.DEFAULT_COUNTERFACTUAL == "auto"
    assert cond.end_state(*res.residuals, pos, res.process).process.q == 0
    window = slice(pos, pos + HORIZON_DAYS)
    omega, delta = float(res.params[f"level({res.events[0]})"]), res.decay_rates[res.events[0]]
    expected = float(np.sum(y.iloc[window] * np.exp(-omega * delta ** np.arange(HORIZON_DAYS))))
    imp = res.impact(y.index[pos], y.index[pos + HORIZON_DAYS - 1])
    assert imp["counterfactual"] == pytest.approx(expected, rel=1e-12)
    assert res.frame["counterfactual"].iloc[window].sum() == pytest.approx(expected, rel=1e-12)
    forecast = dataclasses.replace(res, counterfactual="conditional").impact(y.index[pos],
                                                                            y.index[pos + HORIZON_DAYS - 1])
    width = imp["relative_high"] - imp["relative_low"]
    assert width < 0.8 * (forecast["relative_high"] - forecast["relative_low"])  # no fresh noise, no double count
    # before the event the frame keeps the fitted baseline of the forecast
    forecast_frame = dataclasses.replace(res, counterfactual="conditional").frame
    np.testing.assert_allclose(res.frame["counterfactual"].iloc[:pos], forecast_frame["counterfactual"].iloc[:pos])


def test_with_a_wandering_level_the_in_sample_impact_is_the_conditional_forecast():
    """SIMULATED wandering seed 5: the pre-period level wanders (q > 0), so impact falls back to the forecast."""
    res, _, pos = _fit(seed=5, counterfactual="in-sample")
    assert cond.end_state(*res.residuals, pos, res.process).process.q > 0
    forecast = dataclasses.replace(res, counterfactual="conditional")
    assert res.impact() == forecast.impact()


@pytest.mark.slow
def test_on_hourly_bins_the_in_sample_interval_is_half_as_wide_and_still_covers():
    """SIMULATED, 60 hourly series in daily bins (about 5 s).  The forecast band adds parameter and noise
    variances as if independent although the window lies inside the fit (coverage about 0.99 at 1000 series);
    the in-sample counterfactual's interval is about half as wide and covers about 0.95."""
    widths, covered = {"in-sample": [], "conditional": []}, []
    for seed in range(60):
        res, y, pos, truth = _hourly_bins(seed)
        for name in widths:
            imp = dataclasses.replace(res, counterfactual=name).impact(y.index[pos], y.index[pos + HORIZON_DAYS - 1])
            widths[name].append(imp["relative_high"] - imp["relative_low"])
            if name == "in-sample":
                covered.append(imp["relative_low"] <= truth <= imp["relative_high"])
    assert np.median(widths["in-sample"]) < 0.7 * np.median(widths["conditional"])
    assert 0.85 <= np.mean(covered)

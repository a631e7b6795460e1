"""Counterfactual noise conditional on the end of the pre-period (issue 13, "wandering level").

The counterfactual of an ITS fit is the baseline ``X·β`` plus link-scale noise.  Drawn from the stationary
AR(1)-plus-white-noise process of the residuals (``counterfactual="stationary"``), it ignores where the noise
stands when the event happens: when the level has wandered away from the fitted trend (a random walk on the
log-rate), the counterfactual starts at the trend instead of at the data, and a decay term that absorbs
downward drifts after the event but cannot absorb upward ones biases the effect (SIMULATED stress study,
``docs/simulation_study.md``).

``counterfactual="conditional"`` (what the default ``"auto"`` uses unless the effect is gone early in the window,
:func:`resolve_counterfactual`) describes the **pre-period** residuals ``r_t`` (post-event
residuals carry the effect terms) as a local level plus AR(1) plus white noise,

    r_t = L_t + a_t + e_t,   L_t = L_{t-1} + ξ_t,   a_t = φ·a_{t-1} + η_t,
    Var ξ = q,   Var a = A,   Var e = W

(Harvey 1989, *Forecasting, structural time series models and the Kalman filter*, ch. 2-3). Whether the level
wanders is decided on the empirical semivariogram of the residuals at lags 1..K (K = 60 days, twice the usual
30-day window, at least 12 lags), ``v(k) = W + A·(1 - φ^k) + q·k/2``, fitted by weighted least squares with
Cressie's weights ``N_k / v(k)²`` (Cressie 1985, *Math. Geology* 17:563; Diggle, Heagerty, Liang & Zeger 2002,
*Analysis of Longitudinal Data*, 2nd ed., §5.2, for the variogram of a serially correlated series with measurement
error), with and without the level term (:func:`fit_level_process`). φ is searched up to 0.9 per day (0.9^(1/24)
per hour), whose memory is gone long before lag K, so a semivariogram still rising at long lags is read as a
wandering level, not as a near-unit-root AR. With a level, the filter uses the semivariogram's (q, A, φ, W);
without one, the fit's own stationary process (q = 0). The Kalman filter over the pre-period gives the state
``(L_T, a_T) | r ~ N(m_T, P_T)`` at the last observed pre-period period T (the level starts at the fitted baseline
with variance ``q`` times the pre-period span), and the noise h periods later is forecast as (Durbin & Koopman
2012, *Time Series Analysis by State Space Methods*, 2nd ed., §4.9)

    v_{T+h} | r ~ N(L_T + φ^h·a_T,  z_hᵀ P_T z_h + h·q + A·(1 - φ^{2h}) + W),   z_h = (1, φ^h).

The band is never made narrower than the stationary one: ``V_h`` is floored at the fit's stationary variance γ0
(:func:`condition`; a safeguard against an end-state model that is too simple).  Simulated paths start from a
draw of the state and follow the recursions, so the serial correlation within a window is kept.  The filtered
mean is linear in the residuals, ``m_T = Cᵀ r``; a parameter draw θ moves them by ``-X_pre (θ - β̂)``, so
``m_T(θ) = m_T - CᵀX_pre (θ - β̂)`` and every draw stays anchored to the data.

``counterfactual="in-sample"`` (an option, issue 13 phase 6): the impact window lies inside the fitted data, so
the forecast above answers a different question from ``ITSResult.impact``'s.  With the window's rows in the fit,
the noise of the window is not a fresh draw independent of the estimates: for a GLS estimate with noise
covariance Σ, ``Cov(β̂, v_w) = V X_wᵀ`` (``V = (XᵀΣ⁻¹X)⁻¹``, ``X_w`` the full design of the window rows, because
``Σ⁻¹Σ_{·w}`` selects those rows), so the error of the forecast ``X⁰_w β̂`` (``X⁰`` the design without the
events) of the realised counterfactual ``X⁰_w β + v_w`` has variance ``Σ_ww - X⁰_w V X⁰_wᵀ - 2 X⁰_w V E_wᵀ``
(``E = X - X⁰``, the event columns), not the ``Σ_ww + X⁰_w V X⁰_wᵀ`` of independent parameter and noise draws.
When the effect dies out early in the window (E ≈ 0 on most rows) the band is too wide by twice the parameter
variance (SIMULATED hourly stress case: 60 pre days, half-life 2 days, 30-day window; 0.99 coverage).  The best
linear unbiased predictor of an in-sample realisation (Goldberger 1962, *JASA* 57:369, "Best linear unbiased
prediction in the generalized linear regression model": ``X⁰_w β̂ + Σ_{w·}Σ⁻¹(y - Xβ̂)``, whose second term is the
window's own residual) is the observed series without the estimated effect, ``y_t·exp(-E_t β̂)`` on the log
scale, with prediction error ``E_w(β̂ - β)``: only the event coefficients are uncertain.  ``impact`` draws it as
``y_t·exp(-effect_t(θ))`` over the parameter draws θ (decay rates included), the estimator of intervention
analysis in structural time-series models (Harvey 1989, ch. 7.6) and of the ``local-level`` stress method.
It rests on the normal approximation of the event coefficients, so an event whose half-life estimate reached a
search bound (``ITSResult.decay_at_bound``: a one-period pulse or no recovery, the profile cut off) uses the
conditional forecast, as it would otherwise read the whole drop as noise (SIMULATED low-counts stress case).

Its one uncertainty is the event coefficients' covariance, valid when the fit's error model (stationary AR(1)
plus white noise) describes the residuals.  When the pre-period's semivariogram shows a wandering level
(:func:`fit_level_process`, ``q > 0``), the level step and the decay are confounded with the walk beyond what that
covariance says, and ``impact`` uses the conditional forecast instead; so it does for non-log links (shares) and
for a window without a single count (no residual to read).  The unobserved count noise of the messages the
event removed is not drawn (small beside the effect's uncertainty unless counts are tiny).  ``ITSResult.frame``
keeps the conditional forecast and its band (a picture of what the baseline would be, not of one realisation).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import optimize

from spamits.errors import ModelSpecError
from spamits.its._covariance import ResidualProcess
from spamits.its.families import FAMILY_MODELS

if TYPE_CHECKING:  # a type only: the result imports this module
    from spamits.its._result import ITSResult

COUNTERFACTUALS = {
    "auto": "'in-sample' when the half-life interval of every decaying effect of interest ends at most "
            "SHORT_EFFECT_DAYS after the event (the effect is gone early in a 30-day window), else 'conditional' "
            "(resolve_counterfactual)",
    "conditional": "baseline plus noise forecast from the pre-period's end state (local level + AR(1) + white)",
    "in-sample": "impact: the observed series without the removed events' estimated effects (in-sample BLUP); "
                 "the conditional forecast when the pre-period level wanders (and for the frame's band)",
    "stationary": "baseline plus AR(1)+white noise from its stationary distribution",
}
DEFAULT_COUNTERFACTUAL = "auto"
SHORT_EFFECT_DAYS = 30.0 / 4
"""``counterfactual="auto"`` takes the in-sample counterfactual when the half-life interval of every decaying
effect of interest ends at most this many days after the event (a quarter of the 30-day window: the effect is gone
early in it).  Then the forecast's interval counts the window's noise twice, because the baseline is estimated
partly from that very window (issue 13 phase 6: SIMULATED hourly case, half-life 48 hours, 0.989 coverage
conditional, 0.951 in-sample); when the effect may last through the window the two parts cancel and the
conditional forecast is kept (low counts: in-sample 0.980, conditional 0.966).  docs/simulation_study.md,
phase 7."""


def check_counterfactual(counterfactual: object) -> str:
    """``counterfactual`` itself when it is a key of :data:`COUNTERFACTUALS`; ModelSpecError naming it otherwise."""
    if not isinstance(counterfactual, str) or counterfactual not in COUNTERFACTUALS:
        raise ModelSpecError(f"counterfactual={counterfactual!r}: must be one of "
                             f"{', '.join(map(repr, COUNTERFACTUALS))}")
    return counterfactual
MAX_LAG_DAYS = 60.0  # semivariogram lags up to 60 days (at least MIN_LAGS lags, at most a quarter of the pre-period)
MIN_LAGS = 12
MAX_ORDINATES = 60  # at most this many lags, evenly spread over 1..K (hourly: every 6th), enter the fit and its F
PHI_GRID = np.linspace(0.0, 0.9, 46)  # AR coefficients per day tried in the variogram fit (memory gone by lag K)
DAYS = {"H": 1 / 24, "D": 1.0, "W": 7.0, "M": 365.25 / 12}  # days per period of each fit frequency
MIN_PRE = 8  # pre-period rows needed to filter the end state
LEVEL_F = 2.0  # a wandering level is kept when its F statistic exceeds this (AIC's rule for one parameter)


@dataclass(frozen=True)
class LevelProcess:
    """Local level + AR(1) + white noise on the link scale: level innovation variance ``q`` per period, AR
    variance ``ar_var`` with coefficient ``phi``, white-noise variance ``white_var``."""

    q: float
    ar_var: float
    phi: float
    white_var: float


@dataclass(frozen=True)
class EndState:
    """The filtered state (level, AR) at the end of the pre-period, on the link scale.

    ``last``: the time position of the last observed pre-period period (T); ``mean`` (2,) and ``cov`` (2, 2):
    ``m_T`` and ``P_T``; ``gradient`` (2, p): ``CᵀX_pre`` (``m_T(θ) = mean - gradient·(θ - β̂)``).
    """

    process: LevelProcess
    last: int
    mean: np.ndarray
    cov: np.ndarray
    gradient: np.ndarray


def resolve_counterfactual(counterfactual: str, result: ITSResult) -> tuple[str, str | None]:
    """The counterfactual ``result`` uses for the option ``counterfactual`` and, when ``"auto"`` chose the
    in-sample one, the note that says why (:data:`SHORT_EFFECT_DAYS`)."""
    if counterfactual != "auto":
        return counterfactual, None
    decays = [label for label in result.events if label in result.decay_rates]
    days = {label: DAYS[result.freq] * float(np.log(0.5) / np.log(result.decay_rates[label])) for label in decays}
    if not decays or max(days.values()) > SHORT_EFFECT_DAYS:  # the interval's end is beyond its estimate
        return "conditional", None
    longest = [half_life_upper_days(result, label) for label in decays]
    if max(longest) > SHORT_EFFECT_DAYS:
        return "conditional", None
    return "in-sample", (f"the half-life interval of the effect ends at {max(longest):.3g} days, at most "
                         f"{SHORT_EFFECT_DAYS:g}, so impact uses the in-sample counterfactual "
                         "(counterfactual='auto'; the forecast's interval would count the window's noise twice)")


def half_life_upper_days(result: ITSResult, label: str) -> float:
    """Upper end (days) of the profile-likelihood half-life interval of event ``label`` (inf when the decay
    rate's interval reaches 1)."""
    col = result.decay_columns[label]
    _, d_hi = result.profile.interval(label, result.alpha, float(result.cov.loc[col, col]))
    return DAYS[result.freq] * float(np.log(0.5) / np.log(d_hi)) if 0 < d_hi < 1 else float("inf")


def semivariogram(r: np.ndarray, pos: np.ndarray, lags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Empirical semivariogram ``v(k) = Σ (r_{t+k} - r_t)² / (2 N_k)`` at the ``lags`` k (periods) over the
    pairs of observed rows exactly k periods apart, and the pair counts ``N_k``; each (len(lags),)."""
    span = int(pos[-1] - pos[0]) + 1
    full, seen = np.zeros(span), np.zeros(span, dtype=bool)
    full[pos - pos[0]], seen[pos - pos[0]] = r, True
    v, count = np.zeros(len(lags)), np.zeros(len(lags))
    for i, k in enumerate(int(k) for k in lags):
        pair = seen[k:] & seen[:-k]
        count[i] = pair.sum()
        if count[i]:
            v[i] = np.sum(((full[k:] - full[:-k]) * pair) ** 2) / (2 * count[i])
    return v, count


def fit_level_process(r: np.ndarray, pos: np.ndarray, days: float = 1.0) -> LevelProcess:
    """:class:`LevelProcess` fitted to the semivariogram of the residuals ``r`` (m,) at positions ``pos``.

    For each φ of ``PHI_GRID`` the model ``W + A(1 - φ^k) + q k/2`` is fitted by non-negative weighted least
    squares (weights ``N_k / v(k)²``, lags k = 1..K), with and without the level term; the φ of the smallest
    weighted residual sum of squares (SSE) is kept for each.  The level is kept when the F statistic of the
    added term, ``(SSE_0 - SSE_1) / (SSE_1 / (K - 4))``, exceeds ``LEVEL_F`` = 2: the choice AIC makes between
    nested least-squares models that differ by one parameter (Akaike 1974, IEEE Trans. Autom. Control 19:716),
    a selection for prediction (about a 16% test) rather than a 5% test, because a missed wandering level
    biases the counterfactual while a spurious one only widens its band (SIMULATED stress study).

    ``days`` is the length of a period in days: lags reach ``MAX_LAG_DAYS`` (``MAX_ORDINATES`` of them at most,
    evenly spread, so that the F test of hourly data does not count hundreds of nearly identical ordinates) and
    φ (per period) is searched over ``PHI_GRID ** days`` (the same memories in days at every frequency).
    """
    max_lag = int(min(max(MIN_LAGS, round(MAX_LAG_DAYS / days)), len(r) // 4))
    if max_lag < 6:  # noqa: PLR2004 - too few lags to identify the model: white noise
        return LevelProcess(0.0, 0.0, 0.0, float(np.var(r)))
    lags = np.unique(np.round(np.linspace(1, max_lag, min(max_lag, MAX_ORDINATES))).astype(int))
    v, count = semivariogram(r, pos, lags)
    ok = (count > 0) & (v > 0)
    if ok.sum() < 6:  # noqa: PLR2004 - too few lags to identify the model: white noise
        return LevelProcess(0.0, 0.0, 0.0, float(np.var(r)))
    k, v, wt = lags[ok], v[ok], np.sqrt(count[ok]) / v[ok]
    best = {}
    for level in (False, True):
        best[level] = (np.inf, None)
        for phi in PHI_GRID**days:
            columns = [np.ones_like(v), 1 - phi**k] + ([k / 2.0] if level else [])
            coef, norm = optimize.nnls(np.column_stack(columns) * wt[:, None], v * wt)
            if norm**2 < best[level][0]:
                best[level] = (norm**2, LevelProcess(float(coef[2]) if level else 0.0, float(coef[1]), float(phi),
                                                     float(coef[0])))
    (sse0, flat), (sse1, wander) = best[False], best[True]
    df = len(v) - 4
    f_stat = (sse0 - sse1) / max(sse1 / df, 1e-300)
    return wander if wander.q > 0 and f_stat > LEVEL_F else flat


def end_state(resid: np.ndarray, pos: np.ndarray, X: np.ndarray, first: int, stationary: ResidualProcess,
              days: float = 1.0) -> EndState:
    """The filtered state at the end of the pre-period (before time position ``first``).

    ``resid`` (m,) are the link-scale residuals of the observed rows at positions ``pos`` (m,), ``X`` (m, p) their
    design; they are centred by their mean over all observed rows, as the fit's ``stationary`` process was fitted;
    ``days`` is the length of a period in days (``DAYS``). When the pre-period's semivariogram shows a wandering
    level (:func:`fit_level_process`), the filter runs with the semivariogram's estimates (the stationary fit then
    absorbs part of the walk in a high AR coefficient); otherwise with the fit's own ``stationary`` process (AR(1)
    plus white noise, bias-corrected, ``q = 0``), so that only the end state is new. With fewer than ``MIN_PRE``
    pre-period rows the state is not filtered: the ``stationary`` process from its stationary distribution.

    Hourly series: a wandering level is a property of days, not hours, and the semivariogram of hourly residuals
    (strong hourly AR, hundreds of nearly identical ordinates) makes the test fire on stationary series; the
    test runs on the residuals' 24-hour means (:func:`block_means`), and a level found there enters the hourly
    filter as ``q/24`` per hour next to the fit's hourly AR(1) and white noise.
    """
    pre = pos < first
    flat = LevelProcess(0.0, stationary.ar_var, stationary.phi, max(stationary.gamma0 - stationary.ar_var, 0.0))
    if pre.sum() < MIN_PRE:
        return EndState(flat, first - 1, np.zeros(2), np.diag([0.0, flat.ar_var]), np.zeros((2, X.shape[1])))
    r, at = resid[pre] - resid.mean(), pos[pre]
    block = max(1, round(1 / days))
    if block == 1:
        proc = fit_level_process(r, at, days)
    else:
        level = fit_level_process(*block_means(r, at, block), days * block)
        proc = dataclasses.replace(flat, q=level.q / block)
    proc = proc if proc.q > 0 else flat
    C, P = kalman(at, proc)
    return EndState(proc, int(at[-1]), C.T @ r, P, C.T @ X[pre])


def block_means(r: np.ndarray, pos: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Means of ``r`` (m,) over blocks of ``block`` periods that end at the last position, and the blocks' time
    positions (in blocks, increasing); blocks without an observed row are left out."""
    index = (int(pos[-1]) - pos) // block  # 0 for the last block
    counts = np.bincount(index)
    sums = np.bincount(index, weights=r)
    seen = np.flatnonzero(counts)[::-1]
    return sums[seen] / counts[seen], int(index.max()) - seen


def kalman(pos: np.ndarray, proc: LevelProcess) -> tuple[np.ndarray, np.ndarray]:
    """Kalman filter of observations at time positions ``pos`` (m,) under ``proc`` (gaps: the state is
    predicted over them): the weights ``C`` (m, 2) of the filtered state mean at the last position,
    ``m_T = Cᵀ r``, and its covariance ``P_T`` (2, 2) (state: level, AR).

    Starts at level 0 with variance ``q·span`` and the stationary AR state N(0, A).  The covariance recursion
    does not depend on the data, so the weights follow from the gains and the transition matrices
    (``m_t = (I - K_t z)·T_t·m_{t-1} + K_t r_t``).  Scalar arithmetic on the three entries of the symmetric
    2 × 2 covariance (a few hundred steps: faster than numpy on 2 × 2 arrays).
    """
    q, A, phi, W = proc.q, proc.ar_var, proc.phi, max(proc.white_var, 1e-12)
    m = len(pos)
    p00, p01, p11 = q * float(pos[-1] - pos[0] + 1), 0.0, A
    gains, carries = [], []
    prev = int(pos[0])
    for t in range(m):
        g = int(pos[t]) - prev
        f = phi**g
        if t:  # predict over g periods: level + g·q, AR scaled by f (its variance back towards A)
            p00, p01, p11 = p00 + g * q, f * p01, f * f * p11 + A * (1 - f * f)
        s = p00 + 2 * p01 + p11 + W
        k0, k1 = (p00 + p01) / s, (p01 + p11) / s
        gains.append((k0, k1))
        carries.append((1 - k0, -k0 * f, -k1, (1 - k1) * f))  # (I - K z)·T, row-major
        c0, c1 = p00 + p01, p01 + p11
        p00, p01, p11 = p00 - k0 * c0, p01 - k0 * c1, p11 - k1 * c1
        prev = int(pos[t])
    C = np.empty((m, 2))
    g00, g01, g10, g11 = 1.0, 0.0, 0.0, 1.0
    for t in range(m - 1, -1, -1):
        k0, k1 = gains[t]
        C[t] = (g00 * k0 + g01 * k1, g10 * k0 + g11 * k1)
        a, b, c, d = carries[t]
        g00, g01, g10, g11 = g00 * a + g01 * c, g00 * b + g01 * d, g10 * a + g11 * c, g10 * b + g11 * d
    return C, np.array([[p00, p01], [p01, p11]])


def forecast(state: EndState, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``φ^h`` (rows,) and the conditional variance ``V_h`` (rows,) at time positions ``rows`` (> ``last``)."""
    proc = state.process
    h = (rows - state.last).astype(float)
    f = proc.phi**h
    P = state.cov
    var = P[0, 0] + 2 * f * P[0, 1] + f * f * P[1, 1] + h * proc.q + proc.ar_var * (1 - f * f) + proc.white_var
    return f, var


def mean_shift(state: EndState, rows: np.ndarray, theta: np.ndarray, beta: np.ndarray, gamma0: float,
               log_link: bool) -> tuple[np.ndarray, np.ndarray]:
    """Shifts of the linear predictor at time positions ``rows`` (> ``last``): of the point counterfactual
    (rows,) and of the parameter draws ``theta`` (draws × p) around the estimates ``beta`` (p,) (draws × rows).

    The draws move by ``L_T(θ) + φ^h·a_T(θ)``; with the zero-mean noise of variance ``max(V_h, γ0)``
    (:func:`condition`) and the families' mean-one correction ``-γ0/2`` (``Family.response``, ``gamma0`` the
    stationary variance) their mean is the conditional mean.  The point counterfactual of a log link is that
    mean, ``X·β + L_T + φ^h·a_T - (γ0 - max(V_h, γ0))/2`` (the stationary ``exp(X·β)`` is the mean over noise of
    variance γ0); of the logit link without the variance term.
    """
    f, var = forecast(state, rows)
    var = np.maximum(var, gamma0)  # the band's floor (condition)
    level, ar = state.mean
    point = level + f * ar - ((gamma0 - var) / 2 if log_link else 0.0)
    moved = state.mean[None, :] - (theta - beta) @ state.gradient.T  # (draws, 2)
    return point, moved[:, [0]] + moved[:, [1]] * f[None, :]


def conditional_noise(state: EndState, rows: np.ndarray, n_draws: int, seed: int) -> np.ndarray:
    """Zero-mean noise (n_draws × rows) around the conditional mean at time positions ``rows`` (> ``last``).

    At the first row (g periods after T) the state deviates from its forecast by N(0, Σ_g), ``Σ_g`` the
    forecast covariance of (level, AR) (``P_T`` moved g periods on); then the level moves by N(0, q) and the
    AR part by ``a_t = φ a_{t-1} + η_t`` each period to the last row (gaps keep their spacing), and white noise
    of variance ``W`` is added to each row.  The AR and white-noise normals are those of
    :func:`stationary_noise` for the same ``seed`` and rows (common random numbers: with an uninformative
    state, ``q = 0``, the two noises are identical, so the options differ by the method, not by Monte Carlo
    luck); the level's come from a second stream.
    """
    from scipy import signal

    proc = state.process
    first, last = int(rows[0]), int(rows[-1])
    span = last - first + 1
    rng = np.random.default_rng([seed, first, last])  # the stream of stationary_noise
    innov = rng.standard_normal((n_draws, span)) * math.sqrt(proc.ar_var * (1 - proc.phi**2))
    z_start = rng.standard_normal(n_draws)
    white = rng.standard_normal((n_draws, span)) * math.sqrt(proc.white_var)
    f = proc.phi ** (first - state.last)
    P = state.cov
    var_level, cov = P[0, 0] + (first - state.last) * proc.q, f * P[0, 1]
    var_ar = f * f * P[1, 1] + proc.ar_var * (1 - f * f)
    innov[:, 0] = math.sqrt(max(var_ar, 0.0)) * z_start
    ar = signal.lfilter([1.0], [1.0, -proc.phi], innov, axis=1)
    noise = ar + white
    if var_level > 0:
        u = np.random.default_rng([seed, first, last, 1]).standard_normal((n_draws, span))
        slope = cov / var_ar if var_ar > 0 else 0.0  # the level's start given the AR part's
        steps = u * math.sqrt(proc.q)
        steps[:, 0] = slope * innov[:, 0] + math.sqrt(max(var_level - slope * cov, 0.0)) * u[:, 0]
        noise += np.cumsum(steps, axis=1)
    return noise[:, rows - first]


def stationary_noise(proc: ResidualProcess, rows: np.ndarray, n_draws: int, seed: int) -> np.ndarray:
    """Stationary link-scale noise (n_draws × rows) at time positions ``rows``: AR(1) plus white noise.

    Drawn over the grid from the first to the last row (so gaps keep their spacing) with a generator seeded by
    the fit's ``seed`` and the span, so the same window always gets the same draws.
    """
    from scipy import signal

    first, last = int(rows[0]), int(rows[-1])
    span = last - first + 1
    rng = np.random.default_rng([seed, first, last])
    innov = rng.standard_normal((n_draws, span)) * math.sqrt(proc.ar_var * (1 - proc.phi**2))
    innov[:, 0] = rng.standard_normal(n_draws) * math.sqrt(proc.ar_var)  # stationary start
    ar = signal.lfilter([1.0], [1.0, -proc.phi], innov, axis=1)
    white = rng.standard_normal((n_draws, span)) * math.sqrt(max(proc.gamma0 - proc.ar_var, 0.0))
    return (ar + white)[:, rows - first]


def condition(eta: np.ndarray, eta_draws: np.ndarray, noise: np.ndarray, rows: np.ndarray, first: int,
              residuals: tuple, theta: np.ndarray, beta: np.ndarray, stationary: ResidualProcess, log_link: bool,
              seed: int, days: float = 1.0) -> None:
    """Make a stationary counterfactual conditional on the pre-period, in place, from time position ``first``
    (the first removed event) on: ``eta`` (rows,) and ``eta_draws`` (draws × rows) move by the forecast mean
    (:func:`mean_shift`) and ``noise`` (draws × rows) is replaced by :func:`conditional_noise`.

    The conditional variance ``V_h`` is floored at the stationary variance γ0 of the fit's own process (the
    noise scaled up by ``sqrt(γ0 / V_h)`` where it is smaller): conditioning moves the centre of the band, never
    makes it narrower than the stationary band.  A safeguard against an end-state model that is too simple —
    AR(1) memory for a longer one, a plug-in level variance q that the semivariogram underestimates — which
    would otherwise make the conditional band too narrow (SIMULATED stress study, docs/simulation_study.md).

    ``residuals`` is ``ITSResult.residuals`` (link-scale residuals, time positions and design of the observed
    rows), ``theta`` (draws × p) the parameter draws around ``beta`` (p,), ``stationary`` the fit's residual
    process (its ``gamma0`` enters the families' mean-one correction).  Rows before ``first`` keep the
    stationary noise; ``days`` is the length of a period in days.
    """
    post = rows >= first
    if not post.any():
        return
    resid, pos, X = residuals
    state = end_state(resid, pos, X, first, stationary, days)
    point, draws = mean_shift(state, rows[post], theta, beta, stationary.gamma0, log_link)
    eta[post] += point
    eta_draws[:, post] += draws
    noise[:, post] = conditional_noise(state, rows[post], noise.shape[0], seed)
    noise[:, post] *= np.sqrt(np.maximum(1.0, stationary.gamma0 / forecast(state, rows[post])[1]))


def in_sample(result: ITSResult, removed: list[str], rows: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The in-sample counterfactual of ``impact`` (``counterfactual="in-sample"``, its._conditional): point
    (rows,) and draws (draws × rows) of ``observed·exp(-effect(θ))``, the effect of the ``removed`` events at
    the estimates and at each parameter draw; None where the conditional forecast is used instead (another
    option, a non-log link, a window without counts, a removed event whose half-life estimate reached a
    search bound, a wandering pre-period level)."""
    if result.counterfactual != "in-sample" or FAMILY_MODELS.get(result.family).link != "log":
        return None
    if set(removed) & set(result.decay_at_bound):
        return None
    observed = result._observed()[rows]
    if not np.sum(observed) > 0:
        return None
    first = min(s.position for s in result.specs if s.label in removed)
    if result_end_state(result, first).process.q > 0:
        return None
    log_effect = np.zeros((result.n_draws + 1, len(rows)))
    for spec in result.specs:
        if spec.label not in removed or rows[-1] < spec.position:
            continue
        k = rows - spec.position
        after = k >= 0
        log_effect[:, after] += result._effect_paths(spec, int(k[-1]) + 1)[:, k[after]]
    cf = observed[None, :] * np.exp(np.clip(-log_effect, -700.0, 700.0))
    return cf[0], cf[1:]


def result_end_state(result: ITSResult, first: int) -> EndState:
    """:func:`end_state` of a fit's residuals before time position ``first`` (the fit's own stationary process,
    periods of its frequency)."""
    return end_state(*result.residuals, first, result.process, DAYS[result.freq])

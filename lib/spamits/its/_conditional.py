"""Counterfactual noise conditional on the end of the pre-period (issue 13, "wandering level").

The counterfactual of an ITS fit is the baseline ``X·β`` plus the residual process, AR(1) plus white noise
on the link scale (``ResidualProcess``: total variance ``γ0``, AR part ``A`` with coefficient ``φ``, white part
``W = γ0 - A``).  Drawn from the stationary distribution (``"stationary"``), it ignores where the AR state
stands when the event happens.  When the level has drifted away from the fitted trend (a wandering level: φ
near 1), the counterfactual then starts at the trend instead of at the data, and the effect is biased.

``"conditional"`` treats the residuals as the observations of a linear Gaussian state-space model,
``r_t = a_t + e_t`` with ``a_t = φ·a_{t-1} + η_t`` (Harvey 1989, *Forecasting, structural time series models
and the Kalman filter*, ch. 3; Durbin & Koopman 2012, *Time Series Analysis by State Space Methods*, 2nd ed.,
§4.3 and §4.9 for the forecast), and runs the Kalman filter over the **pre-period** residuals only (post-event
residuals carry the effect terms).  With the filtered state ``a_T | r ~ N(m_T, P_T)`` at the last observed
pre-period period T, the link-scale noise h periods later is

    v_{T+h} | r ~ N(φ^h·m_T,  V_h),   V_h = φ^{2h}·P_T + A·(1 - φ^{2h}) + W,

and the simulated paths start from a draw of ``a_T`` and follow the AR recursion, so serial correlation within
the window is kept.  ``m_T`` is linear in the residuals, ``m_T = Σ c_t r_t``; a parameter draw θ moves the
residuals by ``-X_pre (θ - β̂)``, so ``m_T(θ) = m_T - (cᵀX_pre)(θ - β̂)``: a draw with a higher level has a
smaller end state, and the anchoring at the data holds for every draw.  Far from the event (``φ^h → 0``) the
conditional noise is the stationary one again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import signal

from spamits.its._covariance import ResidualProcess

COUNTERFACTUALS = {
    "conditional": "baseline plus AR noise forecast from the filtered state at the end of the pre-period",
    "stationary": "baseline plus AR noise from its stationary distribution (ignores the end-of-pre state)",
}
DEFAULT_COUNTERFACTUAL = "conditional"


@dataclass(frozen=True)
class EndState:
    """The filtered AR state at the end of the pre-period, on the link scale.

    ``last`` is the time position of the last observed pre-period period (T), ``mean`` and ``var`` the filtered
    mean ``m_T`` and variance ``P_T``, ``gradient`` (p,) the coefficient sensitivity ``cᵀX_pre`` (so that
    ``m_T(θ) = mean - gradient·(θ - β̂)``).
    """

    last: int
    mean: float
    var: float
    gradient: np.ndarray

    @classmethod
    def none(cls, last: int, p: int, ar_var: float) -> EndState:
        """No information on the state (no pre-period rows or no AR part): the stationary distribution."""
        return cls(last, 0.0, ar_var, np.zeros(p))


def filter_weights(pos: np.ndarray, proc: ResidualProcess) -> tuple[np.ndarray, float]:
    """Weights ``c`` (m,) with ``m_T = Σ c_t r_t`` and the filtered variance ``P_T`` of the Kalman filter of
    AR(1)-plus-white-noise observations at time positions ``pos`` (gaps: the state is predicted over them).

    Starts from the stationary state N(0, A); the variance recursion does not depend on the data, so the
    weights are those of the filtered mean at the last position.
    """
    A, phi = proc.ar_var, proc.phi
    W = max(proc.gamma0 - A, 1e-12 * max(proc.gamma0, 1e-300))
    m = len(pos)
    gain, carry = np.empty(m), np.empty(m)
    P, prev = A, int(pos[0])
    for t in range(m):
        step = phi ** (2 * (int(pos[t]) - prev)) if t else 1.0
        P_pred = step * P + A * (1 - step) if t else A
        K = P_pred / (P_pred + W)
        gain[t] = K
        carry[t] = math.sqrt(step) * (1 - K) if t else 0.0  # m_t = carry_t·m_{t-1} + K_t·r_t
        P = (1 - K) * P_pred
        prev = int(pos[t])
    after = np.append(np.cumprod(carry[:0:-1])[::-1], 1.0)  # product of the carries after t
    return gain * after, P


def end_state(resid: np.ndarray, pos: np.ndarray, X: np.ndarray, proc: ResidualProcess,
              first: int) -> EndState:
    """The filtered state at the end of the pre-period (before time position ``first``).

    ``resid`` (m,) are the link-scale residuals of the observed rows at positions ``pos`` (m,), ``X`` (m, p)
    their design; the residuals are centred by their mean over all observed rows, as the process was fitted.
    """
    pre = pos < first
    last = int(pos[pre][-1]) if pre.any() else first - 1
    if not pre.any() or proc.ar_var <= 0 or proc.phi <= 0:
        return EndState.none(last, X.shape[1], max(proc.ar_var, 0.0))
    c, P = filter_weights(pos[pre], proc)
    r = resid[pre] - resid.mean()
    return EndState(last, float(c @ r), float(P), c @ X[pre])


def forecast(state: EndState, proc: ResidualProcess, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``φ^h`` (rows,) and the conditional variance ``V_h`` (rows,) at time positions ``rows`` (> ``last``)."""
    h = rows - state.last
    decay = proc.phi ** h
    var = decay**2 * state.var + proc.ar_var * (1 - decay**2) + max(proc.gamma0 - proc.ar_var, 0.0)
    return decay, var


def conditional_noise(state: EndState, proc: ResidualProcess, rows: np.ndarray, n_draws: int,
                      rng: np.random.Generator) -> np.ndarray:
    """Zero-mean noise (n_draws × rows) around the conditional mean at time positions ``rows`` (> ``last``).

    The AR part starts from ``a_T - m_T ~ N(0, P_T)`` and follows ``a_t = φ a_{t-1} + η_t`` over every period
    from T to the last row (gaps keep their spacing); white noise of variance ``W`` is added to each row.
    """
    span = int(rows[-1]) - state.last + 1
    innov = rng.standard_normal((n_draws, span)) * math.sqrt(proc.ar_var * (1 - proc.phi**2))
    innov[:, 0] = rng.standard_normal(n_draws) * math.sqrt(max(state.var, 0.0))
    ar = signal.lfilter([1.0], [1.0, -proc.phi], innov, axis=1)
    white = rng.standard_normal((n_draws, len(rows))) * math.sqrt(max(proc.gamma0 - proc.ar_var, 0.0))
    return ar[:, rows - state.last] + white


def mean_shift(state: EndState, proc: ResidualProcess, rows: np.ndarray, theta: np.ndarray, beta: np.ndarray,
               log_link: bool) -> tuple[np.ndarray, np.ndarray]:
    """Shifts of the linear predictor at time positions ``rows`` (> ``last``): of the point counterfactual
    (rows,) and of the parameter draws ``theta`` (draws × p) around the estimates ``beta`` (p,) (draws × rows).

    The draws move by ``φ^h·m_T(θ)``; with the zero-mean :func:`conditional_noise` and the families' mean-one
    correction ``-γ0/2`` (``Family.response``) their mean is the conditional mean.  The point counterfactual of
    a log link is that mean, ``X·β + φ^h·m_T - (γ0 - V_h)/2`` (the stationary ``exp(X·β)`` is the mean over
    noise of variance γ0); of the logit link ``X·β + φ^h·m_T``.
    """
    decay, var = forecast(state, proc, rows)
    point = decay * state.mean - ((proc.gamma0 - var) / 2 if log_link else 0.0)
    m_theta = state.mean - (theta - beta) @ state.gradient  # (draws,)
    return point, m_theta[:, None] * decay[None, :]

"""Covariance of ITS coefficients under three error models, chosen by name from one registry.

All three share the GLM score structure ``s_t = x_t · sqrt(w_t) · e_t`` (``w_t`` the Fisher weight, ``e_t`` the
Pearson residual) and the bread ``H = Σ w_t x_t x_tᵀ``:

* ``iid`` — model-based ``scale · H⁻¹`` (``scale`` = σ² for gaussian-log, the Pearson dispersion for
  quasi-Poisson, 1 for Poisson and negative binomial).
* ``hac`` — Newey–West sandwich ``H⁻¹ M H⁻¹`` with Bartlett weights and the lag rule
  ``L = floor(4·(n/100)^(2/9))`` (Newey & West 1994), with the small-sample factor n/(n-p).
* ``ar1`` — sandwich whose middle ``M = X_wᵀ C X_w`` uses a fitted correlation structure for the Pearson
  residuals: AR(1) plus white noise (an ARMA(1,1) autocovariance ``γ_0`` at lag 0 and ``A·φ^h`` at lag h ≥ 1),
  fitted from the residual autocovariances at lags 1–4.  Unlike truncated HAC it keeps every lag, which is what
  strongly autocorrelated daily spam counts need (Newey–West under-covers there; cf. Bottomley et al. 2023,
  Stat Med 42:1277, on Prais–Winsten; Turner et al. 2021, BMC Med Res Methodol 21:181).  The AR coefficient
  gets the first-order bias correction (1 + 3φ)/n (Marriott & Pope 1954).  Gaps are handled by placing the
  observed rows at their true time positions.

The residual process parameters (``ResidualProcess``) are also used to draw predictive noise for the
counterfactual, so intervals carry both parameter uncertainty and the serially correlated noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spamits.errors import ModelSpecError

ERRORS = {
    "iid": "model-based (quasi-Poisson: scaled by the Pearson dispersion)",
    "hac": "Newey-West HAC, Bartlett kernel, lag floor(4(n/100)^(2/9))",
    "ar1": "sandwich with AR(1)+white-noise residual correlation (all lags)",
}


@dataclass(frozen=True)
class ResidualProcess:
    """Stationary AR(1)-plus-white-noise description of a residual series (on its own scale).

    ``gamma0`` is the total variance, ``ar_var`` the variance of the AR(1) part and ``phi`` its coefficient.
    """

    gamma0: float
    ar_var: float
    phi: float

    @property
    def rho1(self) -> float:
        return self.ar_var * self.phi / self.gamma0 if self.gamma0 > 0 else 0.0

    def autocov(self, lags: np.ndarray) -> np.ndarray:
        lags = np.abs(lags)
        return np.where(lags == 0, self.gamma0, self.ar_var * self.phi ** np.maximum(lags, 1))


def nw_lags(n: int) -> int:
    """Newey-West (1994) plug-in lag rule: floor(4 (n/100)^(2/9))."""
    return int(np.floor(4 * (n / 100.0) ** (2.0 / 9.0)))


def _autocov_gapped(e: np.ndarray, pos: np.ndarray, maxlag: int) -> np.ndarray:
    """Autocovariances at lags 0..maxlag (last axis) using only pairs of observed rows exactly h apart.

    ``e`` is (n,) or (m, n) for m series observed at the same positions; missing periods count as zeros.
    """
    n_full = int(pos[-1] - pos[0]) + 1
    full = np.zeros(e.shape[:-1] + (n_full,))
    full[..., pos - pos[0]] = e
    return np.stack([np.sum(full[..., : n_full - h] * full[..., h:], axis=-1) / e.shape[-1]
                     for h in range(maxlag + 1)], axis=-1)


def _process_from_autocov(g: np.ndarray, n: int) -> tuple[float, float, float]:
    """(γ0, ρ1, φ) of AR(1)+white noise from autocovariances at lags 0-4."""
    gamma0 = float(g[0])
    if gamma0 <= 0 or g[1] <= 0:
        return max(gamma0, 0.0), 0.0, 0.0
    den = g[1] + g[2] + g[3]
    phi = (g[2] + g[3] + g[4]) / den if den > 0 else 0.0
    rho1 = g[1] / gamma0
    if rho1 < 2 / math.sqrt(n) or not 0 < phi < 1 or phi < rho1:
        phi = rho1  # pure AR(1): weak or unclear correlation, the white-noise part is not identified
    return gamma0, float(rho1), float(phi)


def _raw_process(e: np.ndarray, pos: np.ndarray) -> tuple[float, float, float]:
    """(γ0, ρ1, φ) of AR(1)+white noise from residual autocovariances at lags 0-4, before bias correction."""
    return _process_from_autocov(_autocov_gapped(e - e.mean(), pos, 4), len(e))


BIAS_SIMULATIONS = 40


def fit_residual_process(e: np.ndarray, pos: np.ndarray, X: np.ndarray | None = None) -> ResidualProcess:
    """Fit AR(1)+white noise to regression residuals ``e`` observed at integer time positions ``pos``.

    Residual autocorrelations are biased towards zero, more so the more regressors were fitted and the
    stronger the correlation (Turner et al. 2021).  With the design ``X`` given, the bias of (ρ1, φ) is
    estimated by a seeded parametric bootstrap (simulate the fitted process, take the residuals of the same
    regression, re-estimate; ``BIAS_SIMULATIONS`` draws) and subtracted, as in Kilian (1998).
    """
    gamma0, rho1, phi = _raw_process(e, pos)
    if phi <= 0 or rho1 <= 0:
        return ResidualProcess(gamma0, 0.0, 0.0)
    if X is not None:
        rho1, phi = _bias_corrected(rho1, phi, pos, X)
    phi = float(min(phi, 0.99))
    rho1 = float(min(rho1, phi))
    return ResidualProcess(gamma0, gamma0 * rho1 / phi if phi > 0 else 0.0, phi)


def _bias_corrected(rho1: float, phi: float, pos: np.ndarray, X: np.ndarray) -> tuple[float, float]:
    from scipy import signal

    rng = np.random.default_rng(20081111)
    span = int(pos[-1] - pos[0]) + 1
    share = min(rho1 / phi, 1.0)  # AR part of the variance
    innov = rng.standard_normal((BIAS_SIMULATIONS, span)) * math.sqrt(1 - phi**2)
    innov[:, 0] = rng.standard_normal(BIAS_SIMULATIONS)
    ar = signal.lfilter([1.0], [1.0, -phi], innov, axis=1)[:, pos - pos[0]]
    sims = math.sqrt(share) * ar + math.sqrt(1 - share) * rng.standard_normal(ar.shape)
    resid = sims - (sims @ np.linalg.pinv(X).T) @ X.T
    resid -= resid.mean(axis=1, keepdims=True)
    autocov = _autocov_gapped(resid, pos, 4)
    est = np.array([_process_from_autocov(g, len(pos))[1:] for g in autocov])
    rho1_bc = rho1 + (rho1 - est[:, 0].mean())
    phi_bc = phi + (phi - est[:, 1].mean())
    return max(rho1_bc, 0.0), max(phi_bc, rho1_bc, 0.0)


def covariance(kind: str, X: np.ndarray, w: np.ndarray, e: np.ndarray, pos: np.ndarray,
               scale: float) -> tuple[np.ndarray, dict]:
    """Coefficient covariance (p×p) and a dict describing how it was computed.

    ``X`` is the (n×p) design of the observed rows, ``w`` the Fisher weights, ``e`` the Pearson residuals and
    ``pos`` the integer time positions of the rows.
    """
    if kind not in ERRORS:
        raise ModelSpecError(f"errors={kind!r}: must be one of {', '.join(repr(k) for k in ERRORS)}")
    n, p = X.shape
    Xw = X * np.sqrt(w)[:, None]
    bread = np.linalg.pinv(Xw.T @ Xw)
    if kind == "iid":
        return scale * bread, {"errors": "iid", "method": ERRORS["iid"], "scale": scale}
    if kind == "hac":
        lags = nw_lags(n)
        S = Xw * e[:, None]
        meat = S.T @ S
        for h in range(1, lags + 1):
            pairs = _lag_pairs(pos, h)
            if pairs[0].size:
                G = S[pairs[0]].T @ S[pairs[1]]
                meat += (1 - h / (lags + 1)) * (G + G.T)
        meat *= n / max(n - p, 1)
        return bread @ meat @ bread, {"errors": "hac", "method": ERRORS["hac"], "lags": lags}
    proc = fit_residual_process(e, pos, X)
    meat = ar_quadratic_form(Xw, pos, proc) * (n / max(n - p, 1))
    info = {"errors": "ar1", "method": ERRORS["ar1"], "phi": proc.phi, "rho1": proc.rho1}
    return bread @ meat @ bread, info


def ar_quadratic_form(Z: np.ndarray, pos: np.ndarray, proc: ResidualProcess) -> np.ndarray:
    """``Zᵀ C Z`` for the AR(1)+white-noise autocovariance ``C`` of rows at time positions ``pos``, in O(n·p).

    ``C = (γ0 - A)·I + A·R`` with ``R[t, s] = φ^|t-s|``; ``R Z`` is a forward plus a backward first-order
    recursive filter on the full time grid (gaps as zero rows) minus ``Z`` itself.
    """
    from scipy import signal

    full = np.zeros((int(pos[-1] - pos[0]) + 1, Z.shape[1]))
    full[pos - pos[0]] = Z
    fwd = signal.lfilter([1.0], [1.0, -proc.phi], full, axis=0)
    bwd = signal.lfilter([1.0], [1.0, -proc.phi], full[::-1], axis=0)[::-1]
    RZ = (fwd + bwd - full)[pos - pos[0]]
    return (proc.gamma0 - proc.ar_var) * (Z.T @ Z) + proc.ar_var * (Z.T @ RZ)


def _lag_pairs(pos: np.ndarray, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (i, j) of row pairs with pos[j] - pos[i] == h."""
    lookup = {int(p): i for i, p in enumerate(pos)}
    i_idx, j_idx = [], []
    for i, p in enumerate(pos):
        j = lookup.get(int(p) + h)
        if j is not None:
            i_idx.append(i)
            j_idx.append(j)
    return np.asarray(i_idx, dtype=int), np.asarray(j_idx, dtype=int)

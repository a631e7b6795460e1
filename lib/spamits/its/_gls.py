"""Feasible GLS for ITS fits (``errors="ar1"``): prewhitening by the fitted AR(1)-plus-white-noise process.

The residuals of a first, independence (GLM or least-squares) fit give the process ``γ0`` (variance), ``A``
(variance of the AR(1) part) and ``φ`` (``spamits.its._covariance.fit_residual_process``, bias-corrected).
Its autocorrelation is that of an ARMA(1,1), ``(1 - φB) r_t = (1 - θB) ε_t``, so the filter
``ε = (1 - φB)/(1 - θB) r / s`` turns residuals with that correlation into uncorrelated unit-variance ones
(:class:`Whitener`).  The coefficients are then re-estimated on whitened quantities:

* Gaussian families: least squares of the whitened working response on the whitened design (Prais-Winsten,
  with an ARMA(1,1) instead of an AR(1) filter; Prais & Winsten 1954; Bottomley et al. 2023, Stat Med
  42:1277, find Prais-Winsten the best-covering of the common ITS methods under autocorrelation);
* count families: the quasi-likelihood (GEE) estimating equations with the fitted working correlation of the
  Pearson residuals, solved by whitened Fisher scoring (Zeger 1988, Biometrika 75:621, for exactly this model
  of counts with a latent autocorrelated log-rate; Liang & Zeger 1986).

GEE is consistent whatever the working correlation, so the covariance is the sandwich on the whitened scores
with the AR(1)-plus-white-noise correlation fitted again to the whitened residuals (near zero when the first
fit was right): honest also when the working correlation is not.  The filter runs over the observed rows in
time order; across a gap it treats the rows as adjacent (a working-correlation approximation that costs some
efficiency, not validity: the covariance places rows at their true positions).

Decay rates are estimated with the rest: the profile of the whitened objective ``Σ ε_t²``, linearised at the
current fit (:class:`LinearisedProfile`), is minimised over each rate, the GLS fit is updated at the new rates,
and the two steps alternate until the rates settle (``spamits.its._fit._gls_stage``).  At that point the rates
solve their own GEE estimating equations.  Their interval inverts the same linearised profile
(``spamits.its._profile.Profile.interval``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

from spamits.its import _estimate as est
from spamits.its.families import FAMILY_MODELS, nb_sd, pearson


@dataclass(frozen=True)
class Whitener:
    """The ARMA(1,1) whitening filter of an AR(1)+white-noise process: ``φ``, ``θ`` and innovation variance.

    ``apply`` filters the rows (time, first axis) of an (m,) or (m, k) array; the first row is scaled to unit
    variance with the process variance ``gamma0``.
    """

    phi: float
    theta: float
    innovation_var: float
    gamma0: float

    @classmethod
    def from_process(cls, gamma0: float, ar_var: float, phi: float) -> Whitener:
        if phi <= 0 or ar_var <= 0 or gamma0 <= 0:
            return cls(0.0, 0.0, max(gamma0, 1e-300), max(gamma0, 1e-300))
        white = max(gamma0 - ar_var, 1e-12 * gamma0)
        # MA(1) part of (1 - φB) r: lag-0 variance and lag-1 covariance give θ/(1+θ²) = q (invertible root)
        q = phi * white / (ar_var * (1 - phi**2) + white * (1 + phi**2))
        theta = (1 - np.sqrt(1 - 4 * q * q)) / (2 * q) if q > 1e-12 else 0.0
        innovation = phi * white / theta if theta > 0 else ar_var * (1 - phi**2)
        return cls(float(phi), float(theta), float(innovation), float(gamma0))

    def apply(self, M: np.ndarray) -> np.ndarray:
        if self.phi == 0:
            return M / np.sqrt(self.gamma0)
        out = signal.lfilter([1.0, -self.phi], [1.0, -self.theta], M, axis=0)
        out[0] = M[0] * np.sqrt(self.innovation_var / self.gamma0)
        return out / np.sqrt(self.innovation_var)


def working(family: str, X: np.ndarray, y: np.ndarray, off: np.ndarray, dispersion: float,
            beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Square-root Fisher weights (m,) and Pearson residuals (m,) at ``beta``: the quantities whitened."""
    eta = X @ beta + off
    fam = FAMILY_MODELS.get(family)
    if fam.gaussian:
        return np.ones(len(y)), fam.transform(y) - eta
    mu = np.exp(np.clip(eta, -30.0, 30.0))
    return mu / nb_sd(mu, dispersion), pearson(y, mu, dispersion)


def objective(family: str, X: np.ndarray, y: np.ndarray, off: np.ndarray, dispersion: float, whitener: Whitener,
              beta0: np.ndarray | None = None, tol: float = est.TOL, maxit: int = 100) -> tuple[float, np.ndarray]:
    """GLS coefficients (p,) of the design ``X`` (m × p) and the whitened objective ``Σ ε²`` there.

    Gaussian families: one least-squares solve on the whitened data.  Count families: whitened Fisher scoring
    from ``beta0`` (default: the independence fit) until the step's decrement ``Δβᵀ ZᵀZ Δβ``, or the next one
    extrapolated from the last two (``_estimate.converged``), is at most ``tol·(m + 0.1)``; ``dispersion`` (0 for
    Poisson and quasi-Poisson) stays fixed.
    """
    fam = FAMILY_MODELS.get(family)
    a = fam.nb(dispersion)
    if fam.gaussian:
        Z, r = whitener.apply(X), whitener.apply(fam.transform(y) - off)
        beta = np.linalg.lstsq(Z, r, rcond=None)[0]
        resid = r - Z @ beta
        return float(resid @ resid), beta
    beta = est.irls(X, y, off, a) if beta0 is None else np.array(beta0, dtype=float)
    limit = tol * (len(y) + 0.1)
    p = X.shape[1]
    stacked = np.empty((len(y), p + 1))
    decrement = np.inf
    for _ in range(maxit):
        sw, stacked[:, p] = working(family, X, y, off, a, beta)
        np.multiply(sw[:, None], X, out=stacked[:, :p])
        W = whitener.apply(stacked)  # whitened design and whitened residuals in one pass of the filter
        Z = W[:, :p]
        score = Z.T @ W[:, p]
        step = est.solve_spd(Z.T @ Z, score)
        beta = beta + step
        decrement, previous = float(step @ score), decrement
        if est.converged(decrement, previous, limit):
            break
    eps = whitener.apply(working(family, X, y, off, a, beta)[1])
    return float(eps @ eps), beta


def final_fit(family: str, X: np.ndarray, y: np.ndarray, off: np.ndarray, dispersion: float, whitener: Whitener,
              beta0: np.ndarray | None) -> est.Estimate:
    """The GLS fit of the final design, its last step solved by statsmodels ``OLS`` on the whitened problem.

    Returns an ``Estimate`` whose ``scale`` and ``loglik`` are those of the family at the GLS coefficients
    (unwhitened residuals), so fits with different error models stay comparable.
    """
    import statsmodels.api as sm

    _, beta = objective(family, X, y, off, dispersion, whitener, beta0)
    a = FAMILY_MODELS.get(family).nb(dispersion)
    sw, pearson = working(family, X, y, off, a, beta)
    Z = whitener.apply(sw[:, None] * X)
    beta = beta + np.asarray(sm.OLS(whitener.apply(pearson), Z).fit().params)  # the step from the fixed point
    return est.estimate_at(family, X, y, off, dispersion, beta)


class LinearisedProfile:
    """The GLS objective of one decay rate, linearised at the fitted means ``mu0``: cheap to evaluate.

    With the square-root weights ``w0`` and working response ``z0`` of the fit at ``mu0`` (Fisher scoring's
    linearisation), the objective at decay rate δ is the whitened least-squares residual
    ``min ‖L w0 (z0 - X_other b - c(δ) ω)‖²`` over all other coefficients: the other columns are whitened and
    projected out once (QR), so each δ costs one filtered column.  At a GLS solution the linearised and the
    exact objectives agree in value and in slope, so a decay rate that minimises the linearised profile at its
    own fit solves the GLS (GEE) estimating equation for δ; Gaussian families are linear, so it is exact.
    """

    def __init__(self, family: str, X_other: np.ndarray, y: np.ndarray, off: np.ndarray, dispersion: float,
                 whitener: Whitener, eta0: np.ndarray) -> None:
        fam = FAMILY_MODELS.get(family)
        if fam.gaussian:
            self.w0, response = np.ones(len(y)), fam.transform(y) - off
        else:
            mu0 = np.exp(np.clip(eta0, -30.0, 30.0))
            self.w0 = mu0 / nb_sd(mu0, fam.nb(dispersion))
            response = eta0 - off + (y - mu0) / mu0
        self.whitener = whitener
        self.basis = np.linalg.qr(whitener.apply(self.w0[:, None] * X_other))[0]
        u = whitener.apply(self.w0 * response)
        self.u_res = u - self.basis @ (self.basis.T @ u)

    def value(self, column: np.ndarray) -> float:
        """The objective with ``column`` (m,) as the varied event column."""
        c = self.whitener.apply(self.w0 * column)
        c_res = c - self.basis @ (self.basis.T @ c)
        cc = float(c_res @ c_res)
        fit = float(c_res @ self.u_res) ** 2 / cc if cc > 1e-300 else 0.0
        return float(self.u_res @ self.u_res) - fit

"""Point estimation for ITS fits: one log-link model per family, with decay rates profiled out.

Families (a log link, so event coefficients are log rate ratios, except for shares):

* ``gaussian-log``: least squares on ``log(y)``; the counterfactual mean is ``exp(η + σ²/2)``.
* ``gaussian-logit``: least squares on ``logit(y)`` for shares in (0, 1) (percentages are divided by 100), so
  event coefficients are log odds ratios; the counterfactual is ``expit(η)``.
* ``poisson`` and ``quasipoisson``: Poisson GLM (the same estimates; quasi-Poisson scales the model-based
  covariance by the Pearson dispersion).
* ``negbin``: NB2 GLM, ``Var(y) = μ + α μ²``, with α estimated by the Pearson moment equation
  ``Σ (y-μ)²/(μ(1+αμ)) = n - p`` (statsmodels' GLM would otherwise fix α = 1).

The final coefficients come from statsmodels (``OLS`` or ``GLM``); a small numpy IRLS is used only inside the
decay-rate profile, where hundreds of refits are needed, and the two agree to numerical precision.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy.linalg import lapack

from spamits.its.families import FAMILY_MODELS, Family, nb_loglik, poisson_loglik

MU_FLOOR = float(np.exp(-30.0))  # the smallest mean of a count fit (linear predictor clipped at -30)
TOL = 1e-10  # convergence of the count-family refits: Newton decrement at most TOL·(rows + 0.1)
_posv = lapack.get_lapack_funcs("posv", dtype=np.float64)  # Cholesky solve without scipy's input checks


@dataclass(frozen=True)
class Estimate:
    """Coefficients and family quantities of one fit on the observed rows."""

    beta: np.ndarray  # (p,)
    eta: np.ndarray  # (n_obs,) linear predictor, offset included
    scale: float  # σ² for gaussian-log, Pearson dispersion for quasipoisson, else 1
    dispersion: float  # NB2 dispersion α (0 unless negbin)
    loglik: float


def irls(X: np.ndarray, y: np.ndarray, off: np.ndarray, dispersion: float = 0.0,
         beta0: np.ndarray | None = None, tol: float = TOL, maxit: int = 100) -> np.ndarray:
    """Poisson (``dispersion=0``) or NB2 log-link GLM of the design ``X`` (n × p) by Fisher scoring (IRLS).

    Starts from ``beta0`` (default: least squares of ``log(y + 0.5)``) and stops once the last step's Newton
    decrement ``Δβᵀ (XᵀWX) Δβ`` (the deviance the step gained, to second order), or the next one extrapolated
    from the last two (:func:`converged`), is at most ``tol·(n + 0.1)``.
    Returns the coefficients (p,).
    """
    Xt = np.ascontiguousarray(X.T)
    beta = solve_spd(Xt @ X, Xt @ (np.log(y + 0.5) - off)) if beta0 is None else np.array(beta0, dtype=float)
    limit = tol * (len(y) + 0.1)
    decrement = np.inf
    for _ in range(maxit):
        mu = np.exp(np.clip(beta @ Xt + off, -30.0, 30.0))
        Xw = Xt * (mu / (1.0 + dispersion * mu))
        score = Xw @ ((y - mu) / mu)
        step = solve_spd(Xw @ X, score)
        beta += step
        decrement, previous = float(step @ score), decrement
        if converged(decrement, previous, limit):
            break
    return beta


def converged(decrement: float, previous: float, limit: float) -> bool:
    """Stop rule of the scoring iterations: the last Newton decrement, or the next one extrapolated from the
    last two (``decrement² / previous``: scoring converges at least linearly), is at most ``limit``."""
    return decrement <= limit or (previous < np.inf and decrement * decrement <= limit * previous)


def solve_spd(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solution of ``A x = b`` for a symmetric positive definite A (Cholesky); least squares if it is not."""
    c, x, info = _posv(A, b)
    if info == 0:
        return x
    return np.linalg.lstsq(A, b, rcond=None)[0]


def deviance(y: np.ndarray, mu: np.ndarray, dispersion: float) -> np.ndarray:
    """Poisson (``dispersion=0``) or NB2 deviance of each row of ``mu`` (..., n) against ``y`` (n,)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ylog = np.where(y > 0, y * np.log(y / mu), 0.0)
    if dispersion <= 0:
        return 2 * np.sum(ylog - (y - mu), axis=-1)
    inv = 1.0 / dispersion
    return 2 * np.sum(ylog - (y + inv) * np.log((1 + dispersion * y) / (1 + dispersion * mu)), axis=-1)


def dispersion_moment(y: np.ndarray, mu: np.ndarray, p: int) -> float:
    """NB2 dispersion α solving the Pearson moment equation; 0 when the data are not over-dispersed.

    ``mu`` is floored at exp(-30), the bound the fits clip the linear predictor to, so a run of zeros (a
    complete takedown, whose fitted mean underflows) cannot turn the equation into 0/0.
    """
    df = max(len(y) - p, 1)
    mu = np.maximum(mu, MU_FLOOR)

    def excess(a: float) -> float:
        return float(np.sum((y - mu) ** 2 / (mu * (1 + a * mu))) - df)

    if excess(0.0) <= 0:
        return 0.0
    hi = 1.0
    while excess(hi) > 0 and hi < 1e6:
        hi *= 10
    return float(optimize.brentq(excess, 0.0, hi, xtol=1e-12))


def objective(family: str, X: np.ndarray, y: np.ndarray, off: np.ndarray, dispersion: float,
              beta0: np.ndarray | None = None, tol: float = TOL) -> tuple[float, np.ndarray]:
    """Profile objective (to minimise) and coefficients for a fixed design: RSS or deviance."""
    fam = FAMILY_MODELS.get(family)
    if fam.gaussian:
        z = fam.transform(y) - off
        beta = np.linalg.lstsq(X, z, rcond=None)[0]
        return float(np.sum((z - X @ beta) ** 2)), beta
    a = fam.nb(dispersion)
    beta = irls(X, y, off, a, beta0, tol)
    return float(deviance(y, np.exp(np.clip(X @ beta + off, -30.0, 30.0)), a)), beta


def final_fit(family: str, X: np.ndarray, y: np.ndarray, off: np.ndarray, dispersion: float,
              start: np.ndarray | None = None) -> Estimate:
    """Fit the final design with statsmodels and return coefficients and family quantities.

    ``start``: starting coefficients for the count families (e.g. from ``irls``); statsmodels iterates from
    there to its own convergence, so the result does not depend on it beyond the tolerance.
    """
    import statsmodels.api as sm

    fam = FAMILY_MODELS.get(family)
    if fam.gaussian:
        beta = np.asarray(sm.OLS(fam.transform(y) - off, X).fit().params)
    else:
        a = fam.nb(dispersion)
        sm_family = sm.families.NegativeBinomial(alpha=a) if a > 0 else sm.families.Poisson()
        res = sm.GLM(y, X, family=sm_family, offset=off).fit(start_params=start, tol=1e-10, maxiter=100)
        beta = np.asarray(res.params)
    return estimate_at(family, X, y, off, dispersion, beta)


def estimate_at(family: str, X: np.ndarray, y: np.ndarray, off: np.ndarray, dispersion: float,
                beta: np.ndarray) -> Estimate:
    """Family quantities at the coefficients ``beta``: scale and the log-likelihood under independence.

    ``scale``: σ² of the link-scale residuals (Gaussian families, n - p degrees of freedom), the Pearson
    dispersion (quasi-Poisson) or 1.  ``loglik``: Gaussian with the maximum-likelihood σ² (of ``transform(y)``),
    Poisson (Poisson and quasi-Poisson) or NB2 at ``dispersion``.
    """
    fam: Family = FAMILY_MODELS.get(family)
    n, p = X.shape
    eta = X @ beta + off
    if fam.gaussian:
        resid = fam.transform(y) - eta
        rss = float(resid @ resid)
        loglik = -0.5 * n * (np.log(2 * np.pi * rss / n) + 1)
        return Estimate(beta, eta, rss / max(n - p, 1), 0.0, float(loglik))
    eta = np.clip(eta, -30.0, 30.0)  # as the fits clip it: a complete takedown's mean underflows otherwise
    mu = np.exp(eta)
    scale = float(np.sum((y - mu) ** 2 / mu) / max(n - p, 1)) if fam.pearson_scale else 1.0
    a = fam.nb(dispersion)
    loglik = nb_loglik(y, mu, a) if a > 0 else poisson_loglik(y, mu)
    return Estimate(beta, eta, scale, a, float(loglik))

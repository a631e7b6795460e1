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

from spamits.errors import ModelSpecError

FAMILIES = ("gaussian-log", "gaussian-logit", "poisson", "quasipoisson", "negbin")
GAUSSIAN = ("gaussian-log", "gaussian-logit")
MU_FLOOR = float(np.exp(-30.0))  # the smallest mean of a count fit (linear predictor clipped at -30)
TOL = 1e-10  # convergence of the count-family refits: Newton decrement at most TOL·(rows + 0.1)
_posv = lapack.get_lapack_funcs("posv", dtype=np.float64)  # Cholesky solve without scipy's input checks


def transform(family: str, y: np.ndarray) -> np.ndarray:
    """The working response of a Gaussian family: log y or logit y."""
    return np.log(y) if family == "gaussian-log" else np.log(y / (1 - y))


def inverse_link(family: str, eta: np.ndarray) -> np.ndarray:
    """exp for the log-link families, expit for gaussian-logit."""
    if family == "gaussian-logit":
        return 1.0 / (1.0 + np.exp(-eta))
    return np.exp(eta)


@dataclass(frozen=True)
class Estimate:
    """Coefficients and family quantities of one fit on the observed rows."""

    beta: np.ndarray  # (p,)
    eta: np.ndarray  # (n_obs,) linear predictor, offset included
    scale: float  # σ² for gaussian-log, Pearson dispersion for quasipoisson, else 1
    nb_alpha: float  # NB2 dispersion α (0 unless negbin)
    loglik: float


def check_family(family: str, y: np.ndarray) -> None:
    if family not in FAMILIES:
        raise ModelSpecError(f"family={family!r}: must be one of {', '.join(repr(f) for f in FAMILIES)}")
    if family == "gaussian-log" and np.any(y <= 0):
        raise ModelSpecError("family='gaussian-log' needs y > 0 on every day (it models log y); the series has "
                             f"{int(np.sum(y <= 0))} zero or negative values: use 'negbin' or 'quasipoisson'")
    if family == "gaussian-logit" and np.any((y <= 0) | (y >= 1)):
        raise ModelSpecError("family='gaussian-logit' needs shares strictly between 0 and 1 (or percentages "
                             "strictly between 0 and 100); the series has values at or beyond the bounds")


def irls(X: np.ndarray, y: np.ndarray, off: np.ndarray, nb_alpha: float = 0.0,
         beta0: np.ndarray | None = None, tol: float = TOL, maxit: int = 100) -> np.ndarray:
    """Poisson (``nb_alpha=0``) or NB2 log-link GLM of the design ``X`` (n × p) by Fisher scoring (IRLS).

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
        Xw = Xt * (mu / (1.0 + nb_alpha * mu))
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


def deviance(y: np.ndarray, mu: np.ndarray, nb_alpha: float) -> np.ndarray:
    """Poisson (``nb_alpha=0``) or NB2 deviance of each row of ``mu`` (..., n) against ``y`` (n,)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ylog = np.where(y > 0, y * np.log(y / mu), 0.0)
    if nb_alpha <= 0:
        return 2 * np.sum(ylog - (y - mu), axis=-1)
    inv = 1.0 / nb_alpha
    return 2 * np.sum(ylog - (y + inv) * np.log((1 + nb_alpha * y) / (1 + nb_alpha * mu)), axis=-1)


def nb_alpha_moment(y: np.ndarray, mu: np.ndarray, p: int) -> float:
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


def objective(family: str, X: np.ndarray, y: np.ndarray, off: np.ndarray, nb_alpha: float,
              beta0: np.ndarray | None = None, tol: float = TOL) -> tuple[float, np.ndarray]:
    """Profile objective (to minimise) and coefficients for a fixed design: RSS or deviance."""
    if family in GAUSSIAN:
        z = transform(family, y) - off
        beta = np.linalg.lstsq(X, z, rcond=None)[0]
        return float(np.sum((z - X @ beta) ** 2)), beta
    a = nb_alpha if family == "negbin" else 0.0
    beta = irls(X, y, off, a, beta0, tol)
    return float(deviance(y, np.exp(np.clip(X @ beta + off, -30.0, 30.0)), a)), beta


def final_fit(family: str, X: np.ndarray, y: np.ndarray, off: np.ndarray, nb_alpha: float,
              start: np.ndarray | None = None) -> Estimate:
    """Fit the final design with statsmodels and return coefficients and family quantities.

    ``start``: starting coefficients for the count families (e.g. from ``irls``); statsmodels iterates from
    there to its own convergence, so the result does not depend on it beyond the tolerance.
    """
    import statsmodels.api as sm

    if family in GAUSSIAN:
        beta = np.asarray(sm.OLS(transform(family, y) - off, X).fit().params)
    else:
        fam = (sm.families.NegativeBinomial(alpha=nb_alpha) if family == "negbin" and nb_alpha > 0
               else sm.families.Poisson())
        res = sm.GLM(y, X, family=fam, offset=off).fit(start_params=start, tol=1e-10, maxiter=100)
        beta = np.asarray(res.params)
    return estimate_at(family, X, y, off, nb_alpha, beta)


def estimate_at(family: str, X: np.ndarray, y: np.ndarray, off: np.ndarray, nb_alpha: float,
                beta: np.ndarray) -> Estimate:
    """Family quantities at the coefficients ``beta``: scale and the log-likelihood under independence.

    ``scale``: σ² of the link-scale residuals (Gaussian families, n - p degrees of freedom), the Pearson
    dispersion (quasi-Poisson) or 1.  ``loglik``: Gaussian with the maximum-likelihood σ² (of ``transform(y)``),
    Poisson (Poisson and quasi-Poisson) or NB2 at ``nb_alpha``.
    """
    from scipy import special

    n, p = X.shape
    eta = X @ beta + off
    if family in GAUSSIAN:
        resid = transform(family, y) - eta
        rss = float(resid @ resid)
        loglik = -0.5 * n * (np.log(2 * np.pi * rss / n) + 1)
        return Estimate(beta, eta, rss / max(n - p, 1), 0.0, float(loglik))
    eta = np.clip(eta, -30.0, 30.0)  # as the fits clip it: a complete takedown's mean underflows otherwise
    mu = np.exp(eta)
    scale = float(np.sum((y - mu) ** 2 / mu) / max(n - p, 1)) if family == "quasipoisson" else 1.0
    a = nb_alpha if family == "negbin" else 0.0
    if a > 0:
        r = 1.0 / a
        loglik = np.sum(special.gammaln(y + r) - special.gammaln(r) - special.gammaln(y + 1)
                        + r * np.log(r / (r + mu)) + y * np.log(mu / (r + mu)))
    else:
        loglik = np.sum(y * np.log(mu) - mu - special.gammaln(y + 1))
    return Estimate(beta, eta, scale, a, float(loglik))

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

from spamits.errors import ModelSpecError

FAMILIES = ("gaussian-log", "gaussian-logit", "poisson", "quasipoisson", "negbin")
GAUSSIAN = ("gaussian-log", "gaussian-logit")


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


def _wls(X: np.ndarray, z: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least squares by the normal equations (p is small); falls back to lstsq if singular."""
    Xw = X * w[:, None]
    try:
        return np.linalg.solve(Xw.T @ X, Xw.T @ z)
    except np.linalg.LinAlgError:
        sw = np.sqrt(w)
        return np.linalg.lstsq(X * sw[:, None], z * sw, rcond=None)[0]


def irls(X: np.ndarray, y: np.ndarray, off: np.ndarray, nb_alpha: float = 0.0,
         beta0: np.ndarray | None = None, tol: float = 1e-10, maxit: int = 100) -> np.ndarray:
    """Poisson (``nb_alpha=0``) or NB2 log-link GLM by iteratively reweighted least squares."""
    if beta0 is None:
        beta = _wls(X, np.log(y + 0.5) - off, np.ones(len(y)))
    else:
        beta = beta0
    dev_old = np.inf
    for _ in range(maxit):
        eta = np.clip(X @ beta + off, -30, 30)
        mu = np.exp(eta)
        w = mu / (1.0 + nb_alpha * mu)
        z = eta - off + (y - mu) / mu
        beta = _wls(X, z, w)
        dev = _deviance(y, np.exp(np.clip(X @ beta + off, -30, 30)), nb_alpha)
        if abs(dev_old - dev) <= tol * (abs(dev) + 0.1):
            break
        dev_old = dev
    return beta


def _deviance(y: np.ndarray, mu: np.ndarray, nb_alpha: float) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        ylog = np.where(y > 0, y * np.log(y / mu), 0.0)
    if nb_alpha <= 0:
        return float(2 * np.sum(ylog - (y - mu)))
    inv = 1.0 / nb_alpha
    return float(2 * np.sum(ylog - (y + inv) * np.log((1 + nb_alpha * y) / (1 + nb_alpha * mu))))


def nb_alpha_moment(y: np.ndarray, mu: np.ndarray, p: int) -> float:
    """NB2 dispersion α solving the Pearson moment equation; 0 when the data are not over-dispersed."""
    df = max(len(y) - p, 1)

    def excess(a: float) -> float:
        return float(np.sum((y - mu) ** 2 / (mu * (1 + a * mu))) - df)

    if excess(0.0) <= 0:
        return 0.0
    hi = 1.0
    while excess(hi) > 0 and hi < 1e6:
        hi *= 10
    return float(optimize.brentq(excess, 0.0, hi, xtol=1e-12))


def objective(family: str, X: np.ndarray, y: np.ndarray, off: np.ndarray, nb_alpha: float,
              beta0: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """Profile objective (to minimise) and coefficients for a fixed design: RSS or deviance."""
    if family in GAUSSIAN:
        z = transform(family, y) - off
        beta = np.linalg.lstsq(X, z, rcond=None)[0]
        return float(np.sum((z - X @ beta) ** 2)), beta
    beta = irls(X, y, off, nb_alpha if family == "negbin" else 0.0, beta0)
    mu = np.exp(np.clip(X @ beta + off, -30, 30))
    return _deviance(y, mu, nb_alpha if family == "negbin" else 0.0), beta


def final_fit(family: str, X: np.ndarray, y: np.ndarray, off: np.ndarray, nb_alpha: float) -> Estimate:
    """Fit the final design with statsmodels and return coefficients and family quantities."""
    import statsmodels.api as sm

    n, p = X.shape
    if family in GAUSSIAN:
        z = transform(family, y) - off
        res = sm.OLS(z, X).fit()
        beta = np.asarray(res.params)
        resid = z - X @ beta
        scale = float(resid @ resid / max(n - p, 1))
        return Estimate(beta, X @ beta + off, scale, 0.0, float(res.llf))
    fam = (sm.families.NegativeBinomial(alpha=nb_alpha) if family == "negbin" and nb_alpha > 0
           else sm.families.Poisson())
    res = sm.GLM(y, X, family=fam, offset=off).fit(tol=1e-10, maxiter=100)
    beta = np.asarray(res.params)
    eta = X @ beta + off
    mu = np.exp(eta)
    scale = 1.0
    if family == "quasipoisson":
        scale = float(np.sum((y - mu) ** 2 / mu) / max(n - p, 1))
    return Estimate(beta, eta, scale, nb_alpha if family == "negbin" else 0.0, float(res.llf))


def minimise_scalar(fun, lo: float, hi: float, grid: int = 14) -> float:
    """Global-then-local minimisation of a 1-D function on [lo, hi]: a grid, then bounded Brent."""
    xs = np.linspace(lo, hi, grid)
    vals = np.array([fun(x) for x in xs])
    i = int(np.argmin(vals))
    a, b = xs[max(i - 1, 0)], xs[min(i + 1, grid - 1)]
    if a == b:
        return float(xs[i])
    res = optimize.minimize_scalar(fun, bounds=(a, b), method="bounded", options={"xatol": 1e-3})
    return float(res.x if res.fun <= vals[i] else xs[i])

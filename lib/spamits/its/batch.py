"""Batched ITS refits: one shared baseline design, a different set of event columns per candidate date.

``spamits.robust`` refits the same model at hundreds of dates (placebo dates, candidate break dates).  The
designs differ only in their event columns, so all refits are solved together:

* each step assembles the normal equations of every date from products with the shared baseline ``B`` (the
  baseline block ``Bᵀ W B`` is one product of the weights with the column products of ``B``; the first step,
  from a start common to all dates, and the Gaussian solve share one set of weights) and solves them as a
  stack of ``(D, p, p)`` systems.  Products are stacks of small per-date products, which BLAS runs on one
  thread: on a busy machine a multi-threaded call waits for its threads longer than the product takes;
* count families: Newton's method for the same maximum-likelihood estimates as ``spamits.its`` (Poisson, and
  for ``negbin`` the same two-step moment estimate of the NB2 dispersion α, a vectorised Newton iteration on
  log α); Gaussian families: one stacked least-squares solve;
* the coefficient covariance is ``spamits.its._covariance.covariance_stack``, the code ``its.fit`` runs for
  its one fit, for the primary coefficient only: model-based (``iid``), Newey-West (``hac``) or the
  AR(1)+white-noise sandwich (``ar1-sandwich``, whose seeded bias correction simulates the same series for
  every date and projects them off the baseline and each date's own columns).  ``its.fit``'s default
  ``errors="ar1"`` (feasible GLS) is not batched; ``spamits.robust`` runs it as ``ar1-sandwich``.

The results agree with ``spamits.its.fit`` at each date to numerical precision (see ``tests/test_robust.py``).
Shapes: ``D`` dates, ``m`` observed rows, ``p0`` baseline columns, ``k`` event columns, ``p = p0 + k``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spamits.its import _covariance as cov_mod
from spamits.its.families import FAMILY_MODELS, pearson

MAXIT = 100
TOL = 1e-9  # relative error of every coefficient; tighter stalls on rounding with slope columns
QUADRATIC = np.sqrt(TOL / 10)  # Newton: after a step smaller than this the error is below TOL (see _irls)


@dataclass(frozen=True)
class BatchFit:
    """Coefficients and family quantities of D fits on the same observed rows."""

    beta: np.ndarray  # (D, p)
    eta: np.ndarray  # (D, m) linear predictor, offset included
    scale: np.ndarray  # (D,) σ² (Gaussian), Pearson dispersion (quasipoisson) or 1
    dispersion: np.ndarray  # (D,) NB2 dispersion (0 unless negbin)
    weights: np.ndarray  # (D, m) Fisher weights
    pearson: np.ndarray  # (D, m) Pearson residuals (Gaussian: residuals on the link scale)


@dataclass(frozen=True)
class _Designs:
    """The designs ``[B, E_d]`` of every date: shared baseline ``B`` (m, p0), event columns ``E`` (D, m, k)."""

    B: np.ndarray
    E: np.ndarray
    BT: np.ndarray  # (p0 + 1, m): B's columns and the offset as rows
    products: np.ndarray  # column products of B, for the Gram matrices

    @classmethod
    def of(cls, B: np.ndarray, E: np.ndarray, off: np.ndarray) -> _Designs:
        return cls(B, E, np.vstack([B.T, off]), cov_mod.base_products(B))

    def linear(self, beta: np.ndarray, offset: bool = True) -> np.ndarray:
        """``X_d β_d`` (plus the offset) for every d: (D, m)."""
        p0 = self.B.shape[1]
        coef = np.empty((beta.shape[0], 1, p0 + 1))
        coef[:, 0, :p0] = beta[:, :p0]
        coef[:, 0, p0] = 1.0 if offset else 0.0
        out = (coef @ self.BT)[:, 0]
        for a in range(self.E.shape[2]):
            out += self.E[:, :, a] * beta[:, p0 + a, None]
        return out

    def solve(self, W: np.ndarray, WZ: np.ndarray) -> np.ndarray:
        """Weighted least squares on ``[B, E_d]`` with weights W for every d, given the weighted response
        ``WZ = W·Z``: the coefficients (D, p).  W and WZ are (D, m), or (m,) when the same for every d (a
        common start, Gaussian families), which makes the baseline blocks one product for all."""
        p0 = self.B.shape[1]
        A = cov_mod.weighted_gram(self.B, self.E, W, self.products)
        WZ = WZ[..., None, :]
        rhs = np.empty(A.shape[:2] + (1,))
        rhs[:, :p0, 0] = (WZ @ self.B)[..., 0, :]
        rhs[:, p0:, 0] = (WZ @ self.E)[:, 0]
        try:
            return np.linalg.solve(A, rhs)[:, :, 0]
        except np.linalg.LinAlgError:
            return (np.linalg.pinv(A) @ rhs)[:, :, 0]


def fit_batch(family: str, B: np.ndarray, E: np.ndarray, yv: np.ndarray, off: np.ndarray) -> BatchFit:
    """Fit ``family`` to ``yv`` (m,) on designs ``[B, E_d]`` (E: (D, m, k)) for every d, as ``its.fit`` would."""
    D, m, k = E.shape
    X = _Designs.of(B, E, off)
    p = B.shape[1] + k
    fam = FAMILY_MODELS.get(family)
    if fam.gaussian:
        z = fam.transform(yv) - off
        beta = X.solve(np.ones(m), z)  # W = 1: WZ = z
        lin = X.linear(beta, offset=False)
        resid = z - lin
        scale = np.sum(resid**2, axis=1) / max(m - p, 1)
        return BatchFit(beta, lin + off, scale, np.zeros(D), np.ones((D, m)), resid)
    start = np.linalg.lstsq(B, np.log(yv + 0.5) - off, rcond=None)[0]
    beta = np.concatenate([np.tile(start, (D, 1)), np.zeros((D, k))], axis=1)
    alpha = np.zeros(D)
    eta = np.clip(B @ start + off, -30.0, 30.0)  # the same for every date: the first step shares its weights
    beta, eta, mu = _irls(X, yv, off, alpha, beta, eta, np.exp(eta))
    if fam.has_dispersion:
        for _ in range(2):  # as in its.fit: α from the Poisson fit, refit, α again, final refit
            alpha = dispersion_moment(yv, mu, p, start=alpha)
            beta, eta, mu = _irls(X, yv, off, alpha, beta, eta, mu)
    var = mu * (1 + alpha[:, None] * mu)
    scale = np.ones(D)
    if fam.pearson_scale:
        scale = np.sum((yv - mu) ** 2 / mu, axis=1) / max(m - p, 1)
    return BatchFit(beta, eta, scale, alpha, mu**2 / var, pearson(yv, mu, alpha[:, None]))


def _eta(X: _Designs, beta: np.ndarray, off: np.ndarray) -> np.ndarray:
    """The linear predictor with offset, clipped to [-30, 30] as ``spamits.its`` clips it."""
    eta = X.linear(beta)
    if eta.max() > 30.0 or eta.min() < -30.0:
        np.clip(eta, -30.0, 30.0, out=eta)
    return eta


def _irls(X: _Designs, yv: np.ndarray, off: np.ndarray, alpha: np.ndarray, beta: np.ndarray, eta: np.ndarray,
          mu: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maximum likelihood of the log-link NB2 model (α = 0: Poisson) for every date at once, from ``beta`` (with
    its ``eta`` and ``mu``, (D, m) or (m,) if the same for every date), by Newton's method until the relative
    error of every coefficient is below TOL; returns the coefficients with their ``eta`` and ``mu`` (D, m).

    Each step is a weighted least-squares solve with the observed information ``W = μ(1+αy)/(1+αμ)²`` and the
    working response ``η - offset + s/W``, ``s = (y-μ)/(1+αμ)`` the score (for Poisson: IRLS, W = μ).  It
    converges to the same estimate as the Fisher scoring of ``its.fit`` (the root of the score equations),
    quadratically: the error after a step of relative size δ is about C·δ² with C below 1 here, so the loop
    stops after a step smaller than ``QUADRATIC`` = √(TOL/10) instead of taking one more step to see it.
    """
    a = alpha[:, None]
    nb = bool(np.any(alpha))
    ay = 1.0 + a * yv if nb else None
    for _ in range(MAXIT):
        if nb:
            den = 1.0 + a * mu
            score = (yv - mu) / den
            W = mu * ay
            W /= den
            W /= den
        else:
            score, W = yv - mu, mu
        WZ = W * (eta - off)
        WZ += score
        new = X.solve(W, WZ)
        change = np.max(np.abs(new - beta) / (1.0 + np.abs(new)))
        beta = new
        eta = _eta(X, beta, off)
        mu = np.exp(eta)
        if change < QUADRATIC:
            break
    return beta, eta, mu


def dispersion_moment(yv: np.ndarray, mu: np.ndarray, p: int, start: np.ndarray | None = None) -> np.ndarray:
    """Per row of ``mu`` (D, m): α solving ``g(α) = Σ (y-μ)²/(μ(1+αμ)) = m - p``, 0 without over-dispersion.

    Newton's method on ``log g`` against ``log α``, which is close to a straight line (g falls like 1/α once
    αμ >> 1), from ``start`` (e.g. the previous estimate) or from one Newton step on g from 0; it stops at
    relative change 1e-13 (``spamits.its`` uses Brent with xtol 1e-12).
    """
    df = max(mu.shape[1] - p, 1)
    r2 = (yv - mu) ** 2 / mu
    total = np.sum(r2, axis=1)
    active = total > df
    a = np.zeros(len(total)) if start is None else np.asarray(start, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(a > 0, a, (total - df) / np.sum(r2 * mu, axis=1))
    a = np.where(active & (a > 0), a, 1.0)  # rows without over-dispersion: any positive value, 0 at the end
    for _ in range(100):
        den = 1.0 + a[:, None] * mu
        q = r2 / den
        g = np.sum(q, axis=1)
        slope = a * np.sum(q * mu / den, axis=1) / g  # -d log g / d log α
        new = a * np.exp((np.log(g) - np.log(df)) / slope)
        done = np.all(np.abs(new - a)[active] <= 1e-13 * new[active])
        a = new
        if done:
            break
    return np.where(active, a, 0.0)


# --- covariance ---------------------------------------------------------------------------------------------


def covariance(cov_type: str, B: np.ndarray, E: np.ndarray, fit: BatchFit, pos: np.ndarray,
               keep: list[int] | None = None) -> np.ndarray:
    """Covariances (D, q, q) of the coefficients ``keep`` (default all), as ``its.fit`` computes them per date.

    ``B`` (m, p0) is the shared baseline and ``E`` (D, m, k) each date's own columns (event columns and any
    linearised decay column).  This is ``spamits.its._covariance.covariance_stack``, the code ``its.fit``
    runs with one fit; the AR bias correction projects the simulated series off the baseline once and off
    each date's own columns by a rank-k update.
    """
    return cov_mod.covariance_stack(cov_type, B, E, fit.weights, fit.pearson, pos, fit.scale, keep)[0]

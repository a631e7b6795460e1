"""Batched ITS refits: one shared baseline design, a different set of event columns per candidate date.

``spamits.robust`` refits the same model at hundreds of dates (placebo dates, candidate break dates).  The
designs differ only in their event columns, so all refits are solved together:

* the normal equations of every date are assembled from matrix products shared by all dates (the baseline
  block ``Bᵀ W B`` is one ``(D × m) @ (m × p0²)`` product) and solved as a stack of ``(D, p, p)`` systems;
* count families run the same IRLS as ``spamits.its`` on all dates at once (and, for ``negbin``, the same
  two-step moment estimate of the NB2 dispersion α, with a vectorised Newton root); Gaussian families are one
  stacked least-squares solve;
* the coefficient covariance repeats ``spamits.its._covariance.covariance`` for every date: model-based
  (``iid``), Newey-West (``hac``, the same lag rule and Bartlett weights) or the AR(1)+white-noise sandwich
  (``ar1``, with the same seeded bias correction of the residual AR coefficient, vectorised over dates).

The results agree with ``spamits.its.fit`` at each date to numerical precision (see ``tests/test_robust.py``).
Shapes: ``D`` dates, ``m`` observed rows, ``p0`` baseline columns, ``k`` event columns, ``p = p0 + k``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spamits.its import _covariance as cov_mod
from spamits.its import _estimate as est

MAXIT = 100
TOL = 1e-9  # relative change of every coefficient; tighter stalls on rounding with slope columns
CHUNK = 128  # dates per chunk in the AR bias simulation (bounds memory to ~CHUNK·40·span doubles)


@dataclass(frozen=True)
class BatchFit:
    """Coefficients and family quantities of D fits on the same observed rows."""

    beta: np.ndarray  # (D, p)
    eta: np.ndarray  # (D, m) linear predictor, offset included
    scale: np.ndarray  # (D,) σ² (Gaussian), Pearson dispersion (quasipoisson) or 1
    nb_alpha: np.ndarray  # (D,) NB2 dispersion (0 unless negbin)
    weights: np.ndarray  # (D, m) Fisher weights
    pearson: np.ndarray  # (D, m) Pearson residuals (Gaussian: residuals on the link scale)


def design_stack(B: np.ndarray, E: np.ndarray) -> np.ndarray:
    """The full designs ``[B, E_d]`` as a (D, m, p) array."""
    D = E.shape[0]
    return np.concatenate([np.broadcast_to(B, (D,) + B.shape), E], axis=2)


def _solve(B: np.ndarray, BB: np.ndarray, E: np.ndarray, W: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """Weighted least squares of Z (D, m) on [B, E_d] with weights W (D, m) for every d; returns (D, p).

    ``E`` is given as (k, D, m) (one contiguous (D, m) slab per event column), so every block of the normal
    equations is a product with the shared baseline ``B`` or an elementwise sum.
    """
    k, D, _ = E.shape
    p0 = B.shape[1]
    A = np.empty((D, p0 + k, p0 + k))
    rhs = np.empty((D, p0 + k))
    A[:, :p0, :p0] = (W @ BB).reshape(D, p0, p0)
    rhs[:, :p0] = (W * Z) @ B
    for a in range(k):
        WEa = W * E[a]
        A[:, :p0, p0 + a] = A[:, p0 + a, :p0] = WEa @ B
        rhs[:, p0 + a] = np.einsum("dm,dm->d", WEa, Z)
        for b in range(k):
            A[:, p0 + a, p0 + b] = np.einsum("dm,dm->d", WEa, E[b])
    try:
        return np.linalg.solve(A, rhs[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:
        return (np.linalg.pinv(A) @ rhs[:, :, None])[:, :, 0]


def _linear(B: np.ndarray, E: np.ndarray, beta: np.ndarray) -> np.ndarray:
    p0 = B.shape[1]
    out = (B @ beta[:, :p0].T).T
    for a in range(E.shape[0]):
        out += E[a] * beta[:, p0 + a, None]
    return out


def fit_batch(family: str, B: np.ndarray, E: np.ndarray, yv: np.ndarray, off: np.ndarray) -> BatchFit:
    """Fit ``family`` to ``yv`` (m,) on designs ``[B, E_d]`` (E: (D, m, k)) for every d, as ``its.fit`` would."""
    D, m, k = E.shape
    E = np.ascontiguousarray(E.transpose(2, 0, 1))
    p = B.shape[1] + k
    BB = (B[:, :, None] * B[:, None, :]).reshape(m, -1)
    if family in est.GAUSSIAN:
        z = est.transform(family, yv) - off
        Z = np.broadcast_to(z, (D, m))
        beta = _solve(B, BB, E, np.ones((D, m)), Z)
        eta = _linear(B, E, beta) + off
        resid = z - (eta - off)
        scale = np.sum(resid**2, axis=1) / max(m - p, 1)
        return BatchFit(beta, eta, scale, np.zeros(D), np.ones((D, m)), resid)
    start = np.linalg.lstsq(B, np.log(yv + 0.5) - off, rcond=None)[0]
    beta = np.concatenate([np.tile(start, (D, 1)), np.zeros((D, k))], axis=1)
    alpha = np.zeros(D)
    beta = _irls(B, BB, E, yv, off, alpha, beta)
    if family == "negbin":
        for _ in range(2):  # as in its.fit: α from the Poisson fit, refit, α again, final refit
            alpha = nb_alpha_moment(yv, np.exp(_eta(B, E, beta, off)), p)
            beta = _irls(B, BB, E, yv, off, alpha, beta)
    eta = _eta(B, E, beta, off)
    mu = np.exp(eta)
    var = mu * (1 + alpha[:, None] * mu)
    scale = np.ones(D)
    if family == "quasipoisson":
        scale = np.sum((yv - mu) ** 2 / mu, axis=1) / max(m - p, 1)
    return BatchFit(beta, eta, scale, alpha, mu**2 / var, (yv - mu) / np.sqrt(var))


def _eta(B, E, beta, off) -> np.ndarray:
    return np.clip(_linear(B, E, beta) + off, -30, 30)


def _irls(B, BB, E, yv, off, alpha, beta) -> np.ndarray:
    """Log-link NB2 (α = 0: Poisson) IRLS for every date at once, from ``beta``, to relative |Δβ| < TOL."""
    for _ in range(MAXIT):
        eta = _eta(B, E, beta, off)
        mu = np.exp(eta)
        W = mu / (1.0 + alpha[:, None] * mu)
        Z = eta - off + (yv - mu) / mu
        new = _solve(B, BB, E, W, Z)
        change = np.max(np.abs(new - beta) / (1.0 + np.abs(new)))
        beta = new
        if change < TOL:
            break
    return beta


def nb_alpha_moment(yv: np.ndarray, mu: np.ndarray, p: int) -> np.ndarray:
    """Per row of ``mu`` (D, m): α solving ``Σ (y-μ)²/(μ(1+αμ)) = m - p``, 0 without over-dispersion.

    The left side is convex and decreasing in α, so Newton's method from α = 0 climbs to the root
    monotonically; it stops at relative change 1e-13 (``spamits.its`` uses Brent with xtol 1e-12).
    """
    df = max(mu.shape[1] - p, 1)
    r2 = (yv - mu) ** 2 / mu
    a = np.zeros(mu.shape[0])
    active = np.sum(r2, axis=1) > df
    for _ in range(200):
        den = 1.0 + a[:, None] * mu
        f = np.sum(r2 / den, axis=1) - df
        fp = -np.sum(r2 * mu / den**2, axis=1)
        step = np.where(active, -f / fp, 0.0)
        a = a + step
        if np.all(np.abs(step) <= 1e-13 * np.maximum(a, 1e-12)):
            break
    return np.where(active, a, 0.0)


# --- covariance ---------------------------------------------------------------------------------------------


def covariance(kind: str, X: np.ndarray, fit: BatchFit, pos: np.ndarray, p0: int) -> np.ndarray:
    """(D, p, p) covariances as ``spamits.its._covariance.covariance(kind, ...)`` gives for each date.

    ``X`` is (D, m, p): the designs of the observed rows (with any linearised decay column appended), whose
    first ``p0`` columns are the shared baseline.
    """
    D, m, p = X.shape
    Xw = X * np.sqrt(fit.weights)[:, :, None]
    bread = np.linalg.pinv(Xw.transpose(0, 2, 1) @ Xw)
    if kind == "iid":
        return fit.scale[:, None, None] * bread
    if kind == "hac":
        S = Xw * fit.pearson[:, :, None]
        meat = S.transpose(0, 2, 1) @ S
        if pos[-1] - pos[0] + 1 != m:  # gaps: rows on the full time grid, missing periods as zero rows
            full = np.zeros((D, int(pos[-1] - pos[0]) + 1, p))
            full[:, pos - pos[0]] = S
            S = full
        lags = cov_mod.nw_lags(m)
        for h in range(1, lags + 1):  # pairs of rows exactly h periods apart (as _covariance._lag_pairs)
            G = S[:, :-h].transpose(0, 2, 1) @ S[:, h:]
            meat += (1 - h / (lags + 1)) * (G + G.transpose(0, 2, 1))
    else:
        gamma0, ar_var, phi = residual_process(fit.pearson, pos, X, p0)
        meat = ar_quadratic_form(Xw, pos, gamma0, ar_var, phi)
    meat = meat * (m / max(m - p, 1))
    return bread @ meat @ bread


def _ar_filter(x: np.ndarray, phi: np.ndarray, axis: int) -> np.ndarray:
    """``y[t] = x[t] + φ_d·y[t-1]`` along ``axis`` of each x[d] (D, ...), one φ per d (scipy's lfilter)."""
    from scipy import signal

    out = np.empty_like(x)
    for d in range(x.shape[0]):
        out[d] = signal.lfilter([1.0], [1.0, -phi[d]], x[d], axis=axis)
    return out


def ar_quadratic_form(Z: np.ndarray, pos: np.ndarray, gamma0: np.ndarray, ar_var: np.ndarray,
                      phi: np.ndarray) -> np.ndarray:
    """``Zᵀ C Z`` (D, p, p) for each date's AR(1)+white-noise autocovariance (``_covariance.ar_quadratic_form``).

    With ``F`` the forward AR(1) filter, ``R = F + Fᵀ - I`` so ``Zᵀ R Z = G + Gᵀ - Zᵀ Z`` with ``G = Zᵀ F Z``.
    """
    D, _, p = Z.shape
    if pos[-1] - pos[0] + 1 != Z.shape[1]:
        full = np.zeros((D, int(pos[-1] - pos[0]) + 1, p))
        full[:, pos - pos[0]] = Z
        FZ = _ar_filter(full, phi, 0)[:, pos - pos[0]]
    else:
        FZ = _ar_filter(Z, phi, 0)
    ZtZ = Z.transpose(0, 2, 1) @ Z
    G = Z.transpose(0, 2, 1) @ FZ
    ZRZ = G + G.transpose(0, 2, 1) - ZtZ
    return (gamma0 - ar_var)[:, None, None] * ZtZ + ar_var[:, None, None] * ZRZ


def _autocov(e: np.ndarray, pos: np.ndarray, maxlag: int) -> np.ndarray:
    """``_covariance._autocov_gapped`` for any leading shape: lags 0..maxlag on the last axis."""
    m = e.shape[-1]
    if pos[-1] - pos[0] + 1 != m:
        full = np.zeros(e.shape[:-1] + (int(pos[-1] - pos[0]) + 1,))
        full[..., pos - pos[0]] = e
        e = full
    n = e.shape[-1]
    return np.stack([np.einsum("...t,...t->...", e[..., : n - h], e[..., h:]) for h in range(maxlag + 1)],
                    axis=-1) / m


def _process_from_autocov(g: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised ``_covariance._process_from_autocov``: (γ0, ρ1, φ) from autocovariances g[..., 0:5]."""
    g0, g1, g2, g3, g4 = (g[..., h] for h in range(5))
    bad = (g0 <= 0) | (g1 <= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        den = g1 + g2 + g3
        phi = np.where(den > 0, (g2 + g3 + g4) / np.where(den > 0, den, 1.0), 0.0)
        rho1 = g1 / np.where(g0 > 0, g0, 1.0)
    weak = (rho1 < 2 / math.sqrt(n)) | ~((phi > 0) & (phi < 1)) | (phi < rho1)
    phi = np.where(weak, rho1, phi)
    return np.where(bad, np.maximum(g0, 0.0), g0), np.where(bad, 0.0, rho1), np.where(bad, 0.0, phi)


def residual_process(e: np.ndarray, pos: np.ndarray, X: np.ndarray, p0: int) -> tuple[np.ndarray, ...]:
    """(γ0, A, φ) per date of AR(1)+white noise fitted to residuals e (D, m): ``fit_residual_process``.

    ``X`` (D, m, p) are the unweighted designs; their first ``p0`` columns (the baseline) are shared.
    """
    m = e.shape[1]
    g = _autocov(e - e.mean(axis=1, keepdims=True), pos, 4)
    gamma0, rho1, phi = _process_from_autocov(g, m)
    ar_var = np.zeros_like(phi)
    phi_out = np.zeros_like(phi)
    need = np.flatnonzero((phi > 0) & (rho1 > 0))
    draws = _bias_draws(pos)
    Q = np.linalg.qr(X[0, :, :p0])[0]  # orthonormal basis of the shared baseline
    for lo in range(0, need.size, CHUNK):
        idx = need[lo:lo + CHUNK]
        r_bc, p_bc = _bias_corrected(rho1[idx], phi[idx], pos, X[idx, :, p0:], Q, draws)
        p_bc = np.minimum(p_bc, 0.99)
        r_bc = np.minimum(r_bc, p_bc)
        phi_out[idx] = p_bc
        with np.errstate(divide="ignore", invalid="ignore"):
            ar_var[idx] = np.where(p_bc > 0, gamma0[idx] * r_bc / np.where(p_bc > 0, p_bc, 1.0), 0.0)
    return gamma0, ar_var, phi_out


def _bias_draws(pos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The seeded standard normal draws of ``_covariance._bias_corrected``, in the order it takes them."""
    nsim = cov_mod.BIAS_SIMULATIONS
    rng = np.random.default_rng(20081111)
    span = int(pos[-1] - pos[0]) + 1
    z1 = rng.standard_normal((nsim, span))
    z0 = rng.standard_normal(nsim)
    white = rng.standard_normal((nsim, len(pos)))
    return z1, z0, white


def _bias_corrected(rho1: np.ndarray, phi: np.ndarray, pos: np.ndarray, Xe: np.ndarray, Q: np.ndarray,
                    draws: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
    """``_covariance._bias_corrected`` for several dates: the same draws, filtered with each date's φ.

    The simulated residuals are projected off ``[B, Xe_d]`` in two steps (off the shared baseline basis
    ``Q``, then off each date's residualised extra columns), which is the same projection as ``pinv``.
    """
    z1, z0, white = draws
    innov = z1[None] * np.sqrt(1 - phi**2)[:, None, None]  # (d, nsim, span)
    innov[:, :, 0] = z0
    sims = _ar_filter(innov, phi, -1)
    if sims.shape[-1] != len(pos):
        sims = sims[:, :, pos - pos[0]]
    share = np.minimum(rho1 / phi, 1.0)
    sims *= np.sqrt(share)[:, None, None]
    sims += np.sqrt(1 - share)[:, None, None] * white
    F = Xe - Q @ (Q.T @ Xe)  # (d, m, k) the extra columns off the baseline
    V = np.concatenate([np.broadcast_to(Q, (len(phi),) + Q.shape), np.linalg.qr(F)[0]], axis=2)
    resid = sims - (sims @ V) @ V.transpose(0, 2, 1)  # projection off [B, Xe_d]; its mean is 0 (constant in B)
    _, r_est, p_est = _process_from_autocov(_autocov(resid, pos, 4), len(pos))
    rho1_bc = rho1 + (rho1 - r_est.mean(axis=1))
    phi_bc = phi + (phi - p_est.mean(axis=1))
    return np.maximum(rho1_bc, 0.0), np.maximum(np.maximum(phi_bc, rho1_bc), 0.0)

"""Covariance of ITS coefficients: three computations, chosen by name (``COV_TYPES``), behind the error models.

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
  Stat Med 42:1277, on Prais–Winsten; Turner et al. 2021, BMC Med Res Methodol 21:181).  The residual
  autocorrelations get a seeded parametric-bootstrap bias correction (:func:`fit_residual_process`).  Gaps
  are handled by placing the observed rows at their true time positions.

These are the covariance computations (``COV_TYPES``).  The error models of ``its.fit`` (``ERRORS``) use them:
``iid`` and ``hac`` directly, ``ar1-sandwich`` as ``ar1`` on the independence fit, and ``ar1`` (feasible GLS,
``spamits.its._gls``) as ``ar1`` on the whitened scores and residuals.

The residual process parameters (``ResidualProcess``) are also used to draw predictive noise for the
counterfactual, so intervals carry both parameter uncertainty and the serially correlated noise.

Everything here works on a stack of D fits that share their observed rows (``covariance_stack``): ``its.fit``
calls it with D = 1 and ``spamits.robust`` (through ``spamits.its.batch``) with one fit per candidate date, so
both run the same code.  For the AR bias correction the stack may share leading design columns (the
baseline): those are projected off once, and each fit's own columns by a rank-k update (Frisch-Waugh).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from spamits.errors import ModelSpecError

ERRORS = {  # the error models of spamits.its.fit, by name
    "ar1": "feasible GLS whitened by the fitted AR(1)+white-noise residual process; sandwich on whitened residuals",
    "ar1-sandwich": "independence estimates; sandwich with AR(1)+white-noise residual correlation (all lags)",
    "hac": "Newey-West HAC, Bartlett kernel, lag floor(4(n/100)^(2/9))",
    "iid": "model-based (quasi-Poisson: scaled by the Pearson dispersion)",
}
COV_TYPES = ("iid", "hac", "ar1")  # the covariance computations below ("ar1": the AR(1)+white-noise sandwich)
BIAS_SIMULATIONS = 40  # simulated series in the parametric-bootstrap bias correction
BIAS_SEED = 20081111
_GROUP_BYTES = 64 * 2**20  # bias simulation: fits whose AR series are filtered together (time loop over wide rows)
_CHUNK_BYTES = 2**20  # ... and then projected and summarised a few at a time, in cache
_LFILTER_MAX_FITS = 4  # ar_filter: scipy's lfilter per series up to this many, else one vectorised recursion
_RCOND = 1e-15  # singular values below _RCOND × the largest are dropped, as np.linalg.pinv does


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


def _check_cov_type(cov_type: str) -> None:
    if cov_type not in COV_TYPES:
        raise ModelSpecError(f"cov_type={cov_type!r}: must be one of {', '.join(repr(k) for k in COV_TYPES)}")


# --- covariance ---------------------------------------------------------------------------------------------


def covariance(cov_type: str, X: np.ndarray, w: np.ndarray, e: np.ndarray, pos: np.ndarray,
               scale: float) -> tuple[np.ndarray, dict]:
    """Coefficient covariance (p×p) and a dict describing how it was computed.

    ``X`` is the (n×p) design of the observed rows, ``w`` the Fisher weights, ``e`` the Pearson residuals and
    ``pos`` the integer time positions of the rows.
    """
    _check_cov_type(cov_type)
    cov, proc = covariance_stack(cov_type, X, np.zeros((1, X.shape[0], 0)), w[None], e[None], pos,
                                 np.array([float(scale)]))
    info: dict = {"errors": cov_type, "method": ERRORS["ar1-sandwich" if cov_type == "ar1" else cov_type]}
    if cov_type == "iid":
        info["scale"] = scale
    elif cov_type == "hac":
        info["lags"] = nw_lags(X.shape[0])
    else:
        fitted = ResidualProcess(*(float(a[0]) for a in proc))
        info.update(phi=fitted.phi, rho1=fitted.rho1)
    return cov[0], info


def covariance_stack(cov_type: str, base: np.ndarray, extra: np.ndarray, w: np.ndarray, e: np.ndarray,
                     pos: np.ndarray, scale: np.ndarray, keep: list[int] | None = None,
                     ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
    """Covariances of D fits on the same observed rows, each as :func:`covariance` describes.

    Fit d has the design ``X_d = [base, extra_d]``: ``base`` (m, p0) is shared, ``extra`` (D, m, k) is its own
    (k may be 0); ``w`` and ``e`` (D, m) are the Fisher weights and Pearson residuals, ``scale`` (D,).  With
    ``Z = W^½ X``, bread ``H = (Zᵀ Z)⁺`` and the error model's middle ``M`` (of the scores for ``hac``):

    * ``keep=None``: the full sandwich ``H M H`` (D, p, p), as ``its.fit`` reports it;
    * ``keep``: the (D, q, q) covariance of the coefficients ``keep`` only, as ``(Z H_k)ᵀ M (Z H_k)`` with
      ``H_k`` those columns of the bread: one column per coefficient instead of p, and the Gram matrices are
      assembled from products with the shared ``base`` (:func:`weighted_gram`).  The same numbers.

    Also returns the fitted residual processes ``(gamma0, ar_var, phi)`` (each (D,)) for ``"ar1"``, else None.
    """
    _check_cov_type(cov_type)
    D, m, p0 = w.shape[0], base.shape[0], base.shape[1]
    p = p0 + extra.shape[2]
    if keep is None:
        Z = np.sqrt(w)[:, :, None] * np.concatenate([np.broadcast_to(base, (D, m, p0)), extra], axis=2)
        bread = np.linalg.pinv(Z.transpose(0, 2, 1) @ Z)
    else:
        bread = np.linalg.pinv(weighted_gram(base, extra, w))
        H = bread[:, :, keep]
        Z = np.sqrt(w)[:, :, None] * (base @ H[:, :p0] + extra @ H[:, p0:])  # (D, m, q)
    scale = np.asarray(scale)[:, None, None]
    if cov_type == "iid":
        return scale * (bread if keep is None else bread[:, keep][:, :, keep]), None
    proc = None
    if cov_type == "hac":
        meat = hac_meat(Z * e[:, :, None], pos)
    else:
        proc = residual_processes(e, pos, base, extra)
        meat = ar_quadratic_forms(Z, pos, *proc)
    meat *= m / max(m - p, 1)
    return (bread @ meat @ bread if keep is None else meat), proc


def base_products(base: np.ndarray) -> np.ndarray:
    """Products of the pairs of columns (i <= j) of ``base`` (m, p0): (m, p0·(p0+1)/2), for ``weighted_gram``."""
    iu = np.triu_indices(base.shape[1])
    return base[:, iu[0]] * base[:, iu[1]]


def weighted_gram(base: np.ndarray, extra: np.ndarray, w: np.ndarray,
                  products: np.ndarray | None = None) -> np.ndarray:
    """``X_dᵀ diag(w_d) X_d`` (D, p, p) for ``X_d = [base, extra_d]`` (see :func:`covariance_stack`).

    ``w`` is (D, m), or (m,) when every fit has the same weights (then the baseline block is computed once).
    The baseline block is one product of the weights with ``base_products(base)`` (given or computed), the
    others products with the k extra columns; every product is a stack of small per-fit products.
    """
    D, p0, k = extra.shape[0], base.shape[1], extra.shape[2]
    iu = np.triu_indices(p0)
    products = base_products(base) if products is None else products
    A = np.empty((D, p0 + k, p0 + k))
    shared = (w[..., None, :] @ products)[..., 0, :]
    A[:, iu[0], iu[1]] = shared
    A[:, iu[1], iu[0]] = shared
    if k:
        WE = (w[..., :, None] * extra).transpose(0, 2, 1)  # (D, k, m)
        A[:, p0:, :p0] = WE @ base
        A[:, :p0, p0:] = A[:, p0:, :p0].transpose(0, 2, 1)
        A[:, p0:, p0:] = WE @ extra
    return A


def _on_full_grid(x: np.ndarray, pos: np.ndarray, axis: int) -> np.ndarray:
    """``x`` with its rows along ``axis`` placed at their time positions, missing periods as zero rows."""
    span = int(pos[-1] - pos[0]) + 1
    if span == x.shape[axis]:
        return x
    shape = list(x.shape)
    shape[axis] = span
    full = np.zeros(shape)
    full[(slice(None),) * (axis % x.ndim) + (pos - pos[0],)] = x
    return full


def hac_meat(S: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Newey-West middle matrix (D, q, q) of scores ``S`` (D, m, q), Bartlett weights, lag ``nw_lags(m)``.

    Only pairs of rows exactly h periods apart enter lag h (gaps: rows on the full time grid).
    """
    lags = nw_lags(S.shape[1])
    meat = S.transpose(0, 2, 1) @ S
    S = _on_full_grid(S, pos, 1)
    for h in range(1, lags + 1):
        G = S[:, :-h].transpose(0, 2, 1) @ S[:, h:]
        meat += (1 - h / (lags + 1)) * (G + G.transpose(0, 2, 1))
    return meat


def ar_filter(x: np.ndarray, phi: np.ndarray, gain: np.ndarray | None = None, first: np.ndarray | None = None,
              out: np.ndarray | None = None) -> np.ndarray:
    """The AR(1) recursion along axis 0, one ``φ_d`` and gain ``g_d`` (default 1) per index d of axis 1:
    ``out[t] = g_d·x[t] + φ_d·out[t-1]`` from ``out[0] = first`` (default ``g_d·x[0]``, a zero state).

    ``x`` is (T, D, ...) or broadcasts to ``out`` along axis 1 (e.g. (T, 1, S) draws shared by all d);
    ``out`` defaults to ``x`` (in place).  The arithmetic of ``scipy.signal.lfilter([g], [1, -φ])``:
    lfilter for a few series, else one loop over time on all of them (each step one row).  Returns ``out``.
    """
    out = x if out is None else out
    D = out.shape[1]
    gain = None if gain is None else np.broadcast_to(np.asarray(gain, dtype=float), (D,))
    if D <= _LFILTER_MAX_FITS:
        from scipy import signal

        for d in range(D):
            xd, g, f = x[:, min(d, x.shape[1] - 1)], 1.0 if gain is None else float(gain[d]), float(phi[d])
            if first is None:
                out[:, d] = signal.lfilter([g], [1.0, -f], xd, axis=0)
            else:
                out[0, d] = first[d]
                out[1:, d] = signal.lfilter([g], [1.0, -f], xd[1:], axis=0, zi=f * out[:1, d])[0]
        return out
    shape = (D,) + (1,) * (out.ndim - 2)
    f = np.asarray(phi, dtype=float).reshape(shape)
    g = None if gain is None else gain.reshape(shape)
    if first is not None:
        out[0] = first
    elif g is not None:
        np.multiply(x[0], g, out=out[0])
    elif out is not x:
        out[0] = x[0]
    tmp = np.empty(out.shape[1:])
    for t in range(1, out.shape[0]):
        row = out[t]
        if g is not None:
            np.multiply(x[t], g, out=row)
        elif out is not x:
            row[...] = x[t]
        np.multiply(out[t - 1], f, out=tmp)
        row += tmp
    return out


def ar_quadratic_form(Z: np.ndarray, pos: np.ndarray, proc: ResidualProcess) -> np.ndarray:
    """``Zᵀ C Z`` (p×p) for the AR(1)+white-noise autocovariance ``C`` of rows at time positions ``pos``."""
    return ar_quadratic_forms(Z[None], pos, *(np.array([v]) for v in (proc.gamma0, proc.ar_var, proc.phi)))[0]


def ar_quadratic_forms(Z: np.ndarray, pos: np.ndarray, gamma0: np.ndarray, ar_var: np.ndarray,
                       phi: np.ndarray) -> np.ndarray:
    """``Z_dᵀ C_d Z_d`` (D, q, q) for Z (D, m, q) and one AR(1)+white-noise process per d, in O(D·m·q²).

    ``C = (γ0 - A)·I + A·R`` with ``R[t, s] = φ^|t-s|``.  With ``F`` the forward AR(1) filter on the full time
    grid (gaps as zero rows), ``R = F + Fᵀ - I``, so ``Zᵀ R Z = G + Gᵀ - Zᵀ Z`` with ``G = Zᵀ F Z``.
    """
    FZ = ar_filter(np.array(_on_full_grid(Z.transpose(1, 0, 2), pos, 0), order="C"), phi)  # time first
    if FZ.shape[0] != Z.shape[1]:
        FZ = FZ[pos - pos[0]]
    ZtZ = Z.transpose(0, 2, 1) @ Z
    G = Z.transpose(0, 2, 1) @ FZ.transpose(1, 0, 2)
    ZRZ = G + G.transpose(0, 2, 1) - ZtZ
    return (gamma0 - ar_var)[:, None, None] * ZtZ + ar_var[:, None, None] * ZRZ


# --- residual process ---------------------------------------------------------------------------------------


def _autocov_gapped(e: np.ndarray, pos: np.ndarray, maxlag: int) -> np.ndarray:
    """Autocovariances at lags 0..maxlag (a last axis) of the series along the last axis of ``e`` (observed at
    ``pos``): sums over the pairs of observed rows exactly h apart (missing periods count as zeros), divided by
    the number of observed rows."""
    m = e.shape[-1]
    e = _on_full_grid(e, pos, -1)
    n = e.shape[-1]
    return np.stack([(e[..., None, : n - h] @ e[..., h:, None])[..., 0, 0] for h in range(maxlag + 1)],
                    axis=-1) / m


def process_from_autocov(g: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(γ0, ρ1, φ) of AR(1)+white noise from autocovariances ``g[..., 0:5]`` at lags 0-4 of n observations.

    φ is the ratio of successive sums of autocovariances, ``(g2+g3+g4)/(g1+g2+g3)``; where the correlation is
    weak (ρ1 < 2/√n) or φ is not in (ρ1, 1), the white-noise part is not identified and φ = ρ1 (pure AR(1)).
    """
    g0, g1, g2, g3, g4 = (g[..., h] for h in range(5))
    bad = (g0 <= 0) | (g1 <= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        den = g1 + g2 + g3
        phi = np.where(den > 0, (g2 + g3 + g4) / np.where(den > 0, den, 1.0), 0.0)
        rho1 = g1 / np.where(g0 > 0, g0, 1.0)
    weak = (rho1 < 2 / np.sqrt(n)) | ~((phi > 0) & (phi < 1)) | (phi < rho1)
    phi = np.where(weak, rho1, phi)
    return np.where(bad, np.maximum(g0, 0.0), g0), np.where(bad, 0.0, rho1), np.where(bad, 0.0, phi)


def fit_residual_process(e: np.ndarray, pos: np.ndarray, X: np.ndarray | None = None) -> ResidualProcess:
    """Fit AR(1)+white noise to regression residuals ``e`` observed at integer time positions ``pos``.

    Residual autocorrelations are biased towards zero, more so the more regressors were fitted and the
    stronger the correlation (Turner et al. 2021).  With the design ``X`` given, the bias of (ρ1, φ) is
    estimated by a seeded parametric bootstrap (simulate the fitted process, take the residuals of the same
    regression, re-estimate; ``BIAS_SIMULATIONS`` draws) and subtracted, as in Kilian (1998).
    """
    fitted = residual_processes(e[None], pos, X)
    return ResidualProcess(*(float(a[0]) for a in fitted))


def residual_processes(e: np.ndarray, pos: np.ndarray, base: np.ndarray | None = None,
                       extra: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(γ0, A, φ), each (D,), of AR(1)+white noise fitted to each row of ``e`` (D, m): ``fit_residual_process``.

    Row d holds the residuals of a regression on ``[base, extra_d]`` (``base`` (m, p0) shared, ``extra``
    (D, m, k) or None), which the bias correction repeats on simulated series; without ``base`` there is no
    bias correction.
    """
    g = _autocov_gapped(e - e.mean(axis=1, keepdims=True), pos, 4)
    gamma0, rho1, phi = process_from_autocov(g, e.shape[1])
    need = (phi > 0) & (rho1 > 0)
    if base is not None and need.any():
        basis, cutoff = orthonormal_basis(base)
        own = extra[need] if extra is not None and extra.shape[2] else None
        rho1[need], phi[need] = bias_corrected(rho1[need], phi[need], pos, basis, own, cutoff)
    phi = np.where(need, np.minimum(phi, 0.99), 0.0)
    rho1 = np.minimum(rho1, phi)
    with np.errstate(divide="ignore", invalid="ignore"):
        ar_var = np.where(phi > 0, gamma0 * rho1 / np.where(phi > 0, phi, 1.0), 0.0)
    return gamma0, ar_var, phi


# --- bias correction of the residual AR coefficient ---------------------------------------------------------


def orthonormal_basis(X: np.ndarray) -> tuple[np.ndarray, float]:
    """Orthonormal basis (m, r) of the column space of ``X`` as ``np.linalg.pinv`` sees it, and the singular
    value cutoff used (``_RCOND`` × the largest)."""
    U, s, _ = np.linalg.svd(X, full_matrices=False)
    cutoff = _RCOND * float(s.max()) if s.size else 0.0
    return U[:, s > cutoff], cutoff


@functools.lru_cache(maxsize=8)
def bias_draws(span: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The seeded standard normal draws of the bias correction, time first: innovations (span, S), the start
    values (S,) and the white noise at the m observed rows (m, S), with ``S = BIAS_SIMULATIONS``.

    The same for every call with the same sizes, so they are kept (read-only) for the next fit of a series of
    the same length.
    """
    rng = np.random.default_rng(BIAS_SEED)
    innov = rng.standard_normal((BIAS_SIMULATIONS, span))
    start = rng.standard_normal(BIAS_SIMULATIONS)
    white = rng.standard_normal((BIAS_SIMULATIONS, m))
    draws = (np.ascontiguousarray(innov.T), start, np.ascontiguousarray(white.T))
    for array in draws:
        array.flags.writeable = False
    return draws


def bias_corrected(rho1: np.ndarray, phi: np.ndarray, pos: np.ndarray, basis: np.ndarray,
                   extra: np.ndarray | None = None, cutoff: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Bias-corrected (ρ1, φ), each (D,), for D regressions on the rows at ``pos`` sharing the columns spanned
    by the orthonormal ``basis`` (m, r), each with its own ``extra`` columns (D, m, k) or none.

    For each d: simulate ``BIAS_SIMULATIONS`` series of AR(φ_d) (variance share ρ1_d/φ_d) plus white noise
    from the same seeded draws (:func:`bias_draws`), take their residuals from the regression on
    ``[basis, extra_d]``, re-estimate (ρ1, φ) and move the estimate away from the simulations' mean by the
    same amount.  The residuals are computed by Frisch-Waugh: ``extra_d`` is projected off ``basis`` once
    (directions with singular value <= ``cutoff`` dropped, as pinv would), and the simulated series are
    projected off ``basis`` plus that rank-k update.  The AR series of many fits are filtered together
    (``_GROUP_BYTES``), then projected and summarised a few fits at a time (``_CHUNK_BYTES``).
    """
    rho1, phi = np.asarray(rho1, dtype=float), np.asarray(phi, dtype=float)
    m, S = len(pos), BIAS_SIMULATIONS
    span = int(pos[-1] - pos[0]) + 1
    draws = bias_draws(span, m)
    U = np.zeros((len(phi), m, 0)) if extra is None else _extra_basis(basis, extra, cutoff)
    one = np.full(m, m**-0.5)
    demean = np.linalg.norm(one - basis @ (basis.T @ one)) > 1e-8  # residuals have mean 0 if basis spans 1
    share = np.minimum(rho1 / phi, 1.0)  # AR part of the variance
    group = max(1, _GROUP_BYTES // (8 * S * span))
    chunk = max(1, _CHUNK_BYTES // (8 * S * m))
    autocov = np.empty((len(phi), S, 5))
    for lo in range(0, len(phi), group):
        ar = _simulated_ar(phi[lo:lo + group], share[lo:lo + group], pos, draws)
        for sub in range(0, ar.shape[1], chunk):
            d = slice(lo + sub, lo + min(sub + chunk, ar.shape[1]))
            autocov[d] = _residual_autocov(ar[:, sub:sub + chunk], np.sqrt(1 - share[d]), pos, draws[2], basis,
                                           U[d], demean)
    _, rho_sim, phi_sim = process_from_autocov(autocov, m)
    rho1_bc = rho1 + (rho1 - rho_sim.mean(axis=1))
    phi_bc = phi + (phi - phi_sim.mean(axis=1))
    return np.maximum(rho1_bc, 0.0), np.maximum(np.maximum(phi_bc, rho1_bc), 0.0)


def _extra_basis(basis: np.ndarray, extra: np.ndarray, cutoff: float) -> np.ndarray:
    """Orthonormal bases (D, m, k) of each fit's extra columns projected off ``basis`` (dropped: zero columns)."""
    F = extra - basis @ (basis.T @ extra)
    cutoff = max(cutoff, _RCOND * float(np.sqrt(np.max(np.sum(extra**2, axis=1)))))
    if F.shape[2] == 1:  # one column: its norm is its singular value
        norm = np.sqrt(np.sum(F**2, axis=1, keepdims=True))
        return np.where(norm > cutoff, F / np.where(norm > 0, norm, 1.0), 0.0)
    U, s, _ = np.linalg.svd(F, full_matrices=False)
    return U * (s > cutoff)[:, None, :]


def _simulated_ar(phi: np.ndarray, share: np.ndarray, pos: np.ndarray,
                  draws: tuple[np.ndarray, ...]) -> np.ndarray:
    """The simulated AR parts ``√share·AR(φ)``, time first: (span, d, S).

    Unit-variance AR(1): a standard normal start, then innovations scaled by √(1-φ²).
    """
    innov, start, _ = draws
    out = np.empty((innov.shape[0], len(phi), innov.shape[1]))
    return ar_filter(innov[:, None, :], phi, gain=np.sqrt(share) * np.sqrt(1 - phi**2),
                     first=np.sqrt(share)[:, None] * start, out=out)


def _residual_autocov(ar: np.ndarray, white_sd: np.ndarray, pos: np.ndarray, white: np.ndarray,
                      basis: np.ndarray, U: np.ndarray, demean: bool) -> np.ndarray:
    """Autocovariances (d, S, 5) of the simulated series ``ar`` (span, d, S) at the rows ``pos`` plus white
    noise with standard deviation ``white_sd`` (d,), after projecting them off ``[basis, U_d]`` (orthonormal
    columns).  The residuals come out time last, so each lag product is a stack of dot products."""
    d, r = ar.shape[1], basis.shape[1]
    if ar.shape[0] != len(pos):
        ar = ar[pos - pos[0]]
    sims = white_sd[:, None, None] * white  # (d, m, S)
    sims += ar.transpose(1, 0, 2)
    V = np.empty((d, len(pos), r + U.shape[2]))
    V[:, :, :r] = basis
    V[:, :, r:] = U
    resid = (V.transpose(0, 2, 1) @ sims).transpose(0, 2, 1) @ V.transpose(0, 2, 1)  # (d, S, m)
    np.subtract(sims.transpose(0, 2, 1), resid, out=resid)
    if demean:
        resid -= resid.mean(axis=2, keepdims=True)
    return _autocov_gapped(resid, pos, 4)

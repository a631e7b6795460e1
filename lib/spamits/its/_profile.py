"""Decay rates by profile likelihood: the estimate (``estimate_decays``) and its interval (``Profile.interval``).

A decaying effect ``ω·δ^k`` is linear in ω but not in δ, so δ is profiled out: for a trial δ every other
coefficient is re-fitted (warm-started from the previous trial) and the objective (deviance, or residual sum of
squares for the Gaussian families) recorded.  The search runs over the log half-life ``log(ln 0.5 / ln δ)``
between a quarter period and four times the post-event window: a grid, then bounded Brent around its best
point.  The interval finds where the likelihood-ratio statistic crosses its threshold on each side by Brent's
root finder on the signed root of the statistic (close to linear in the parameter, so few refits are needed),
started from the bracket a quadratic approximation predicts.  With a whitener (``errors="ar1"``) the objective
is the whitened GLS objective linearised at the fit (``spamits.its._gls.LinearisedProfile``), which needs no
refits at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from spamits.its import _design as design
from spamits.its import _estimate as est
from spamits.its import _gls as gls
from spamits.its.families import FAMILY_MODELS

GRID = 14  # grid of log half-lives over the whole search range, before Brent
GRID_TOL = 1e-7  # refits on the grid only pick the bracket: objective to within 1e-7 per row
XTOL = 1e-3  # tolerance of the estimate and of the interval bounds (log half-life)


def search_bounds(n: int, spec: design.EventSpec) -> tuple[float, float]:
    """Range of the log half-life search (periods): ``spec.min_half_life`` (a quarter period unless a pulse
    diverged, see ``spamits.its._fit.estimate``) to 4× the post window (at least 4)."""
    return float(np.log(spec.min_half_life)), float(np.log(max(4.0 * (n - spec.position), 4.0)))


def to_delta(log_hl: np.ndarray | float) -> np.ndarray | float:
    """Decay rate per period of a log half-life."""
    return 0.5 ** (1 / np.exp(log_hl))


def to_log_hl(delta: float) -> float:
    """Log half-life (periods) of a decay rate: the inverse of ``to_delta`` (±inf at δ = 0 and 1)."""
    if not 0 < delta < 1:
        return float(np.inf if delta >= 1 else -np.inf)
    return float(np.log(np.log(0.5) / np.log(delta)))


def event_matrix(n: int, specs: list[design.EventSpec], deltas: dict[str, float]) -> np.ndarray:
    """The event columns of all events side by side (n × k), in the order of ``specs``."""
    return np.column_stack([c for s in specs for c in design.event_columns(n, s, deltas.get(s.label)).values()])


class Profile:
    """The profile objective of each decay rate (other coefficients re-fitted, other decay rates fixed).

    ``base_obs`` (m × p0) is the baseline design of the m observed rows, ``obs`` (n,) marks them, ``beta`` (p,)
    the coefficients at ``deltas`` (a warm start for the refits); with a ``whitener`` the objective is the
    whitened GLS objective linearised at ``beta``.  ``interval`` inverts the likelihood-ratio
    statistic, with its threshold scaled to the chosen error model's variance (see ``interval``); it is
    asymmetric, and reaches 0 or 1 when the data cannot bound the rate on that side.
    """

    def __init__(self, family: str, base_obs: np.ndarray, specs: list[design.EventSpec], deltas: dict[str, float],
                 yv: np.ndarray, off_obs: np.ndarray, obs: np.ndarray, dispersion: float, scale: float,
                 beta: np.ndarray | None = None, whitener: gls.Whitener | None = None) -> None:
        self.family, self.base_obs, self.specs, self.deltas = family, base_obs, specs, dict(deltas)
        self.fam = FAMILY_MODELS.get(family)
        self.whitener = whitener  # errors="ar1": the objective is the whitened GLS objective
        self.yv, self.off_obs, self.obs, self.dispersion, self.scale = yv, off_obs, obs, dispersion, scale
        self.beta = beta  # the warm start of the next refit
        self.beta_hat = beta  # the coefficients at ``deltas``
        self.n = len(obs)
        self._cached: tuple | None = None  # (decay rates, observed design) of the last refit
        self._linear: dict = {}  # whitened: (label, decay rates) -> its LinearisedProfile at beta_hat
        self._columns: dict = {}  # label -> (column index, post-event rows, periods since the event)

    def _value(self, X: np.ndarray, beta: np.ndarray) -> float:
        """The objective of the coefficients ``beta`` on the observed design ``X`` (no refit)."""
        eta = X @ beta + self.off_obs
        if self.fam.gaussian:
            return float(np.sum((self.fam.transform(self.yv) - eta) ** 2))
        return float(est.deviance(self.yv, np.exp(np.clip(eta, -30.0, 30.0)), self.fam.nb(self.dispersion)))

    def design(self) -> np.ndarray:
        """The observed rows of the full design at the current decay rates (m × p)."""
        return np.column_stack([self.base_obs, event_matrix(self.n, self.specs, self.deltas)[self.obs]])

    def _column(self, label: str, delta: float) -> tuple[int, np.ndarray]:
        """Index of event ``label``'s decay column in the design and its observed rows at ``delta``."""
        if label not in self._columns:
            index = next(i for i, s in enumerate(self.specs) if s.label == label)
            col = self.base_obs.shape[1] + sum(len(design.event_columns(1, s, 0.5)) for s in self.specs[:index])
            k = np.arange(self.n, dtype=float)[self.obs] - self.specs[index].position
            self._columns[label] = (col, k >= 0, np.clip(k, 0, None))
        col, after, k = self._columns[label]
        return col, np.where(after, delta**k, 0.0)

    def _design_with(self, label: str, delta: float) -> np.ndarray:
        """The observed design with event ``label``'s decay column at ``delta`` (the rest kept between calls)."""
        key = tuple(sorted(self.deltas.items()))
        if self._cached is None or self._cached[0] != key:
            self._cached = (key, self.design())
        X = self._cached[1].copy()
        col, values = self._column(label, delta)
        X[:, col] = values
        return X

    def _linearised(self, label: str) -> gls.LinearisedProfile:
        """The whitened objective of ``label`` linearised at ``beta_hat`` (other decay rates as they are)."""
        key = (label, tuple(sorted(self.deltas.items())))
        if key not in self._linear:
            X = self.design()
            col, _ = self._column(label, self.deltas[label])
            self._linear[key] = gls.LinearisedProfile(self.family, np.delete(X, col, axis=1), self.yv,
                                                      self.off_obs, self.dispersion, self.whitener,
                                                      X @ self.beta_hat + self.off_obs)
        return self._linear[key]

    def objective(self, label: str, log_hl: float, tol: float = est.TOL) -> float:
        """Profile objective with event ``label``'s half-life at ``exp(log_hl)`` periods (others fixed).

        ``tol``: convergence tolerance of the refit (relative to the number of rows; see ``_estimate.irls``).
        """
        if self.whitener is not None:  # GLS: the objective linearised at the fit (see gls.LinearisedProfile)
            return self._linearised(label).value(self._column(label, float(to_delta(log_hl)))[1])
        X = self._design_with(label, float(to_delta(log_hl)))
        value, beta = est.objective(self.family, X, self.yv, self.off_obs, self.dispersion, self.beta, tol)
        if not self.fam.gaussian:
            self.beta = beta  # warm start of the next refit
        return value

    def minimise(self, label: str, refine: bool = True, near: float | None = None) -> float:
        """Log half-life minimising the profile of ``label``: a grid over the search range, then bounded Brent
        (``refine=False``: the best grid point).  ``near``: a previous estimate; Brent runs within one grid step
        of it, and the grid is searched only if the minimum lands on that bracket's edge."""
        spec = next(s for s in self.specs if s.label == label)
        lo, hi = search_bounds(self.n, spec)
        if near is not None and refine:
            step = (hi - lo) / (GRID - 1)
            a, b = max(near - step, lo), min(near + step, hi)
            res = optimize.minimize_scalar(lambda x: self.objective(label, x), bounds=(a, b), method="bounded",
                                           options={"xatol": XTOL})
            if (res.x - a > 2 * XTOL or a == lo) and (b - res.x > 2 * XTOL or b == hi):
                return float(res.x)
        xs = np.linspace(lo, hi, GRID)
        vals = np.array([self.objective(label, x, GRID_TOL) for x in xs])
        i = int(np.argmin(vals))
        if not refine:
            return float(xs[i])
        a, b = xs[max(i - 1, 0)], xs[min(i + 1, GRID - 1)]
        res = optimize.minimize_scalar(lambda x: self.objective(label, x), bounds=(a, b), method="bounded",
                                       options={"xatol": XTOL})
        return float(res.x if res.fun <= vals[i] else xs[i])

    def _lr(self, label: str, log_hl: float, best: float) -> float:
        value = self.objective(label, log_hl)
        if self.fam.gaussian or self.whitener is not None:  # scale estimated: m·log of the RSS ratio
            return len(self.yv) * np.log(value / best)
        return (value - best) / (self.scale if self.fam.pearson_scale else 1.0)

    def interval(self, label: str, alpha: float, variance: float) -> tuple[float, float]:
        """(low, high) decay rate; 0 or 1 where the profile stays under the threshold up to the search bound.

        ``variance``: the chosen error model's variance of logit δ.  The likelihood-ratio threshold
        ``χ²₁(1-α)`` is multiplied by ``inflation = max(variance · c, 1)``, where ``c`` is the curvature of the
        profile statistic in logit δ, measured over one standard error on each side of the estimate
        (``(LR(θ̂-s) + LR(θ̂+s)) / 2s²``, ``s = √variance``): near the estimate the interval is then as wide as
        the chosen variance says, so it allows for autocorrelation and for an objective whose curvature is not
        the information (the whitened GLS objective), while it keeps the asymmetry of the profile further out
        (the curvature adjustment of Chandler & Bate 2007, Biometrika 94:167).
        """
        spec = next(s for s in self.specs if s.label == label)
        delta = self.deltas[label]
        theta = float(np.log(delta / (1 - delta)))
        centre = to_log_hl(delta)
        if self.whitener is not None or self.beta_hat is None:
            best = self.objective(label, centre)
        else:
            best = self._value(self.design(), self.beta_hat)
        sd = float(np.sqrt(variance)) if variance > 0 else 0.0
        lo_edge, hi_edge = search_bounds(self.n, spec)
        inflation, known = 1.0, {}  # known: log half-life -> LR statistic already computed
        if sd > 0:
            for step in (-sd, sd):
                x = float(np.clip(_log_hl(theta + step), lo_edge, hi_edge))
                lr = self._lr(label, x, best)
                known[x] = lr if np.isfinite(lr) else 0.0  # not estimable there: not excluded
            inflation = max(variance * sum(known.values()) / (2 * sd**2), 1.0)
        threshold = stats.chi2.ppf(1 - alpha, 1) * inflation

        def root_excess(x: float) -> float:  # signed root of the LR statistic minus the root of the threshold
            lr = known[x] if x in known else self._lr(label, x, best)
            lr = lr if np.isfinite(lr) else 0.0  # not estimable there (e.g. the first post periods missing)
            return float(np.sqrt(max(lr, 0.0)) - np.sqrt(threshold))

        def bound(edge: float) -> float | None:
            if edge == centre:
                return None
            side = [x for x in known if (x - centre) * (edge - centre) > 0 and x != edge]
            inner = max(side, key=lambda x: abs(x - centre)) if side else centre
            if root_excess(inner) >= 0:
                inner = centre
            outer = edge
            if sd > 0:  # where a quadratic profile of that width would cross: the first bracket
                trial = float(np.clip(_log_hl(theta + np.sign(centre - edge) * np.sqrt(threshold) * sd),
                                      min(centre, edge), max(centre, edge)))
                if abs(trial - centre) > abs(inner - centre) and trial != edge:
                    if root_excess(trial) >= 0:
                        outer = trial
                    else:
                        inner = trial
            if outer == edge and root_excess(edge) < 0:
                return None  # under the threshold up to the search bound
            return float(optimize.brentq(root_excess, min(inner, outer), max(inner, outer), xtol=XTOL))

        low, high = bound(lo_edge), bound(hi_edge)
        d_low = 0.0 if low is None else to_delta(low)
        d_high = 1.0 if high is None else to_delta(high)
        return float(d_low), float(d_high)


def _log_hl(theta: float) -> float:
    """Log half-life (periods) of the decay rate with logit ``theta``."""
    return to_log_hl(float(1.0 / (1.0 + np.exp(-theta))))


def estimate_decays(family: str, base_obs: np.ndarray, specs: list[design.EventSpec], yv: np.ndarray,
                    off_obs: np.ndarray, obs: np.ndarray, refine: bool = True
                    ) -> tuple[dict[str, float], float, list[DecayBound], np.ndarray | None]:
    """Decay rates by profile likelihood (coordinate-wise over log half-lives) and the NB dispersion.

    ``refine=False``: grid points only (the first stage of a GLS fit, whose rates are estimated again).

    Returns the decay rates, the NB dispersion the profile used (estimated at a 7-period half-life, 0 unless
    negbin), the estimates at a search bound, and the count-family coefficients at the estimated rates (None for
    Gaussian families).
    """
    decays = [s for s in specs if s.effect == "decay"]
    n = len(obs)
    deltas = {s.label: 0.5 ** (1 / min(7.0, np.exp(search_bounds(n, s)[1]))) for s in decays}
    profile = Profile(family, base_obs, specs, deltas, yv, off_obs, obs, 0.0, 1.0)
    fam = FAMILY_MODELS.get(family)
    if not fam.gaussian and (fam.has_dispersion or decays):
        X = profile.design()
        profile.beta = est.irls(X, yv, off_obs)
        if fam.has_dispersion:
            profile.dispersion = est.dispersion_moment(yv, np.exp(X @ profile.beta + off_obs), X.shape[1])
    bounds = search(profile, refine)
    return profile.deltas, profile.dispersion, bounds, profile.beta


@dataclass(frozen=True)
class DecayBound:
    """A decay-rate estimate that reached a search bound: the event's ``label``, the ``side`` (``"upper"``: no
    recovery within the search range; ``"lower"``: at most a one-period pulse) and the upper bound in periods."""

    label: str
    side: str
    upper_periods: float

    @property
    def note(self) -> str:
        """The result note that says so."""
        if self.side == "upper":
            return (f"{self.label}: the estimated half-life is at the upper search bound ({self.upper_periods:.0f} "
                    f"periods): the data show no recovery; consider effect='step'")
        return (f"{self.label}: the estimated half-life is at the lower search bound: the effect is at most a "
                "one-period pulse")


def search(profile: Profile, refine: bool = True, near: bool = False) -> list[DecayBound]:
    """Minimise the profile of every decay rate in turn (twice round when there are several), in place.

    ``refine=False`` stops at the best grid point (a first-stage fit); ``near=True`` searches close to the
    current rates first (a later round of the GLS iteration, see ``Profile.minimise``).  Returns the estimates
    that reached a search bound, in the order first met, each once.
    """
    decays = [s for s in profile.specs if s.effect == "decay"]
    bounds: list[DecayBound] = []
    for _round in range(2 if len(decays) > 1 else 1):
        for spec in decays:
            current = to_log_hl(profile.deltas[spec.label]) if near else None
            log_hl = profile.minimise(spec.label, refine, current)
            profile.deltas[spec.label] = float(to_delta(log_hl))
            lo, hi = search_bounds(profile.n, spec)
            if log_hl > hi - 0.05:
                bounds.append(DecayBound(spec.label, "upper", float(np.exp(hi))))
            if log_hl < lo + 0.05:
                bounds.append(DecayBound(spec.label, "lower", float(np.exp(hi))))
    return list(dict.fromkeys(bounds))

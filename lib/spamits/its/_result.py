"""``ITSResult``: the read-only outcome of :func:`spamits.its.fit`, with tidy tables and a stable summary."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import signal, stats

from spamits.errors import ModelSpecError
from spamits.its._covariance import ResidualProcess, fit_residual_process
from spamits.its._design import UNIT, EventSpec
from spamits.its._events import as_event

EFFECT_COLUMNS = ["event", "term", "estimate", "ci_low", "ci_high", "p_value", "ratio", "ratio_low",
                  "ratio_high"]
FRAME_COLUMNS = ["observed", "fitted", "counterfactual", "counterfactual_low", "counterfactual_high"]


@dataclass(frozen=True)
class Payload:
    """Everything a fit produced; an ITSResult derives its tables from it and never refits."""

    y: pd.Series
    obs: np.ndarray
    family: str
    errors: str
    specs: tuple[EventSpec, ...]
    deltas: dict
    kind: str
    seasonality: object
    X_aug: pd.DataFrame
    event_cols: dict
    deriv_cols: dict
    offset: np.ndarray
    params: pd.Series
    cov: pd.DataFrame
    cov_info: dict
    residuals: tuple  # (log-scale residuals, time positions, design) behind ``process``
    nb_alpha: float
    scale: float
    loglik: float
    alpha: float
    n_draws: int
    seed: int
    notes: tuple
    control_mode: str | None
    share_scale: float = 1.0  # gaussian-logit: 100 when the series is in percent
    profile: object = None  # _profile.Profile: the decay-rate profile likelihood
    control_check: pd.DataFrame | None = None  # pre-period tracking of each control series
    whitener: object = None  # _gls.Whitener of errors="ar1" (None for the other error models)
    decay_bounds: tuple = ()  # _profile.DecayBound: decay-rate estimates that reached a search bound

    @cached_property
    def process(self) -> ResidualProcess:
        """AR(1)+white noise of the log-scale residuals: the predictive noise of the counterfactual draws.

        Fitted (with its bias correction) on first use: the effects table does not need it.
        """
        return fit_residual_process(*self.residuals)


class ITSResult:
    """Result of an ITS fit.

    Attributes: ``effects`` (one row per event and term), ``frame`` (by date: observed, fitted, counterfactual
    and its band), ``params``/``cov`` (coefficients on the log scale and their covariance, including the
    logit decay rates).  Methods: ``impact``, ``impact_table``, ``diagnostics``, ``summary``, ``to_dict``.
    """

    def __init__(self, payload: Payload) -> None:
        self._p = payload

    # --- basic facts -----------------------------------------------------------------------------------------
    @property
    def family(self) -> str:
        return self._p.family

    @property
    def errors(self) -> str:
        return self._p.errors

    @property
    def alpha(self) -> float:
        return self._p.alpha

    @property
    def unit(self) -> str:
        """Unit of slopes and half-lives: days, weeks or months."""
        return UNIT[self._p.kind]

    @property
    def events(self) -> list[str]:
        return [s.label for s in self._p.specs]

    @property
    def params(self) -> pd.Series:
        return self._p.params.copy()

    @property
    def cov(self) -> pd.DataFrame:
        return self._p.cov.copy()

    @property
    def control_check(self) -> pd.DataFrame | None:
        """Pre-period check that each control series tracked the outcome (None without controls)."""
        return None if self._p.control_check is None else self._p.control_check.copy()

    @property
    def notes(self) -> list[str]:
        return list(self._p.notes)

    @property
    def decay_at_bound(self) -> dict[str, tuple[str, ...]]:
        """{event label: the search bounds its half-life estimate reached (``"upper"``: no recovery within the
        search range; ``"lower"``: at most a one-period pulse)}; events whose estimate is inside are absent.
        The same facts as the notes, as fields, so nothing has to be read back from text."""
        out: dict[str, tuple[str, ...]] = {}
        for bound in self._p.decay_bounds:
            out[bound.label] = (*out.get(bound.label, ()), bound.side)
        return out

    @property
    def simulated(self) -> bool:
        return bool(self._p.y.attrs.get("simulated", False))

    @property
    def n_pre(self) -> int:
        return int(self._p.obs[: self._p.specs[0].position].sum())

    @property
    def n_post(self) -> int:
        return int(self._p.obs[self._p.specs[0].position:].sum())

    # --- simulation draws --------------------------------------------------------------------------------------
    @cached_property
    def _theta(self) -> np.ndarray:
        """Parameter draws (draws × p) from N(params, cov), from a fixed seed."""
        p = self._p
        rng = np.random.default_rng(p.seed)
        vals, vecs = np.linalg.eigh(p.cov.to_numpy())
        # fix each eigenvector's sign (largest component positive), so last-digit changes of the covariance
        # cannot flip a vector and move the Monte Carlo intervals
        signs = np.sign(vecs[np.argmax(np.abs(vecs), axis=0), np.arange(vecs.shape[1])])
        root = vecs * np.where(signs == 0, 1.0, signs) * np.sqrt(np.clip(vals, 0, None))
        return p.params.to_numpy() + rng.standard_normal((p.n_draws, len(vals))) @ root.T

    def _noise(self, rows: np.ndarray) -> np.ndarray:
        """Predictive noise on the link scale (draws × rows): stationary AR(1) plus white noise.

        Drawn over the grid from the first to the last requested row (so gaps keep their spacing) with a
        generator seeded by the fit's seed and the span, so the same window always gets the same draws.
        """
        p, proc = self._p, self._p.process
        first, last = int(rows[0]), int(rows[-1])
        span = last - first + 1
        rng = np.random.default_rng([p.seed, first, last])
        innov = rng.standard_normal((p.n_draws, span)) * math.sqrt(proc.ar_var * (1 - proc.phi**2))
        innov[:, 0] = rng.standard_normal(p.n_draws) * math.sqrt(proc.ar_var)  # stationary start
        ar = signal.lfilter([1.0], [1.0, -proc.phi], innov, axis=1)
        white = rng.standard_normal((p.n_draws, span)) * math.sqrt(max(proc.gamma0 - proc.ar_var, 0.0))
        return (ar + white)[:, rows - first]

    def _observed(self) -> np.ndarray:
        """The observed series in its own unit (percent stays percent for gaussian-logit)."""
        return self._p.y.to_numpy() * self._p.share_scale

    def _response(self, eta: np.ndarray, noise: np.ndarray | None = None) -> np.ndarray:
        """Linear predictor (plus log/logit-scale noise for draws) to the series' unit.

        Count families: ``exp(η)`` is the mean and draws use mean-one noise ``exp(v - γ0/2)``; gaussian-log:
        ``exp(η + γ0/2)`` (log-normal mean) and draws ``exp(η + v)``; gaussian-logit: ``expit(η)`` and draws
        ``expit(η + v)``, times 100 for a series in percent.
        """
        p = self._p
        half = p.process.gamma0 / 2
        if p.family == "gaussian-logit":
            z = eta if noise is None else eta + noise
            return p.share_scale / (1.0 + np.exp(-z))
        if p.family == "gaussian-log":
            return np.exp(eta + half if noise is None else eta + noise)
        return np.exp(eta if noise is None else eta + noise - half)

    def _design_without(self, removed: list[str]) -> np.ndarray:
        X = self._p.X_aug.copy()
        for label in removed:
            X[self._p.event_cols[label]] = 0.0
        return X.to_numpy()

    def _counterfactual(self, removed: list[str], rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Point counterfactual (rows,) and its predictive draws (draws × rows) with ``removed`` events off."""
        X = self._design_without(removed)[rows]
        off = self._p.offset[rows]
        point = self._response(X @ self._p.params.to_numpy() + off)
        draws = self._response(self._theta @ X.T + off, self._noise(rows))
        return point, draws

    def _check_events(self, events: object, what: str = "events") -> list[str]:
        """The labels of ``events`` (None: all), each given as a label, date or Event of this fit."""
        if events is None:
            return self.events
        if not isinstance(events, list | tuple):
            raise ModelSpecError(f"{what}={events!r}: give a list of this fit's events, e.g. {what}={self.events[:1]}"
                                 ", or None for all of them")
        if not events:
            raise ModelSpecError(f"{what}=[]: name at least one of this fit's events {self.events}, or None for all")
        by_date = {s.date: s.label for s in self._p.specs}
        labels, unknown = [], []
        for item in events:
            if isinstance(item, str) and item in self._p.event_cols:
                labels.append(item)
                continue
            ref = as_event(item, what)
            label = ref.label if ref.label in self._p.event_cols else by_date.get(ref.date)
            (labels if label is not None else unknown).append(label if label is not None else item)
        if unknown:
            raise ModelSpecError(f"{what}={unknown}: not in this fit; its events are {self.events}")
        return labels

    # --- tables ------------------------------------------------------------------------------------------------
    @cached_property
    def frame(self) -> pd.DataFrame:
        """By date: observed, fitted, counterfactual (all events removed) and its pointwise predictive band."""
        p = self._p
        rows = np.arange(len(p.y))
        fitted = self._response(p.X_aug.to_numpy() @ p.params.to_numpy() + p.offset)
        point, draws = self._counterfactual(self.events, rows)
        lo, hi = np.quantile(draws, [p.alpha / 2, 1 - p.alpha / 2], axis=0)
        out = pd.DataFrame({"observed": self._observed(), "fitted": fitted, "counterfactual": point,
                            "counterfactual_low": lo, "counterfactual_high": hi}, index=p.y.index)
        out.attrs = dict(p.y.attrs)
        return out

    @cached_property
    def effects(self) -> pd.DataFrame:
        """One row per (event, term): estimate, interval, p-value and, on the ratio scale, exp of them."""
        rows = []
        z = stats.norm.ppf(1 - self._p.alpha / 2)
        for spec in self._p.specs:
            for term in ("level", "slope"):
                col = f"{term}({spec.label})"
                if col in self._p.params.index:
                    rows.append(self._linear_row(spec.label, term, col, z))
            if spec.effect == "decay":
                rows.extend(self._decay_rows(spec.label, z))
        table = pd.DataFrame(rows, columns=EFFECT_COLUMNS)
        if self._p.family == "gaussian-logit":
            table = self._add_percentage_points(table)
        return self._label(table)

    def _add_percentage_points(self, table: pd.DataFrame) -> pd.DataFrame:
        """Level terms of a share model as percentage-point changes at the event's first period."""
        X = self._design_without(self.events)
        eta = X @ self._p.params.to_numpy() + self._p.offset
        position = {s.label: s.position for s in self._p.specs}
        out = {"pp": [], "pp_low": [], "pp_high": []}
        for row in table.itertuples():
            base = eta[position[row.event]]
            for key, col in (("pp", "estimate"), ("pp_low", "ci_low"), ("pp_high", "ci_high")):
                value = getattr(row, col)
                out[key].append(100 * (_expit(base + value) - _expit(base)) if row.term == "level" else np.nan)
        return table.assign(**out)

    def _label(self, table: pd.DataFrame) -> pd.DataFrame:
        """Name the column axis SIMULATED when the data are simulated, so every displayed table says so."""
        if self.simulated:
            table.columns.name = "SIMULATED"
        return table

    def _se(self, col: str) -> float:
        return float(np.sqrt(max(self._p.cov.loc[col, col], 0.0)))

    def _linear_row(self, label: str, term: str, col: str, z: float) -> dict:
        est, se = float(self._p.params[col]), self._se(col)
        lo, hi = est - z * se, est + z * se
        pval = float(2 * stats.norm.sf(abs(est) / se)) if se > 0 else float("nan")
        return {"event": label, "term": term, "estimate": est, "ci_low": lo, "ci_high": hi, "p_value": pval,
                "ratio": _exp(est), "ratio_low": _exp(lo), "ratio_high": _exp(hi)}

    def _decay_rows(self, label: str, z: float) -> list[dict]:
        """Decay rate and half-life with a profile-likelihood interval (asymmetric, honest near 0 and 1)."""
        delta = self._p.deltas[label]
        col = self._p.deriv_cols[label]
        d_lo, d_hi = self._p.profile.interval(label, self._p.alpha, float(self._p.cov.loc[col, col]))
        nan = float("nan")
        rate = {"event": label, "term": "decay_rate", "estimate": delta, "ci_low": d_lo, "ci_high": d_hi,
                "p_value": nan, "ratio": nan, "ratio_low": nan, "ratio_high": nan}
        half = {"event": label, "term": "half_life", "estimate": _half_life(delta), "ci_low": _half_life(d_lo),
                "ci_high": _half_life(d_hi), "p_value": nan, "ratio": nan, "ratio_low": nan, "ratio_high": nan}
        return [rate, half]

    def recovery_time(self, fraction: float = 0.9, event: str | None = None) -> dict:
        """Periods after ``event`` until observed/counterfactual is back to ``fraction`` and stays there.

        For a drop, the first k with ``exp(effect_k) >= fraction`` (0.9: within 10% of the counterfactual) that
        holds until the end of the series; the interval comes from the parameter draws (decay rate included).
        ``estimate``/``low``/``high`` are None when recovery is not reached within the window (``within_window``
        says whether the estimate is).
        """
        if isinstance(fraction, bool) or not isinstance(fraction, int | float | np.integer | np.floating):
            raise ModelSpecError(f"recovery_time: fraction={fraction!r} must be a number between 0 and 1, e.g. 0.9 "
                                 "(within 10% of the counterfactual)")
        if not 0 < fraction < 1:
            raise ModelSpecError(f"recovery_time: fraction={fraction} must be between 0 and 1 (0.9 = within 10%)")
        label = self._check_events([event], "event")[0] if event is not None else self.events[0]
        spec = next(s for s in self._p.specs if s.label == label)
        horizon = len(self._p.y) - spec.position
        paths = self._effect_paths(spec, horizon)
        times = _first_recovery(paths, math.log(fraction))
        point, draws = times[0], times[1:]
        q = np.quantile(draws, [self._p.alpha / 2, 1 - self._p.alpha / 2], method="inverted_cdf")

        def periods(x: float) -> float | None:
            return None if not np.isfinite(x) else float(x)

        out = {"event": label, "fraction": fraction, "estimate": periods(point), "low": periods(q[0]),
               "high": periods(q[1]), "unit": self.unit, "within_window": bool(np.isfinite(point)),
               "window_periods": int(horizon)}
        return {"data": "SIMULATED", **out} if self.simulated else out

    def _effect_paths(self, spec: EventSpec, horizon: int) -> np.ndarray:
        """Log effect of one event k = 0..horizon-1 periods after it: row 0 at the estimates, then one per draw."""
        names = list(self._p.params.index)
        theta = np.vstack([self._p.params.to_numpy(), self._theta])
        k = np.arange(horizon, dtype=float)
        path = np.zeros((theta.shape[0], horizon))
        level = f"level({spec.label})"
        if spec.effect == "decay":
            logit = math.log(self._p.deltas[spec.label] / (1 - self._p.deltas[spec.label]))
            delta = 1 / (1 + np.exp(-(logit + theta[:, names.index(self._p.deriv_cols[spec.label])])))
            path += theta[:, [names.index(level)]] * delta[:, None] ** k
        elif level in names:
            path += theta[:, [names.index(level)]]
        slope = f"slope({spec.label})"
        if slope in names:
            path += theta[:, [names.index(slope)]] * k
        return path

    # --- impact ------------------------------------------------------------------------------------------------
    def _window(self, start: object, end: object, events: list[str] | None = None
                ) -> tuple[np.ndarray, pd.Timestamp, pd.Timestamp]:
        index = self._p.y.index
        first = min(s.position for s in self._p.specs if events is None or s.label in events)
        t0 = index[first] if start is None else as_event(start, "impact: start").date
        t1 = index[-1] if end is None else as_event(end, "impact: end").date
        if t1 < t0:
            raise ModelSpecError(f"impact: end {t1.date()} is before start {t0.date()}")
        rows = np.flatnonzero((index >= t0) & (index <= t1) & self._p.obs)
        if rows.size == 0:
            raise ModelSpecError(f"impact: no observed periods between {t0.date()} and {t1.date()}")
        return rows, t0, t1

    def impact(self, start: object = None, end: object = None, events: list | None = None) -> dict:
        """Relative and cumulative effect of ``events`` (default: all) over ``[start, end]`` (inclusive).

        ``relative = sum(observed)/sum(counterfactual) - 1`` and ``cumulative = sum(observed) -
        sum(counterfactual)`` (in the series' unit), summed over observed periods of the window (default: from
        the first of the named events to the end).  The counterfactual removes only the named events' terms, so
        with several events this is the contribution of those events.  Intervals are percentiles of a parametric
        simulation that draws every coefficient (decay rates included) from its covariance and adds the serially
        correlated noise of the counterfactual.
        """
        removed = self._check_events(events)
        rows, t0, t1 = self._window(start, end, removed)
        point, draws = self._counterfactual(removed, rows)
        observed = float(np.sum(self._observed()[rows]))
        cf_sum, cf_draws = float(point.sum()), draws.sum(axis=1)
        q = [self._p.alpha / 2, 1 - self._p.alpha / 2]
        rel_lo, rel_hi = np.quantile(observed / cf_draws - 1, q)
        cum_lo, cum_hi = np.quantile(observed - cf_draws, q)
        return {"start": t0.date().isoformat(), "end": t1.date().isoformat(), "periods": int(rows.size),
                "observed": observed, "counterfactual": cf_sum,
                "relative": observed / cf_sum - 1, "relative_low": float(rel_lo), "relative_high": float(rel_hi),
                "cumulative": observed - cf_sum, "cumulative_low": float(cum_lo), "cumulative_high": float(cum_hi)}

    def impact_table(self, horizons: tuple[int, ...] = (7, 30, 90)) -> pd.DataFrame:
        """``impact`` over the first ``h`` periods after the first event for each horizon, and the whole post."""
        index = self._p.y.index
        first = self._p.specs[0].position
        rows = []
        for h in horizons:
            if first + h - 1 < len(index):
                rows.append({"window": f"first {h} {self.unit}", **self.impact(index[first], index[first + h - 1])})
        rows.append({"window": "whole post period", **self.impact()})
        return self._label(pd.DataFrame(rows))

    # --- diagnostics and reporting ----------------------------------------------------------------------------
    def diagnostics(self, lags: int | None = None) -> dict:
        """Residual checks: ACF/PACF table, Ljung-Box tests, over-dispersion, pre-period MAPE, AIC/BIC."""
        from spamits.its._diagnostics import diagnostics

        return diagnostics(self, self._p, lags)

    def summary(self) -> str:
        """A fixed-width text summary (no run dates or times, so it is reproducible)."""
        from spamits.its._summary import summary

        return summary(self, self._p)

    def __repr__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict:
        """JSON-ready dict of the specification, effects, impacts, diagnostics and notes."""
        from spamits.its._summary import to_dict

        return to_dict(self, self._p)


def _first_recovery(paths: np.ndarray, threshold: float) -> np.ndarray:
    """Per row, the first index from which every later value is >= threshold (inf if the last one is not)."""
    below = paths < threshold
    recovered = ~below[:, -1]
    last_below = np.where(below.any(axis=1), below.shape[1] - 1 - np.argmax(below[:, ::-1], axis=1), -1)
    return np.where(recovered, last_below + 1.0, np.inf)


def _expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x > -700 else 0.0  # noqa: PLR2004 - avoids overflow


def _half_life(delta: float) -> float:
    """ln 0.5 / ln δ in periods; 0 for δ = 0 and infinity for δ = 1."""
    if delta <= 0:
        return 0.0
    if delta >= 1:
        return float("inf")
    return math.log(0.5) / math.log(delta)


def _exp(x: float) -> float:
    """``exp(x)``, infinite instead of an OverflowError for an unbounded estimate or interval end."""
    return math.exp(x) if x < 709.0 else math.inf

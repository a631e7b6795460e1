"""``ITSResult``: the read-only outcome of :func:`spamits.its.fit`, with tidy tables and a stable summary."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats

from spamits._labels import mark_simulated
from spamits.errors import ModelSpecError
from spamits.its import _conditional as conditional
from spamits.its import _hourly as hourly
from spamits.its import precheck as precheck_mod
from spamits.its._covariance import ResidualProcess, fit_residual_process
from spamits.its._design import UNIT, EventSpec
from spamits.its._events import as_event
from spamits.its.families import FAMILY_MODELS

EFFECT_COLUMNS = ["event", "term", "estimate", "ci_low", "ci_high", "p_value", "ratio", "ratio_low",
                  "ratio_high"]
FRAME_COLUMNS = ["observed", "fitted", "counterfactual", "counterfactual_low", "counterfactual_high"]


@dataclass(frozen=True, eq=False, repr=False)
class ITSResult:
    """Result of an ITS fit: read-only fields, tables derived from them, never a refit.

    Tables: ``effects`` (one row per event and term), ``frame`` (by date: observed, fitted, counterfactual and
    its band); ``params``/``cov`` (coefficients on the log scale and their covariance, including the logit
    decay rates; do not modify them).  Methods: ``impact``, ``impact_table``, ``recovery_time``,
    ``diagnostics``, ``summary``, ``to_dict``.  Fields (set by ``spamits.its.fit``):
    """

    y: pd.Series  # (n,) the modelled series (shares for gaussian-logit), with the series' attrs
    observed_mask: np.ndarray  # (n,) bool: the observed (not missing) periods
    family: str  # the name in spamits.its.FAMILY_MODELS
    errors: str  # the name in spamits.its.ERROR_MODELS
    specs: tuple[EventSpec, ...]  # the events, in time order
    decay_rates: dict  # event label -> estimated decay rate per period (effect="decay" only)
    freq: str  # "H", "D", "W" or "M"
    seasonality: object  # as given to fit
    design_matrix: pd.DataFrame  # (n, p): the design, with the linearised decay-rate columns
    event_columns: dict  # event label -> its columns in ``design_matrix`` (zeroed for the counterfactual)
    decay_columns: dict  # event label -> its linearised decay-rate column (coefficient 0)
    offset: np.ndarray  # (n,) log offset
    params: pd.Series  # (p,) coefficients on the link scale
    cov: pd.DataFrame  # (p, p) their covariance under the error model
    cov_info: dict  # how the covariance was made
    residuals: tuple  # (log-scale residuals, time positions, design) behind ``process``
    dispersion: float  # NB2 dispersion (Var = mu + dispersion mu^2); 0 unless family="negbin"
    scale: float  # σ² (gaussian families), Pearson dispersion (quasipoisson) or 1
    loglik: float  # log-likelihood of the family at the estimates (independence)
    alpha: float  # 1 - confidence level of every interval
    n_draws: int  # simulation draws behind the intervals
    seed: int
    notes: tuple[str, ...]
    control_mode: str | None
    simulated: bool  # the series is simulated (tables and summary say SIMULATED)
    share_scale: float = 1.0  # gaussian-logit: 100 when the series is in percent
    profile: object = None  # _profile.Profile: the decay-rate profile likelihood
    control_check: pd.DataFrame | None = None  # pre-period tracking of each control series
    whitener: object = None  # _gls.Whitener of errors="ar1" (None for the other error models)
    decay_bounds: tuple = ()  # _profile.DecayBound: decay-rate estimates that reached a search bound
    counterfactual: str = "conditional"  # as resolved: "conditional", "in-sample" or "stationary" (_conditional)
    interval: str = "model"  # how impact() makes its intervals: "model" or "calibrated" (its.calibrate; "auto" chose)
    nuisance: tuple[str, ...] = ()  # labels of nuisance events (pre-period breaks, its.prebreak): not in ``events``

    @cached_property
    def burst_days(self) -> pd.DatetimeIndex:
        """Pre-period burst (campaign) days before the first event (``its.precheck.burst_days``; on access)."""
        return precheck_mod.burst_days(self.y, self.y.index[self.first_position])

    @cached_property
    def prechecks(self) -> precheck_mod.PreCheck:
        """The pre-period checks (``its.precheck``) before the first event, run on first access; each finding
        (bursts, wandering level, a break with catalog events near it) is a ModelFitWarning and a note."""
        return precheck_mod.precheck(self.y, self.y.index[self.first_position], warn_user=True,
                                     modelled=self.nuisance_dates)

    @cached_property
    def process(self) -> ResidualProcess:
        """AR(1)+white noise of the log-scale residuals: the predictive noise of the counterfactual draws.

        Fitted (with its bias correction) on first use: the effects table does not need it.
        """
        return fit_residual_process(*self.residuals)

    @property
    def unit(self) -> str:
        """Unit of slopes, half-lives and recovery times: hours, days, weeks or months."""
        return UNIT[self.freq]

    @property
    def events(self) -> list[str]:
        """Labels of the events of interest, in time order (nuisance events, ``nuisance``, left out)."""
        return [s.label for s in self.specs if s.label not in self.nuisance]

    @property
    def first_position(self) -> int:
        """Index position of the first event of interest: the pre-period ends there."""
        return min(s.position for s in self.specs if s.label not in self.nuisance)

    @property
    def nuisance_dates(self) -> tuple[pd.Timestamp, ...]:
        """Dates of the nuisance events (pre-period breaks modelled by ``fit(pre_break="auto")``)."""
        return tuple(s.date for s in self.specs if s.label in self.nuisance)

    @property
    def decay_at_bound(self) -> dict[str, tuple[str, ...]]:
        """{event label: the search bounds its half-life estimate reached (``"upper"``: no recovery within the
        search range; ``"lower"``: at most a one-period pulse)}; events whose estimate is inside are absent.
        The same facts as the notes, as fields, so nothing has to be read back from text."""
        out: dict[str, tuple[str, ...]] = {}
        for bound in self.decay_bounds:
            out[bound.label] = (*out.get(bound.label, ()), bound.side)
        return out


    @property
    def n_pre(self) -> int:
        return int(self.observed_mask[: self.first_position].sum())

    @property
    def n_post(self) -> int:
        return int(self.observed_mask[self.first_position:].sum())

    # --- simulation draws --------------------------------------------------------------------------------------
    @cached_property
    def _theta(self) -> np.ndarray:
        """Parameter draws (draws × p) from N(params, cov), from a fixed seed."""
        rng = np.random.default_rng(self.seed)
        vals, vecs = np.linalg.eigh(self.cov.to_numpy())
        # fix each eigenvector's sign (largest component positive), so last-digit changes of the covariance
        # cannot flip a vector and move the Monte Carlo intervals
        signs = np.sign(vecs[np.argmax(np.abs(vecs), axis=0), np.arange(vecs.shape[1])])
        root = vecs * np.where(signs == 0, 1.0, signs) * np.sqrt(np.clip(vals, 0, None))
        return self.params.to_numpy() + rng.standard_normal((self.n_draws, len(vals))) @ root.T

    def _observed(self) -> np.ndarray:
        """The observed series in its own unit (percent stays percent for gaussian-logit)."""
        return self.y.to_numpy() * self.share_scale

    def _response(self, eta: np.ndarray, noise: np.ndarray | None = None) -> np.ndarray:
        """Linear predictor (plus link-scale noise for draws) to the series' unit (``Family.response``)."""
        return FAMILY_MODELS.get(self.family).response(eta, self.process.gamma0, noise, self.share_scale)

    def _design_without(self, removed: list[str]) -> np.ndarray:
        X = self.design_matrix.copy()
        for label in removed:
            X[self.event_columns[label]] = 0.0
        return X.to_numpy()

    def _counterfactual(self, removed: list[str], rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Point counterfactual (rows,) and draws (draws × rows) with ``removed`` off (noise: its._conditional)."""
        X = self._design_without(removed)[rows]
        off = self.offset[rows]
        eta, eta_draws = X @ self.params.to_numpy() + off, self._theta @ X.T + off
        noise = conditional.stationary_noise(self.process, rows, self.n_draws, self.seed)
        if self.counterfactual in ("conditional", "in-sample"):
            first = min(s.position for s in self.specs if s.label in removed)
            conditional.condition(eta, eta_draws, noise, rows, first, self.residuals, self._theta,
                                  self.params.to_numpy(), self.process, FAMILY_MODELS.get(self.family).link == "log",
                                  self.seed, conditional.DAYS[self.freq])
        return self._response(eta), self._response(eta_draws, noise)

    def _check_events(self, events: object, what: str = "events") -> list[str]:
        """The labels of ``events`` (None: all), each given as a label, date or Event of this fit."""
        if events is None:
            return self.events
        if not isinstance(events, list | tuple):
            raise ModelSpecError(f"{what}={events!r}: give a list of this fit's events, e.g. {what}={self.events[:1]}"
                                 ", or None for all of them")
        if not events:
            raise ModelSpecError(f"{what}=[]: name at least one of this fit's events {self.events}, or None for all")
        by_date = {s.date: s.label for s in self.specs}
        labels, unknown = [], []
        for item in events:
            if isinstance(item, str) and item in self.event_columns:
                labels.append(item)
                continue
            ref = as_event(item, what)
            label = ref.label if ref.label in self.event_columns else by_date.get(ref.date)
            (labels if label is not None else unknown).append(label if label is not None else item)
        if unknown:
            raise ModelSpecError(f"{what}={unknown}: not in this fit; its events are {self.events}")
        return labels

    # --- tables ------------------------------------------------------------------------------------------------
    @cached_property
    def frame(self) -> pd.DataFrame:
        """By date: observed, fitted, counterfactual (all events removed) and its pointwise predictive band.

        With ``counterfactual="in-sample"`` the observed periods from the first event on show the counterfactual
        that ``impact`` sums (observed without the events' effect, its band from the effect's uncertainty alone),
        unless ``impact`` falls back to the forecast (``_conditional.in_sample``); the other periods show the
        forecast."""
        rows = np.arange(len(self.y))
        fitted = self._response(self.design_matrix.to_numpy() @ self.params.to_numpy() + self.offset)
        point, draws = self._counterfactual(self.events, rows)
        post = np.flatnonzero((rows >= self.first_position) & self.observed_mask)
        in_sample = conditional.in_sample(self, self.events, post) if post.size else None
        if in_sample is not None:
            point[post], draws[:, post] = in_sample
        lo, hi = np.quantile(draws, [self.alpha / 2, 1 - self.alpha / 2], axis=0)
        out = pd.DataFrame({"observed": self._observed(), "fitted": fitted, "counterfactual": point,
                            "counterfactual_low": lo, "counterfactual_high": hi}, index=self.y.index)
        out.attrs = dict(self.y.attrs)
        return out

    @cached_property
    def effects(self) -> pd.DataFrame:
        """One row per (event, term): estimate, interval, p-value and, on the ratio scale, exp of them."""
        rows = []
        z = stats.norm.ppf(1 - self.alpha / 2)
        for spec in self.specs:
            for term in ("level", "slope"):
                col = f"{term}({spec.label})"
                if col in self.params.index:
                    rows.append(self._linear_row(spec.label, term, col, z))
            if spec.effect == "decay":
                rows.extend(self._decay_rows(spec.label, z))
        table = pd.DataFrame(rows, columns=EFFECT_COLUMNS)
        if FAMILY_MODELS.get(self.family).link == "logit":
            table = self._add_percentage_points(table)
        return self._label(table)

    def _add_percentage_points(self, table: pd.DataFrame) -> pd.DataFrame:
        """Level terms of a share model as percentage-point changes at the event's first period."""
        X = self._design_without(self.events)
        eta = X @ self.params.to_numpy() + self.offset
        position = {s.label: s.position for s in self.specs}
        out = {"pp": [], "pp_low": [], "pp_high": []}
        for row in table.itertuples():
            base = eta[position[row.event]]
            for key, col in (("pp", "estimate"), ("pp_low", "ci_low"), ("pp_high", "ci_high")):
                value = getattr(row, col)
                out[key].append(100 * (_expit(base + value) - _expit(base)) if row.term == "level" else np.nan)
        return table.assign(**out)

    def _label(self, table: pd.DataFrame) -> pd.DataFrame:
        """Name the column axis SIMULATED when the data are simulated, so every displayed table says so."""
        return mark_simulated(table, self.simulated)

    def _se(self, col: str) -> float:
        return float(np.sqrt(max(self.cov.loc[col, col], 0.0)))

    def _linear_row(self, label: str, term: str, col: str, z: float) -> dict:
        est, se = float(self.params[col]), self._se(col)
        lo, hi = est - z * se, est + z * se
        pval = float(2 * stats.norm.sf(abs(est) / se)) if se > 0 else float("nan")
        return {"event": label, "term": term, "estimate": est, "ci_low": lo, "ci_high": hi, "p_value": pval,
                "ratio": _exp(est), "ratio_low": _exp(lo), "ratio_high": _exp(hi)}

    def _decay_rows(self, label: str, z: float) -> list[dict]:
        """Decay rate and half-life with a profile-likelihood interval (asymmetric, honest near 0 and 1)."""
        delta = self.decay_rates[label]
        col = self.decay_columns[label]
        d_lo, d_hi = self.profile.interval(label, self.alpha, float(self.cov.loc[col, col]))
        nan = float("nan")
        rate = {"event": label, "term": "decay_rate", "estimate": delta, "ci_low": d_lo, "ci_high": d_hi,
                "p_value": nan, "ratio": nan, "ratio_low": nan, "ratio_high": nan}
        half = {"event": label, "term": "half_life", "estimate": _half_life(delta), "ci_low": _half_life(d_lo),
                "ci_high": _half_life(d_hi), "p_value": nan, "ratio": nan, "ratio_low": nan, "ratio_high": nan}
        return [rate, half]

    def recovery_time(self, fraction: float = 0.9, event: str | None = None) -> dict:
        """Periods after ``event`` until observed/counterfactual is back to ``fraction`` and stays there.

        For a drop, the first k with ``exp(effect_k) >= fraction`` (0.9: within 10% of the counterfactual) that
        holds until the end of the series; for a rise (a surge, a pause's return: the estimated effect on the event
        period is above zero), the first k with ``exp(effect_k) <= 1 / fraction``, the same distance on the log
        scale.  The interval comes from the parameter draws (decay rate included), read in the estimate's direction.
        ``estimate``/``low``/``high`` are None when recovery is not reached within the window (``within_window``
        says whether the estimate is).
        """
        if isinstance(fraction, bool) or not isinstance(fraction, int | float | np.integer | np.floating):
            raise ModelSpecError(f"recovery_time: fraction={fraction!r} must be a number between 0 and 1, e.g. 0.9 "
                                 "(within 10% of the counterfactual)")
        if not 0 < fraction < 1:
            raise ModelSpecError(f"recovery_time: fraction={fraction} must be between 0 and 1 (0.9 = within 10%)")
        label = self._check_events([event], "event")[0] if event is not None else self.events[0]
        spec = next(s for s in self.specs if s.label == label)
        horizon = len(self.y) - spec.position
        paths = self._effect_paths(spec, horizon)
        sign = -1.0 if paths[0, 0] > 0 else 1.0  # a rise recovers downwards: mirror it into a drop
        times = _first_recovery(sign * paths, math.log(fraction))
        point, draws = times[0], times[1:]
        q = np.quantile(draws, [self.alpha / 2, 1 - self.alpha / 2], method="inverted_cdf")

        def periods(x: float) -> float | None:
            return None if not np.isfinite(x) else float(x)

        out = {"event": label, "fraction": fraction, "estimate": periods(point), "low": periods(q[0]),
               "high": periods(q[1]), "unit": self.unit, "within_window": bool(np.isfinite(point)),
               "window_periods": int(horizon)}
        return {"data": "SIMULATED", **out} if self.simulated else out

    def _effect_paths(self, spec: EventSpec, horizon: int) -> np.ndarray:
        """Log effect of one event k = 0..horizon-1 periods after it: row 0 at the estimates, then one per draw."""
        names = list(self.params.index)
        theta = np.vstack([self.params.to_numpy(), self._theta])
        k = np.arange(horizon, dtype=float)
        path = np.zeros((theta.shape[0], horizon))
        level = f"level({spec.label})"
        if spec.effect == "decay":
            logit = math.log(self.decay_rates[spec.label] / (1 - self.decay_rates[spec.label]))
            delta = 1 / (1 + np.exp(-(logit + theta[:, names.index(self.decay_columns[spec.label])])))
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
        index = self.y.index
        first = min(s.position for s in self.specs if s.label in (self.events if events is None else events))
        t0 = index[first] if start is None else as_event(start, "impact: start").date
        t1 = index[-1] if end is None else as_event(end, "impact: end").date
        if t1 < t0:
            raise ModelSpecError(f"impact: end {t1.date()} is before start {t0.date()}")
        rows = np.flatnonzero((index >= t0) & (index <= t1) & self.observed_mask)
        if rows.size == 0:
            raise ModelSpecError(f"impact: no observed periods between {t0.date()} and {t1.date()}")
        return rows, t0, t1

    def impact(self, start: object = None, end: object = None, events: list | None = None,
               interval: str | None = None) -> dict:
        """Relative and cumulative effect of ``events`` (default: all) over ``[start, end]`` (inclusive).

        ``relative = sum(observed)/sum(counterfactual) - 1`` and ``cumulative = sum(observed) -
        sum(counterfactual)`` (in the series' unit), summed over observed periods of the window (default: from
        the first of the named events to the end).  The counterfactual removes only the named events' terms, so
        with several events this is the contribution of those events.  With ``interval="model"`` the intervals
        are percentiles of a parametric simulation that draws every coefficient (decay rates included) from its
        covariance and adds the serially correlated noise of the counterfactual (with ``counterfactual=
        "in-sample"``: the observed series without the events' effect at each draw, the in-sample BLUP of
        its._conditional, or the conditional forecast when the pre-period level wanders); with ``"calibrated"``
        the noise is resampled from the errors the fit makes on pre-period windows of the same length
        (:func:`spamits.its.calibrate.calibrated_impact`, with the stationary counterfactual's point).
        ``interval`` (default: the fit's, ``fit(interval=...)``) may also be ``"auto"``; the key ``interval`` of
        the result says which was used (``"model"`` or ``"pre-period calibrated"``).  When the fit chose
        ``"calibrated"`` by itself and the pre-period is too short for windows this long, the model interval is
        used.
        """
        from spamits.its import calibrate

        chosen = self.interval if interval is None else calibrate.resolve_interval(
            calibrate.check_interval(interval), self)[0]
        if chosen == "calibrated":
            try:
                out = calibrate.calibrated_impact(self, start, end, events)
            except ModelSpecError:
                if interval == "calibrated":  # asked for by name: the reason is the answer
                    raise
            else:
                return {key: value for key, value in out.items() if key != "blocks"}
        return self._model_impact(start, end, events)

    def _model_impact(self, start: object, end: object, events: list | None) -> dict:
        removed = self._check_events(events)
        rows, t0, t1 = self._window(start, end, removed)
        in_sample = conditional.in_sample(self, removed, rows)
        point, draws = self._counterfactual(removed, rows) if in_sample is None else in_sample
        observed = float(np.sum(self._observed()[rows]))
        cf_sum, cf_draws = float(point.sum()), draws.sum(axis=1)
        q = [self.alpha / 2, 1 - self.alpha / 2]
        rel_lo, rel_hi = np.quantile(observed / cf_draws - 1, q)
        cum_lo, cum_hi = np.quantile(observed - cf_draws, q)
        return {"start": hourly.stamp(t0), "end": hourly.stamp(t1), "periods": int(rows.size),
                "observed": observed, "counterfactual": cf_sum,
                "relative": observed / cf_sum - 1, "relative_low": float(rel_lo), "relative_high": float(rel_hi),
                "cumulative": observed - cf_sum, "cumulative_low": float(cum_lo), "cumulative_high": float(cum_hi),
                "interval": "model"}

    def impact_table(self, horizons: tuple[int, ...] | None = None) -> pd.DataFrame:
        """``impact`` over the first ``h`` periods after the first event for each horizon that fits in the series
        (default 7, 30 and 90 periods; 24, 168 and 720 hours on hourly series), and the whole post period: one
        row each, with its ``window`` (text) and ``horizon`` (h periods, as a field, nullable ``Int64``; missing
        for the whole post period)."""
        horizons = hourly.horizons(self.freq) if horizons is None else horizons
        index = self.y.index
        first = self.first_position
        rows = []
        for h in horizons:
            if first + h - 1 < len(index):
                rows.append({"window": f"first {h} {self.unit}", "horizon": int(h),
                             **self.impact(index[first], index[first + h - 1])})
        rows.append({"window": "whole post period", "horizon": None, **self.impact()})
        table = pd.DataFrame(rows)
        table["horizon"] = pd.array([r["horizon"] for r in rows], dtype="Int64")
        return self._label(table)

    # --- diagnostics and reporting ----------------------------------------------------------------------------
    def diagnostics(self, lags: int | None = None) -> dict:
        """Residual checks: ACF/PACF table, Ljung-Box tests, over-dispersion, pre-period MAPE, AIC/BIC."""
        from spamits.its._diagnostics import diagnostics

        return diagnostics(self, lags)

    def summary(self) -> str:
        """A fixed-width text summary (no run dates or times, so it is reproducible)."""
        from spamits.its._summary import summary

        return summary(self)

    def __repr__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict:
        """JSON-ready dict of the specification, effects, impacts, diagnostics and notes."""
        from spamits.its._summary import to_dict

        return to_dict(self)


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

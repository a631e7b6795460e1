"""``ITSModel``: an interrupted time-series model whose inputs are checked and normalised once.

``ITSModel(y, events, family=..., effect=..., ...)`` validates the series, every event, every option and the
alignment of offsets and controls, and builds the design; ``fit()`` estimates it (``spamits.its.fit`` is
``ITSModel(...).fit()``), and ``fit_batch`` fits the same model with one event at each of many dates at once,
as the placebo and break scans of ``spamits.robust`` do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from spamits.errors import ModelFitWarning, ModelSpecError, warn
from spamits.its import _design as design
from spamits.its import _hourly as hourly
from spamits.its import _inputs as inputs
from spamits.its import batch as bf
from spamits.its._conditional import DEFAULT_COUNTERFACTUAL, check_counterfactual
from spamits.its._events import EventRef, as_events
from spamits.its._fit import estimate
from spamits.its.calibrate import DEFAULT_INTERVAL, check_interval
from spamits.its.errormodels import DEFAULT_ERRORS, ERROR_MODELS
from spamits.its.families import FAMILY_MODELS
from spamits.its.prebreak import DEFAULT_PRE_BREAK, NUISANCE_EFFECT, check_pre_break
from spamits.its.terms import Design

MIN_DRAWS = 100  # fewer simulation draws cannot place the 2.5% and 97.5% points of an interval


@dataclass(frozen=True)
class BatchEffects:
    """Batched fits with one event at each of D dates: the fits, the primary term's estimate (D,) and its
    standard error (D,) under the model's error model, and (when asked for) the model-based one (D,)."""

    fit: bf.BatchFit
    estimate: np.ndarray
    std_err: np.ndarray
    std_err_model_based: np.ndarray | None


class ITSModel:
    """An ITS model of ``y`` around ``events`` with the options of :func:`spamits.its.fit`, checked once.

    ``events`` may be None for a model used only for batched scans (:meth:`fit_batch`); :meth:`fit` needs at
    least one event.  Every bad input raises :class:`~spamits.errors.ModelSpecError` naming the argument.
    Attributes (read-only): ``y`` (on the model's scale: shares for ``gaussian-logit``), ``freq`` (``"H"``,
    ``"D"``, ``"W"`` or ``"M"``), ``seasonality`` (as fitted: ``"auto"`` resolved by ``spamits.its._hourly``),
    ``specs`` (one ``EventSpec`` per event, in time order; nuisance events included), ``nuisance`` (the labels
    of nuisance events: the ``EventRef`` items given as ``nuisance=``, fitted with ``NUISANCE_EFFECT`` and kept
    in the counterfactual; ``spamits.its.prebreak``), ``design`` (the baseline
    ``terms.Design``: constant, trend, seasonal and control terms), ``baseline`` (its matrix, one row per
    period), ``log_offset`` (n,), ``observed``
    (n, bool) and the options.
    """

    def __init__(self, y: pd.Series, events: object, *, family: str = "negbin",
                 effect: str | Sequence[str] = "step", seasonality: str | int | None = hourly.AUTO,
                 errors: str = DEFAULT_ERRORS, offset: pd.Series | np.ndarray | None = None,
                 control: pd.Series | pd.DataFrame | None = None, control_mode: str = "covariate",
                 alpha: float = 0.05, n_draws: int = 2000, seed: int = 0,
                 counterfactual: str = DEFAULT_COUNTERFACTUAL, interval: str = DEFAULT_INTERVAL,
                 pre_break: str = DEFAULT_PRE_BREAK, nuisance: Sequence[EventRef] = ()) -> None:
        self._inputs = {"offset": offset, "control": control}
        y = inputs.check_y(y)
        self.alpha = inputs.check_alpha(alpha)
        self.n_draws = inputs.check_int(n_draws, "n_draws", MIN_DRAWS, " (simulation draws behind every "
                                        "interval; 2000 is the default)")
        self.seed = seed if isinstance(seed, int | np.integer) and not isinstance(seed, bool) else inputs.check_int(
            seed, "seed", 0)
        self.family = FAMILY_MODELS.get(family).name
        self.errors = ERROR_MODELS.get(errors).name
        self.counterfactual = check_counterfactual(counterfactual)
        self.interval = check_interval(interval)
        self.pre_break = check_pre_break(pre_break)
        if control_mode not in inputs.CONTROL_MODES:
            raise ModelSpecError(f"control_mode={control_mode!r}: must be one of {inputs.CONTROL_MODES}")
        self.freq = design.fit_freq(y.index)
        seasonality = hourly.resolve_seasonality(seasonality, self.freq)
        self.seasonality = seasonality
        self.refs: tuple[EventRef, ...] = ()
        self.specs: tuple[design.EventSpec, ...] = ()
        self.effect = effect
        self.nuisance: tuple[str, ...] = tuple(ref.label for ref in nuisance)
        if events is not None:
            self.refs = tuple(as_events(events))
            effects = [effect] * len(self.refs) if isinstance(effect, str) else list(effect)
            if len(effects) != len(self.refs):
                raise ModelSpecError(f"effect: got {len(effects)} effects for {len(self.refs)} events; give one "
                                     "per event")
            self.specs = tuple(_event_specs(y.index, (*nuisance, *self.refs),
                                            [NUISANCE_EFFECT] * len(nuisance) + effects))
        off = inputs.log_offset(offset, y.index, "offset")
        controls, off, self.control_logs = inputs.add_control(off, control, control_mode, y.index)
        self.design = Design(y.index, (*design.baseline_terms(seasonality, self.freq), *controls))
        base = self.design.matrix
        self.control_mode = control_mode if control is not None else None
        self.y, self.share_scale = inputs.shares(y, self.family)
        self.observed = ~np.isnan(self.y.to_numpy())
        FAMILY_MODELS.get(self.family).check_values(self.yv)
        self.baseline, self.log_offset = base, off
        if self.specs:
            _check_periods(self.specs, self.observed, base.shape[1], self.freq, self.first_position)
            self._check_rank()

    # --- facts ---------------------------------------------------------------------------------------------
    @property
    def yv(self) -> np.ndarray:
        """The observed values (m,) on the model's scale."""
        return self.y.to_numpy()[self.observed]

    @property
    def index(self) -> pd.DatetimeIndex:
        return self.y.index

    @property
    def n_baseline(self) -> int:
        """Number of baseline columns (constant, trend, seasonal terms, control covariates)."""
        return int(self.baseline.shape[1])

    @property
    def natural_period(self) -> int:
        """Periods per seasonal cycle: 24 (hourly), 7 (daily), 52 (weekly) or 12 (monthly)."""
        return design.NATURAL_PERIOD[self.freq]

    @property
    def unit(self) -> str:
        return design.UNIT[self.freq]

    def position(self, date: pd.Timestamp) -> int:
        """Index position of the period containing ``date`` (the event date is inclusive in the post period)."""
        return design.event_position(self.index, date)

    # --- estimation ------------------------------------------------------------------------------------------
    def fit(self) -> object:
        """Estimate the model: an :class:`~spamits.its.ITSResult` (see :func:`spamits.its.fit`); with
        ``pre_break="auto"`` a break the pre-period scan finds may join it (:mod:`spamits.its.prebreak`)."""
        if not self.specs:
            raise ModelSpecError("events: this model has no event; give at least one event date or Event")
        from spamits.its.prebreak import fit_with_pre_break

        return fit_with_pre_break(self, estimate)

    @property
    def first_position(self) -> int:
        """Index position of the first event of interest (the pre-period ends there; nuisance breaks are before)."""
        return min(s.position for s in self.specs if s.label not in self.nuisance)

    def restricted(self, stop: int) -> ITSModel:
        """The same model options on the first ``stop`` periods of the series, without events (for scans)."""
        offset = self._inputs["offset"]
        if isinstance(offset, np.ndarray | list | tuple):
            offset = np.asarray(offset)[:stop]
        return self._replace(self.y.iloc[:stop], None, offset)

    def with_nuisance(self, refs: Sequence[EventRef]) -> ITSModel:
        """The same model and events with ``refs`` added as nuisance events (effect ``NUISANCE_EFFECT``; kept in
        the counterfactual, left out of ``result.events``), and ``pre_break="none"``."""
        return self._replace(self.y, list(self.refs), self._inputs["offset"], nuisance=refs)

    def _replace(self, y: pd.Series, events: object, offset: object, nuisance: Sequence[EventRef] = ()) -> ITSModel:
        return ITSModel(y * self.share_scale if self.share_scale != 1 else y,
                        events, family=self.family, effect=self.effect, seasonality=self.seasonality,
                        errors=self.errors, offset=offset, control=self._inputs["control"],
                        control_mode=self.control_mode or "covariate", alpha=self.alpha, n_draws=self.n_draws,
                        seed=self.seed, counterfactual=self.counterfactual, interval=self.interval,
                        pre_break="none" if nuisance else self.pre_break, nuisance=nuisance)

    @property
    def batch_errors(self) -> str:
        """The error model of batched fits: ``ar1`` (feasible GLS, not batched) runs as ``ar1-sandwich``."""
        return ERROR_MODELS.get(self.errors).batched

    def fit_batch(self, starts: np.ndarray, *, delta: float | None = None,
                  model_based: bool = False) -> BatchEffects:
        """Fit the model with one event (``effect``, one string) starting at each position in ``starts`` (D,).

        All D fits are solved together (``spamits.its.batch``) and agree with ``fit`` at each date.  ``delta``
        fixes the decay rate of ``effect="decay"``.  Returns the primary term's (level, or slope for
        ``effect="slope"``) estimate and standard error under :attr:`batch_errors`, and with ``model_based``
        also its model-based (iid) standard error.
        """
        effect = self.effect
        if not isinstance(effect, str):
            raise ModelSpecError(f"effect={effect!r}: give one effect shape (a string) for the one event")
        B, obs = self.baseline.to_numpy()[self.observed], self.observed
        E = _event_stack(len(obs), np.asarray(starts), effect, delta, obs)
        fit = bf.fit_batch(self.family, B, E, self.yv, self.log_offset[obs])
        p0 = B.shape[1]
        if effect == "decay":  # the linearised decay-rate column, as fit() adds it (coefficient 0)
            k = np.clip(np.arange(len(obs))[None, :] - np.asarray(starts)[:, None], 0, None)[:, obs]
            deriv = np.where(E[:, :, 0] > 0, fit.beta[:, [p0]] * k * delta**k * (1 - delta), 0.0)
            E = np.concatenate([E, deriv[:, :, None]], axis=2)
        pos = np.flatnonzero(obs)

        def std_err(errors: str) -> np.ndarray:  # of the first event column
            cov_type = ERROR_MODELS.get(errors).cov_type
            return np.sqrt(np.clip(bf.covariance(cov_type, B, E, fit, pos, keep=[p0])[:, 0, 0], 0, None))

        errors = self.batch_errors
        se = std_err(errors)
        if not model_based:
            return BatchEffects(fit, fit.beta[:, p0], se, None)
        model_based = ERROR_MODELS.get(errors).cov_type == "iid"
        return BatchEffects(fit, fit.beta[:, p0], se, se if model_based else std_err("iid"))

    def fit_null(self) -> bf.BatchFit:
        """The model without any event term, as a batch of one fit."""
        B = self.baseline.to_numpy()[self.observed]
        return bf.fit_batch(self.family, B, np.zeros((1, len(self.yv), 0)), self.yv, self.log_offset[self.observed])

    def likelihood_ratio(self, fit: bf.BatchFit, null: bf.BatchFit) -> np.ndarray:
        """Likelihood-ratio statistic (D,) of each batched fit against the ``null`` fit (:meth:`fit_null`)."""
        return FAMILY_MODELS.get(self.family).likelihood_ratio(fit, null, self.yv)

    # --- checks --------------------------------------------------------------------------------------------
    def _check_rank(self) -> None:
        """ModelSpecError naming the first column that is a combination of the ones before it (decay rates at
        0.5 for the check): ``terms.Design.check_rank`` on the baseline and event terms."""
        events = [t for s in self.specs for t in s.design_terms(0.5 if s.effect == "decay" else None)]
        Design(self.index, (*self.design.terms, *events)).check_rank(self.observed)


def _event_specs(index: pd.DatetimeIndex, refs: Sequence[EventRef],
                 effects: Sequence[str]) -> list[design.EventSpec]:
    specs = []
    for ref, eff in zip(refs, effects, strict=True):
        if eff not in design.EFFECTS:
            raise ModelSpecError(f"effect={eff!r}: must be one of {', '.join(map(repr, design.EFFECTS))}")
        hourly.check_on_grid(index, design.fit_freq(index), ref.date)
        specs.append(design.EventSpec(ref.label, ref.date, design.event_position(index, ref.date), eff))
    positions = [s.position for s in specs]
    if len(set(positions)) != len(positions):
        raise ModelSpecError(f"events: two events fall in the same period ({[s.label for s in specs]}); the data "
                             "cannot tell them apart: give one of them")
    return sorted(specs, key=lambda s: s.position)


def _check_periods(specs: Sequence[design.EventSpec], obs: np.ndarray, p_base: int, freq: str,
                   first: int) -> None:
    """Enough observed periods before the first event, and at least one from each event on; a warning when
    fewer than three seasonal cycles precede ``first``, the first event of interest (a nuisance break may sit
    earlier: the periods after it still inform the baseline)."""
    n_pre = int(obs[: specs[0].position].sum())
    need = max(p_base + 3, 8)
    if n_pre < need:
        raise ModelSpecError(f"pre-period: {n_pre} observed periods before {hourly.stamp(specs[0].date)}, need at "
                             f"least {need} for this model; use a longer pre window or fewer terms")
    for spec in specs:
        if not obs[spec.position:].any():
            raise ModelSpecError(f"y: every value from the event {spec.label!r} ({hourly.stamp(spec.date)}) on is "
                                 "missing, so its effect cannot be estimated; use a window with observed post-event "
                                 "periods")
    n_pre = int(obs[:first].sum())
    if n_pre < 3 * design.NATURAL_PERIOD[freq]:
        warn(f"pre-period has only {n_pre} observed periods (< three seasonal cycles); estimates of the "
             "baseline will be weak", ModelFitWarning, stacklevel=4)


def _event_stack(n: int, starts: np.ndarray, effect: str, delta: float | None, obs: np.ndarray) -> np.ndarray:
    """Event columns (D, m, k) of the observed rows for an event starting at each position in ``starts`` (D,):
    the values of the effect's terms (``design.effect_terms``), with one start per row."""
    positions = np.asarray(starts)[:, None]
    columns = [term.values(n, positions) for term in design.effect_terms(effect, "scan", pd.NaT, delta)]
    return np.stack(columns, axis=2)[:, obs]

"""``estimate``: a checked :class:`~spamits.its.ITSModel`, from its series and events to an :class:`ITSResult`."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from spamits.errors import FitDivergedError, ModelFitWarning, warn
from spamits.its import _covariance as cov_mod
from spamits.its import _design as design
from spamits.its import _estimate as est
from spamits.its import _gls as gls
from spamits.its._conditional import resolve_counterfactual
from spamits.its._profile import XTOL, DecayBound, Profile, estimate_decays, event_matrix, search, to_log_hl
from spamits.its._result import ITSResult
from spamits.its.calibrate import resolve_interval
from spamits.its.errormodels import ERROR_MODELS
from spamits.its.families import FAMILY_MODELS

if TYPE_CHECKING:  # a type only: the model imports this module to estimate itself
    from spamits.its.model import ITSModel

GLS_ROUNDS = 10  # errors="ar1": at most this many rounds of decay rates and GLS fit


PULSE_FALLBACK_HALF_LIVES = (1.0, 3.0)
"""Shortest half-lives (periods) tried, in turn, when a decay fit runs off to infinity at the default quarter
period: a one-period pulse fitted to a zero count right after the event (separation, as on low-count series) has
no finite maximum; a pulse that must last a period or more is bounded by the counts that follow."""


def estimate(model: ITSModel) -> ITSResult:
    """Estimate a checked :class:`~spamits.its.model.ITSModel` (see :func:`fit`).

    When a decay fit diverges (:func:`_check_diverged`), the decay-rate search is started at the half-lives of
    ``PULSE_FALLBACK_HALF_LIVES`` in turn and the result says so in its notes; the error is raised only when
    every one diverges.  Measured on the SIMULATED low-count stress case (docs/simulation_study.md).
    """
    specs = list(model.specs)
    try:
        return _with_resolved_options(model, _estimate(model, specs))
    except FitDivergedError as first_error:
        if not (first_error.separation and any(s.effect == "decay" for s in specs)):
            raise
        error: FitDivergedError = first_error
    for floor in PULSE_FALLBACK_HALF_LIVES:
        floored = [dataclasses.replace(s, min_half_life=floor) if s.effect == "decay" else s for s in specs]
        try:
            result = _estimate(model, floored)
        except FitDivergedError as exc:
            error = exc
            continue
        note = (f"a decay effect shorter than {floor:g} period(s) ran off to infinity (a zero count right after the "
                f"event cannot bound a one-period pulse): the half-life search starts at {floor:g} period(s)")
        return _with_resolved_options(model, dataclasses.replace(result, notes=(*result.notes, note)))
    raise error


def _with_resolved_options(model: ITSModel, result: ITSResult) -> ITSResult:
    """``result`` with the counterfactual and the interval the options resolve to (``"auto"``: :func:`spamits.
    its._conditional.resolve_counterfactual`, :func:`spamits.its.calibrate.resolve_interval`) and their notes."""
    counterfactual, cf_note = resolve_counterfactual(model.counterfactual, result)
    result = dataclasses.replace(result, counterfactual=counterfactual)
    interval, note = resolve_interval(model.interval, result)
    notes = tuple(n for n in (cf_note, note) if n is not None)
    return dataclasses.replace(result, interval=interval, notes=(*result.notes, *notes))


def _estimate(model: ITSModel, specs: list[design.EventSpec]) -> ITSResult:
    """One estimate of ``model`` with the event specs ``specs``."""
    family, errors, obs = model.family, model.errors, model.observed
    fam, err = FAMILY_MODELS.get(family), ERROR_MODELS.get(errors)
    y, base, off, yv = model.y, model.baseline, model.log_offset, model.yv
    base_obs, off_obs = base.to_numpy()[obs], off[obs]
    deltas, dispersion, bounds, start = estimate_decays(family, base_obs, specs, yv, off_obs, obs,
                                                       refine=not err.gls)
    gls_notes: list[str] = []
    X = np.column_stack([base_obs, event_matrix(len(obs), specs, deltas)[obs]])
    if fam.has_dispersion:  # the dispersion at the estimated decay rates, then one final fit with it
        start = est.irls(X, yv, off_obs, dispersion, start)
        _check_diverged(start, base_obs.shape[1], specs, y)
        dispersion = est.dispersion_moment(yv, np.exp(X @ start + off_obs), X.shape[1])
    whitener = None
    if err.gls:  # the independence fit only gives the residual process: numpy, then GLS (statsmodels)
        first = est.estimate_at(family, X, yv, off_obs, dispersion,
                                est.objective(family, X, yv, off_obs, dispersion, start)[1])
        whitener, deltas, estimate, bounds, gls_notes = _gls_stage(family, base_obs, specs, deltas, yv, off_obs,
                                                                   obs, first, X, bounds)
    else:
        estimate = est.final_fit(family, X, yv, off_obs, dispersion, start)
    _check_diverged(estimate.beta, base_obs.shape[1], specs, y)
    X_full, event_cols = _full_design(base, specs, deltas)
    profile = Profile(family, base_obs, specs, deltas, yv, off_obs, obs, dispersion, estimate.scale, estimate.beta,
                      whitener)
    notes = [b.note for b in bounds] + gls_notes
    control_table = _control_check(y, model.control_logs, obs, model.first_position, notes)
    notes = notes + _stop_notes(y, specs)
    return _inference(
        y=y, obs=obs, family=family, errors=errors, specs=specs, deltas=deltas, X_full=X_full,
        event_cols=event_cols, off=off, estimate=estimate, alpha=model.alpha, n_draws=model.n_draws,
        seed=model.seed, whitener=whitener, seasonality=model.seasonality, freq=model.freq, notes=notes,
        decay_bounds=tuple(bounds),
        control_mode=model.control_mode, share_scale=model.share_scale, profile=profile,
        control_check=control_table, counterfactual=model.counterfactual, nuisance=model.nuisance,
    )


MAX_LOG_EFFECT = 30.0  # |event coefficient| beyond this (a factor e^30) means the fit ran off to infinity


def _check_diverged(beta: np.ndarray, p_base: int, specs: list[design.EventSpec], y: pd.Series) -> None:
    """ModelSpecError when an event coefficient is not finite or beyond ``MAX_LOG_EFFECT`` (log scale): the data
    cannot bound it, e.g. a one-period pulse fitted to a zero count of a low-count series (separation)."""
    event = np.asarray(beta[p_base:], dtype=float)
    values = y.to_numpy()
    if np.all(np.isfinite(event)) and np.all(np.abs(event) <= MAX_LOG_EFFECT) or any(
            not np.nansum(values[s.position:]) > 0 for s in specs):  # a complete stop has its own note
        return
    first = values[specs[0].position:specs[0].position + 3]
    zeros, missing = int(np.sum(first == 0)), int(np.sum(np.isnan(first)))
    error = FitDivergedError(
        f"effect: the fit of {', '.join(s.label for s in specs)} ran off to infinity (an event coefficient of "
        f"{np.max(np.abs(event)):.3g} on the log scale): the data cannot bound it, as when a short-lived effect "
        f"is fitted to zero counts or the first post periods are missing ({zeros} zero and {missing} missing of "
        "the first three post periods). Use effect='step', aggregate to weeks, or a longer series")
    error.separation = zeros > 0 and missing == 0
    raise error


def _stop_notes(y: pd.Series, specs: list[design.EventSpec]) -> list[str]:
    """A note for each event after which every observed value is 0 (a complete stop): its level estimate runs
    to minus infinity, so the level interval means nothing; the relative effect (-100%) is what the data say."""
    values = y.to_numpy()
    return [f"{s.label}: every observed value from {s.date.date()} on is 0 (a complete stop): the level estimate "
            "is unbounded below and its interval is not informative; read the effect as a -100% change"
            for s in specs if not np.nansum(values[s.position:]) > 0]


def _gls_stage(family: str, base_obs: np.ndarray, specs: list[design.EventSpec], deltas: dict[str, float],
               yv: np.ndarray, off_obs: np.ndarray, obs: np.ndarray, first: est.Estimate, X: np.ndarray,
               bounds: list[DecayBound]
               ) -> tuple[gls.Whitener, dict[str, float], est.Estimate, list[DecayBound], list[str]]:
    """errors="ar1": whiten by the residual process of the first fit, then estimate by GLS.

    The decay rates and the other coefficients are found by alternating: the decay rates minimise the whitened
    objective linearised at the current fit (``gls.LinearisedProfile``), then the GLS fit at those rates is
    updated, until the rates move by less than the profile's tolerance (at most ``GLS_ROUNDS`` rounds).  Returns
    the whitener, the decay rates, the GLS estimate, the estimates at a search bound (those of the GLS profile
    when there are decay rates) and a note when the rates had not settled.
    """
    pos = np.flatnonzero(obs)
    _, pearson, _ = FAMILY_MODELS.get(family).weights(yv, first.eta, first.dispersion)
    whitener = gls.Whitener.from_process(*(float(v[0]) for v in cov_mod.residual_processes(pearson[None], pos, X)))
    gaussian = FAMILY_MODELS.get(family).gaussian
    beta = None if gaussian else first.beta
    decays = [s for s in specs if s.effect == "decay"]
    notes: list[str] = []
    if decays:
        beta_hat = first.beta
        for _round in range(GLS_ROUNDS):
            profile = Profile(family, base_obs, specs, deltas, yv, off_obs, obs, first.dispersion, first.scale,
                              beta_hat, whitener)
            bounds = search(profile, near=_round > 0)
            moved = max(abs(to_log_hl(profile.deltas[s.label]) - to_log_hl(deltas[s.label])) for s in decays)
            deltas = dict(profile.deltas)
            _, beta_hat = gls.objective(family, profile.design(), yv, off_obs, first.dispersion, whitener, beta)
            beta = None if gaussian else beta_hat
            if moved < XTOL:
                break
        else:
            notes.append(f"the GLS decay rates still moved by {moved:.2g} (log half-life) after "
                         f"{GLS_ROUNDS} rounds; the estimates are those of the last round")
    X = np.column_stack([base_obs, event_matrix(len(obs), specs, deltas)[obs]])
    estimate = gls.final_fit(family, X, yv, off_obs, first.dispersion, whitener, beta)
    return whitener, deltas, estimate, bounds, notes


# --- estimation ----------------------------------------------------------------------------------------------


def _full_design(base: pd.DataFrame, specs: list[design.EventSpec],
                 deltas: dict[str, float]) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    cols = dict(base.items())
    event_cols: dict[str, list[str]] = {}
    for spec in specs:
        ecols = design.event_columns(len(base), spec, deltas.get(spec.label))
        cols.update(ecols)
        event_cols[spec.label] = list(ecols)
    return pd.DataFrame(cols, index=base.index), event_cols


def _inference(*, y, obs, family, errors, specs, deltas, X_full, event_cols, off, estimate, alpha, n_draws,
               seed, seasonality, freq, notes, control_mode, share_scale, profile, control_check,
               whitener, decay_bounds, counterfactual, nuisance=()) -> ITSResult:
    names = list(X_full.columns)
    beta = pd.Series(estimate.beta, index=names)
    X_aug = X_full.copy()
    deriv_cols: dict[str, str] = {}
    for spec in specs:
        if spec.effect == "decay":
            col = f"logit_decay({spec.label})"
            omega = float(beta[f"level({spec.label})"])
            X_aug[col] = design.decay_derivative(len(X_full), spec, deltas[spec.label], omega)
            deriv_cols[spec.label] = col
            event_cols[spec.label] = event_cols[spec.label] + [col]
    pos = np.flatnonzero(obs)
    w, pearson, logres = FAMILY_MODELS.get(family).weights(y.to_numpy()[obs], estimate.eta, estimate.dispersion)
    cov, cov_info = _covariances(errors, X_aug.to_numpy()[obs], w, pearson, pos, estimate.scale, whitener)
    params = pd.concat([beta, pd.Series(0.0, index=list(deriv_cols.values()))])
    return ITSResult(
        y=y, observed_mask=obs, family=family, errors=errors, specs=tuple(specs), decay_rates=dict(deltas),
        freq=freq, seasonality=seasonality, design_matrix=X_aug, event_columns=event_cols, decay_columns=deriv_cols,
        offset=off, params=params, cov=pd.DataFrame(cov, index=params.index, columns=params.index),
        cov_info=cov_info, residuals=(logres, pos, X_aug.to_numpy()[obs]), dispersion=estimate.dispersion,
        scale=estimate.scale, loglik=estimate.loglik, alpha=alpha, n_draws=n_draws, seed=seed, notes=tuple(notes),
        control_mode=control_mode, simulated=bool(y.attrs.get("simulated", False)), share_scale=share_scale,
        profile=profile, control_check=control_check, whitener=whitener, decay_bounds=decay_bounds,
        counterfactual=counterfactual, nuisance=tuple(nuisance),
    )


def _covariances(errors: str, X: np.ndarray, w: np.ndarray, pearson: np.ndarray, pos: np.ndarray, scale: float,
                 whitener: gls.Whitener | None) -> tuple[np.ndarray, dict]:
    """The chosen covariance and how it was made.

    With a ``whitener`` (errors="ar1") it is computed on the whitened scores: the AR(1)+white-noise sandwich
    of the whitened residuals.
    """
    if whitener is None:
        cov, info = cov_mod.covariance(ERROR_MODELS.get(errors).cov_type, X, w, pearson, pos, scale)
        return cov, {**info, "errors": errors}
    Z, eps = whitener.apply(np.sqrt(w)[:, None] * X), whitener.apply(pearson)
    cov, info = cov_mod.covariance("ar1", Z, np.ones(len(eps)), eps, pos, 1.0)
    return cov, {"errors": errors, "method": cov_mod.ERRORS[errors], "phi": whitener.phi, "theta": whitener.theta,
                 "whitened_phi": info["phi"], "whitened_rho1": info["rho1"]}


CONTROL_MIN_CORRELATION = 0.3


def _control_check(y: pd.Series, controls: dict[str, np.ndarray], obs: np.ndarray, first: int,
                   notes: list[str]) -> pd.DataFrame | None:
    """Did each control series track the outcome before the first event?  One row per control.

    ``corr_levels``: correlation of log outcome and log control over the pre-period; ``corr_changes``: the
    same for period-to-period changes (consecutive observed periods).  A control tracks when both are at least
    ``CONTROL_MIN_CORRELATION``; otherwise a ModelFitWarning is issued and a note is kept in the result.
    """
    if not controls:
        return None
    pre = obs.copy()
    pre[first:] = False
    logy = np.log(np.clip(y.to_numpy()[pre], 1e-12, None))
    consecutive = np.diff(np.flatnonzero(pre)) == 1
    rows = []
    for col, values in controls.items():
        logc = values[pre]
        corr_levels = float(np.corrcoef(logy, logc)[0, 1])
        corr_changes = float(np.corrcoef(np.diff(logy)[consecutive], np.diff(logc)[consecutive])[0, 1])
        tracked = bool(min(corr_levels, corr_changes) >= CONTROL_MIN_CORRELATION)
        rows.append({"control": col, "corr_levels": corr_levels, "corr_changes": corr_changes,
                     "tracked": tracked})
        if not tracked:
            message = (f"control {col!r} did not track the outcome before the first event "
                       f"(correlation of log levels {corr_levels:.2f}, of changes {corr_changes:.2f}; both should "
                       f"be >= {CONTROL_MIN_CORRELATION}): the comparative estimate rests on it")
            notes.append(message)
            warn(message, ModelFitWarning, stacklevel=4)
    return pd.DataFrame(rows)

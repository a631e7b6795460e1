"""The methods compared on the SIMULATED stress cases of issue 13 (:data:`METHODS`, a registry by name).

Each method takes the fitted series ``y`` (daily; hourly cases as 24-hour bins) and the position ``pos`` of the
event period, and returns the 30-day relative effect (``sum(observed)/sum(counterfactual) - 1`` over the first
30 days from the event, a fraction) with its 95% interval, the estimated half-life in days and the number of
periods it left out.  :func:`spamits.validation.simulation_study` with ``cases=`` runs them side by side.
Methods:

* ``default``: ``its.fit(y, event, family="negbin", effect="decay", seasonality="dow")`` (the library defaults:
  errors ``"ar1"``; since issue 13 phase 7 counterfactual, interval and pre_break all ``"auto"``);
* ``conditional``: the same with ``counterfactual="conditional"`` named (the default of phases 3-6);
* ``in-sample``: the same with ``counterfactual="in-sample"`` (the in-sample BLUP, issue 13 phase 6);
* ``break-if-level``: ``model-break`` only when the break takes away the wandering level the pre-period shows
  (the conditional counterfactual's level process: q > 0 without the break, q = 0 with it), else the default;
* ``stationary``: the same with ``counterfactual="stationary"`` (the default before issue 13, phase 3);
* ``hac``: the same with Newey-West errors;
* ``mask-outliers``: the default fit, then the periods whose log residual lies more than
  :data:`OUTLIER_Z` robust standard deviations (1.4826 MAD) from the median are left out (set missing) and the
  model refitted (two rounds); the relative effect is taken over the kept periods of the window (a bounded-
  influence estimate in the spirit of Cantoni & Ronchetti 2001 with a hard-rejection weight);
* ``pre120``: the default fit on the last 120 days before the event only (a local baseline);
* ``auto-pre``: the pre-period check (:mod:`spamits.its.precheck`) first; when it finds a break, the default
  fit on the series from 14 periods after the break (at least 60 pre periods kept);
* ``local-level``: statsmodels ``UnobservedComponents`` (local level + AR(1) irregular) on ``log(y + 1)`` with
  day-of-week dummies and the decay column at the default fit's decay rate as regressors; the relative effect
  is ``sum(y)/sum(y·exp(-ω g_k)) - 1`` with ω drawn from its normal approximation (Harvey 1989, ch. 7).
* ``calibrated``: the default fit and point estimate; the interval from parameter draws times resampled
  pre-period errors of 30-day window sums (:func:`spamits.its.calibrate.calibrated_impact`; Chernozhukov,
  Wüthrich & Zhu 2021).
* ``model-break``: the pre-period check first; when it finds a break, the break date joins the fit as a second
  event with its own decaying effect, and the relative effect is the takedown's alone (``impact(events=[...])``).
* ``cand-unless-wander``, ``cand-if-level``, ``short-unless-wander``, ``short-if-level``: the candidates for the
  defaults of issue 13 phase 7 (:func:`_candidate`): a counterfactual chosen by the mean count (``cand-``) or by
  the estimated half-life (``short-``), and the break modelled unless the joint fit still shows a wandering level
  or as ``break-if-level``.  The library's rule (``its.prebreak``, ``its._conditional.resolve_counterfactual``)
  refines ``short-unless-wander``; every one fits with ``pre_break="none"`` and makes its own choice.

Hourly series are fitted on 24-hour bins that start at the cut-off hour (:func:`spamits.data.stress.
daily_bins`), so the 30 bins hold exactly the truth's 720 hours.  Everything here is SIMULATED.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

from spamits.data.stress import HORIZON_DAYS
from spamits.errors import ModelSpecError
from spamits.its import DEFAULT_COUNTERFACTUAL, fit
from spamits.its.prebreak import level_wanders

OUTLIER_Z = 4.0  # mask-outliers: robust z beyond which a period is left out
MASK_ROUNDS = 2
SHORT_PRE = 120  # pre120: periods of pre-period kept
AFTER_BREAK = 14  # auto-pre: periods skipped after a detected pre-period break
MIN_KEPT_PRE = 60  # auto-pre: pre periods kept at least
PROTECTED = 3  # mask-outliers never leaves out the event period and the next two

def _default(y: pd.Series, pos: int, errors: str = "ar1", counterfactual: str = DEFAULT_COUNTERFACTUAL) -> dict:
    result = fit(y, y.index[pos], family="negbin", effect="decay", seasonality="dow", errors=errors,
                 n_draws=1000, counterfactual=counterfactual)
    return _summarise(result, y, pos)


def _conditional(y: pd.Series, pos: int) -> dict:
    """The default fit with the conditional forecast counterfactual named."""
    return _default(y, pos, counterfactual="conditional")


def _in_sample(y: pd.Series, pos: int) -> dict:
    """The default fit with the in-sample counterfactual (the observed series without the estimated effect)."""
    return _default(y, pos, counterfactual="in-sample")


def _stationary(y: pd.Series, pos: int) -> dict:
    """The default fit with the stationary counterfactual noise (the default before issue 13, phase 3)."""
    return _default(y, pos, counterfactual="stationary")


def _summarise(result: object, y: pd.Series, pos: int, masked: int = 0) -> dict:
    imp = result.impact(y.index[pos], y.index[pos + HORIZON_DAYS - 1])
    eff = result.effects[result.effects["event"] == result.events[0]].set_index("term")  # not a nuisance break
    hl = float(eff.loc["half_life", "estimate"]) if "half_life" in eff.index else float("nan")
    return {"estimate": imp["relative"], "ci_low": imp["relative_low"], "ci_high": imp["relative_high"],
            "half_life_est_days": hl, "masked": masked}


def _calibrated(y: pd.Series, pos: int) -> dict:
    """The default fit; point and interval from pre-period block errors
    (:func:`spamits.its.calibrate.calibrated_impact`: the stationary counterfactual's point)."""
    from spamits.its.calibrate import calibrated_impact

    result = fit(y, y.index[pos], family="negbin", effect="decay", seasonality="dow", n_draws=1000)
    out = _summarise(result, y, pos)
    imp = calibrated_impact(result, y.index[pos], y.index[pos + HORIZON_DAYS - 1])
    return {**out, "estimate": imp["relative"], "ci_low": imp["relative_low"], "ci_high": imp["relative_high"]}


def _hac(y: pd.Series, pos: int) -> dict:
    return _default(y, pos, errors="hac")


def _mask_outliers(y: pd.Series, pos: int) -> dict:
    """Default fit, leave out robust-z outliers of the log residuals, refit (``MASK_ROUNDS`` rounds)."""
    current = y.copy()
    result = fit(current, y.index[pos], family="negbin", effect="decay", seasonality="dow", n_draws=1000)
    masked = 0
    for _ in range(MASK_ROUNDS):
        flags = outlier_periods(y, result.frame["fitted"])
        flags[pos:pos + PROTECTED] = False  # the decay's level is identified by the first post periods
        new = flags & current.notna().to_numpy()
        if not new.any():
            break
        current[new] = np.nan
        masked += int(new.sum())
        result = fit(current, y.index[pos], family="negbin", effect="decay", seasonality="dow", n_draws=1000)
    return _summarise(result, current, pos, masked)


def outlier_periods(y: pd.Series, fitted: pd.Series, z: float = OUTLIER_Z) -> np.ndarray:
    """Boolean mask (n,) of periods whose log residual ``log((y+0.5)/(fitted+0.5))`` is more than ``z`` robust
    standard deviations (1.4826·MAD) from the median residual; missing periods are never flagged."""
    r = np.log((y.to_numpy() + 0.5) / (fitted.to_numpy() + 0.5))
    ok = np.isfinite(r)
    med = np.median(r[ok])
    scale = 1.4826 * np.median(np.abs(r[ok] - med))
    return ok & (np.abs(np.where(ok, r, med) - med) > z * max(scale, 1e-9))


def _local_level(y: pd.Series, pos: int, n_draws: int = 2000, seed: int = 0) -> dict:
    """Local level + AR(1) irregular on log(y+1), dow dummies and the decay column (rate from the default fit)."""
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    first = fit(y, y.index[pos], family="negbin", effect="decay", seasonality="dow", n_draws=200)
    hl = float(first.effects.set_index("term").loc["half_life", "estimate"])
    delta = 0.5 ** (1.0 / hl)
    k = np.arange(len(y)) - pos
    g = np.where(k >= 0, delta ** np.clip(k, 0, None), 0.0)
    dow = pd.get_dummies(y.index.day_of_week).to_numpy(dtype=float)[:, 1:]
    exog = np.column_stack([g, dow])
    endog = np.log(y.to_numpy() + 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = UnobservedComponents(endog, level="llevel", autoregressive=1, exog=exog)
        res = model.fit(disp=False, maxiter=200)
    names = list(res.model.param_names)
    j = names.index("beta.x1")
    omega, se = float(res.params[j]), float(np.sqrt(max(res.cov_params()[j, j], 0.0)))
    window = slice(pos, pos + HORIZON_DAYS)
    yw, gw = y.to_numpy()[window] + 1.0, g[window]
    rng = np.random.default_rng(seed)
    draws = rng.normal(omega, se, n_draws)
    rel = yw.sum() / (yw[None, :] * np.exp(-draws[:, None] * gw[None, :])).sum(axis=1) - 1.0
    point = yw.sum() / (yw * np.exp(-omega * gw)).sum() - 1.0
    lo, hi = np.quantile(rel, [0.025, 0.975])
    return {"estimate": float(point), "ci_low": float(lo), "ci_high": float(hi), "half_life_est_days": hl,
            "masked": 0}


def _short_pre(y: pd.Series, pos: int) -> dict:
    """The default fit on the last ``SHORT_PRE`` periods before the event and the post period."""
    start = max(0, pos - SHORT_PRE)
    return _default(y.iloc[start:], pos - start)


def _auto_pre(y: pd.Series, pos: int) -> dict:
    """The default fit, with the pre-period started ``AFTER_BREAK`` periods after a break that the pre-period
    check finds (:func:`spamits.its.precheck.precheck`; at least ``MIN_KEPT_PRE`` pre periods are kept)."""
    from spamits.its.precheck import SUPF_CRITICAL_5PCT, precheck

    check = precheck(y, y.index[pos], catalog=False, warn_user=False)
    if check.break_date is None or not check.break_f > SUPF_CRITICAL_5PCT:
        return _default(y, pos)
    start = min(int(y.index.get_loc(check.break_date)) + AFTER_BREAK, pos - MIN_KEPT_PRE)
    return _default(y.iloc[start:], pos - start)


def _joint_fit(y: pd.Series, pos: int, break_date: pd.Timestamp,
               counterfactual: str = DEFAULT_COUNTERFACTUAL) -> object | None:
    """The default fit with the pre-period break as a second event (its own decaying effect), or None when it
    cannot be made (a break too close to the start leaves too few periods before it)."""
    try:
        return fit(y, [break_date, y.index[pos]], family="negbin", effect="decay", seasonality="dow", n_draws=1000,
                   counterfactual=counterfactual, pre_break="none")
    except ModelSpecError:
        return None


def _summarise_takedown(result: object, y: pd.Series, pos: int) -> dict:
    """:func:`_summarise` of a joint fit: the takedown's impact alone (``impact(events=[takedown])``, the break
    stays in the counterfactual, as in the truth) and the takedown's half-life."""
    event = y.index[pos]
    imp = result.impact(event, y.index[pos + HORIZON_DAYS - 1], events=[event])
    eff = result.effects
    hl = eff[(eff["term"] == "half_life") & (eff["event"].astype(str).str.contains(str(event.date())))]
    return {"estimate": imp["relative"], "ci_low": imp["relative_low"], "ci_high": imp["relative_high"],
            "half_life_est_days": float(hl["estimate"].iloc[0]) if len(hl) else float("nan"), "masked": 0}


def _model_break(y: pd.Series, pos: int) -> dict:
    """The pre-period check first; when it finds a break, the joint fit (:func:`_joint_fit`) and the takedown's
    impact alone; when the joint fit cannot be made, the default fit."""
    from spamits.its.precheck import precheck

    check = precheck(y, y.index[pos], catalog=False, warn_user=False)
    joint = _joint_fit(y, pos, check.break_date) if check.break_found else None
    return _default(y, pos) if joint is None else _summarise_takedown(joint, y, pos)


def _break_if_level(y: pd.Series, pos: int) -> dict:
    """``model-break`` only when modelling the break takes away the wandering level the default fit's pre-period
    shows (q > 0 without the break, q = 0 with it): one break explains it; otherwise (a level that still wanders,
    or none to explain) the default fit, whose conditional counterfactual follows the level."""
    from spamits.its.precheck import precheck

    plain = fit(y, y.index[pos], family="negbin", effect="decay", seasonality="dow", n_draws=1000,
                counterfactual="conditional", pre_break="none")
    check = precheck(y, y.index[pos], catalog=False, warn_user=False)
    if not check.break_found or not level_wanders(plain, pos):
        return _summarise(plain, y, pos)
    joint = _joint_fit(y, pos, check.break_date)
    if joint is None or level_wanders(joint, pos):
        return _summarise(plain, y, pos)
    return _summarise_takedown(joint, y, pos)


LOW_COUNT = 20.0  # candidate: mean pre-period count per period below which the conditional counterfactual is kept


def _candidate(y: pd.Series, pos: int, rule: str, cf_rule: str = "count") -> dict:
    """Candidate defaults.  Counterfactual: ``cf_rule="count"``: in-sample (conditional below ``LOW_COUNT`` per
    period); ``cf_rule="short"``: in-sample when the plain fit's half-life is at most an eighth of the 30-day
    window, else conditional.  A pre-period break is modelled when the scan finds one and (``rule=
    "unless-wander"``) the joint fit shows no wandering level, or (``rule="if-level"``) as ``break-if-level``."""
    from spamits.its.precheck import precheck

    if cf_rule == "count":
        cf = "in-sample" if float(np.nanmean(y.to_numpy()[:pos])) >= LOW_COUNT else "conditional"
        plain = fit(y, y.index[pos], family="negbin", effect="decay", seasonality="dow", n_draws=1000,
                    counterfactual=cf, pre_break="none")
    else:
        plain = fit(y, y.index[pos], family="negbin", effect="decay", seasonality="dow", n_draws=1000,
                    counterfactual="conditional", pre_break="none")
        hl = float(plain.effects.set_index("term").loc["half_life", "estimate"])
        cf = "in-sample" if hl <= HORIZON_DAYS / 8 else "conditional"
        if cf == "in-sample":
            plain = fit(y, y.index[pos], family="negbin", effect="decay", seasonality="dow", n_draws=1000,
                        counterfactual=cf, pre_break="none")
    check = precheck(y, y.index[pos], catalog=False, warn_user=False)
    if not check.break_found or (rule == "if-level" and not level_wanders(plain, pos)):
        return _summarise(plain, y, pos)
    joint = _joint_fit(y, pos, check.break_date, counterfactual=cf)
    if joint is None or level_wanders(joint, pos):
        return _summarise(plain, y, pos)
    return _summarise_takedown(joint, y, pos)


METHODS: dict[str, Callable[[pd.Series, int], dict]] = {
    "default": _default, "hac": _hac, "mask-outliers": _mask_outliers, "local-level": _local_level,
    "pre120": _short_pre, "auto-pre": _auto_pre, "calibrated": _calibrated, "model-break": _model_break,
    "stationary": _stationary, "conditional": _conditional, "in-sample": _in_sample,
    "break-if-level": _break_if_level,
    "cand-unless-wander": lambda y, pos: _candidate(y, pos, "unless-wander"),
    "cand-if-level": lambda y, pos: _candidate(y, pos, "if-level"),
    "short-unless-wander": lambda y, pos: _candidate(y, pos, "unless-wander", "short"),
    "short-if-level": lambda y, pos: _candidate(y, pos, "if-level", "short"),
}

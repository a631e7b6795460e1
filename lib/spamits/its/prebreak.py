"""An earlier break in the pre-period, modelled by the fit itself (issue 13): ``fit(pre_break=...)``.

A takedown's pre-period often holds an earlier event that the fit does not name (an earlier takedown, a trap
that changed).  Left out, it inflates the residual noise, so the intervals come out too wide (SIMULATED stress
study: 0.999 coverage of the 95% interval of the 30-day effect with an unmodelled earlier takedown).

``pre_break="auto"`` (the default): the break scan of the pre-period check (:func:`spamits.its.precheck.
find_break`: sup-F of a step in a least-squares baseline of ``log(y + 0.5)``, Andrews 1993, scaled for serial
correlation) runs on every fit; when it finds a break, the model is fitted again with the break date as a
*nuisance event* with a decaying effect of its own (:data:`NUISANCE_EFFECT`; a long half-life is a lasting step).
The joint fit is kept when one break explains the pre-period: its pre-period residuals show no wandering level
(the conditional counterfactual's level process, ``_conditional.result_end_state``: q = 0) and no second break
(the same sup-F scan on the residuals, :func:`spamits.its.precheck.residual_break`).  Otherwise the pre-period is
a wandering level rather than one break, and the plain fit is kept (modelling a break there lowered coverage
from 0.92 to 0.88).
A nuisance event stays in the counterfactual (as in the truth it does), is left out of ``result.events`` and of
the default ``impact``, and shows in the effects table under its label ``"pre-period break <date>"``.
``pre_break="none"``: never.  Only count families (negbin, quasipoisson, poisson) on daily, weekly or monthly
series are scanned, the domain of :mod:`spamits.its.precheck`; hourly series and the Gaussian families never
get a modelled break.

Measured with the library defaults on 1000 SIMULATED series per stress case (``benchmarks/stress_study.py``, run
``auto3_1000``; docs/simulation_study.md, issue 13 phase 7), coverage of the 95% interval of the 30-day effect:
an earlier takedown 0.945 (0.999 left unmodelled), a weekly pattern that changed 0.966 (0.989), a wandering
level 0.901 (0.918), conforming series 0.930 (0.936).  The joint fit is tried first: a kept break costs one fit,
a rejected one two.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd

from spamits.errors import ModelSpecError
from spamits.its._events import EventRef
from spamits.its._hourly import stamp
from spamits.its.calibrate import BURST_FAMILIES as COUNT_FAMILIES

if TYPE_CHECKING:  # types only: the model imports this module
    from spamits.its._result import ITSResult
    from spamits.its.model import ITSModel

PRE_BREAKS = {
    "auto": "a break the pre-period scan finds joins the fit as a nuisance event (decaying effect), unless the "
            "fit with it still shows a wandering level or a second break",
    "none": "no break is added; the pre-period check only reports one",
}
DEFAULT_PRE_BREAK = "auto"
NUISANCE_EFFECT = "decay"  # the effect shape of a modelled break: a fading change (a lasting step at long half-lives)
LABEL = "pre-period break {}"


def check_pre_break(pre_break: object) -> str:
    """``pre_break`` itself when it is a key of :data:`PRE_BREAKS`; ModelSpecError naming it otherwise."""
    if not isinstance(pre_break, str) or pre_break not in PRE_BREAKS:
        raise ModelSpecError(f"pre_break={pre_break!r}: must be one of {', '.join(map(repr, PRE_BREAKS))}")
    return pre_break


def fit_with_pre_break(model: ITSModel, estimate: Callable[[ITSModel], ITSResult]) -> ITSResult:
    """The fit of ``model`` (``estimate(model)``), or, when ``model.pre_break`` is ``"auto"``, the scan finds a
    break and one break explains the pre-period (:func:`explains_pre_period`), the joint fit with the break as a
    nuisance event.  The joint fit is tried first, so a kept break costs one fit, not two; its warnings reach the
    user only when it is kept."""
    date = _scanned_break(model)
    if date is None:
        return estimate(model)
    ref = EventRef(LABEL.format(stamp(date)), date, date)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            joint = model.with_nuisance([ref]).fit()
        except ModelSpecError as exc:
            joint, why = None, f"could not be modelled ({exc})"
    if joint is not None and explains_pre_period(joint):
        for w in caught:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return _noted(joint, f"a break in the pre-period near {stamp(date)} (the pre-period scan of its.precheck) "
                             f"is modelled as the nuisance event {ref.label!r} with a decaying effect; it stays in "
                             "the counterfactual and is not one of result.events (pre_break='auto'; "
                             "pre_break='none' leaves it out)")
    if joint is not None:
        why = ("was not modelled: with it the pre-period level still wanders (or breaks again), so one break does "
               "not explain it and the conditional counterfactual follows the level instead")
    return _noted(estimate(model), f"a break in the pre-period near {stamp(date)} {why} (pre_break='auto')")


def _scanned_break(model: ITSModel) -> pd.Timestamp | None:
    """The break the pre-period scan finds before the first event of interest (``its.precheck.find_break``),
    or None: none found, ``pre_break="none"``, a Gaussian family or an hourly series."""
    from spamits.its.precheck import find_break

    if model.pre_break != "auto" or model.family not in COUNT_FAMILIES or model.freq == "H":
        return None
    first = next(s for s in model.specs if s.label not in model.nuisance)
    return find_break(model.y, first.date)


def explains_pre_period(joint: ITSResult) -> bool:
    """True when the joint fit's pre-period residuals show neither a wandering level (:func:`level_wanders`) nor
    a second break (:func:`spamits.its.precheck.residual_break`): one break explains the pre-period."""
    from spamits.its.precheck import residual_break

    if level_wanders(joint):
        return False
    resid, positions, _ = joint.residuals
    before = positions < joint.first_position
    return residual_break(resid[before], joint.y.index[positions[before]]) is None


def level_wanders(result: ITSResult, first: int | None = None) -> bool:
    """True when the residuals of ``result`` before time position ``first`` (default: its first event of
    interest) show a wandering level (the level process of the conditional counterfactual,
    :func:`spamits.its._conditional.result_end_state`, has q > 0)."""
    from spamits.its import _conditional as conditional

    first = result.first_position if first is None else first
    return conditional.result_end_state(result, first).process.q > 0


def _noted(result: ITSResult, note: str) -> ITSResult:
    return dataclasses.replace(result, notes=(*result.notes, note))

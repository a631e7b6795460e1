"""``fit``: the one-line entry to the ITS model (``ITSModel(y, events, ...).fit()``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from spamits.its._conditional import DEFAULT_COUNTERFACTUAL
from spamits.its._hourly import AUTO
from spamits.its._result import ITSResult
from spamits.its.calibrate import DEFAULT_INTERVAL
from spamits.its.errormodels import DEFAULT_ERRORS
from spamits.its.model import ITSModel
from spamits.its.prebreak import DEFAULT_PRE_BREAK


def fit(
    y: pd.Series,
    events: object,
    *,
    family: str = "negbin",
    effect: str | Sequence[str] = "step",
    seasonality: str | int | None = AUTO,
    errors: str = DEFAULT_ERRORS,
    offset: pd.Series | np.ndarray | None = None,
    control: pd.Series | pd.DataFrame | None = None,
    control_mode: str = "covariate",
    alpha: float = 0.05,
    n_draws: int = 2000,
    seed: int = 0,
    counterfactual: str = DEFAULT_COUNTERFACTUAL,
    interval: str = DEFAULT_INTERVAL,
    pre_break: str = DEFAULT_PRE_BREAK,
) -> ITSResult:
    """Fit an interrupted time-series model of ``y`` around ``events``.

    Parameters
    ----------
    y : Series of counts (or positive rates) on a regular DatetimeIndex with ``freq`` set (hourly, daily, weekly
        or monthly; hourly timestamps are naive UTC).  Missing periods (NaN) are left out of the estimation,
        never filled.
    events : a date (str, ``Timestamp``, ``datetime``, ``date`` or ``datetime64``, without a time zone), a
        catalog id, an ``Event`` (``spamits.events.get``) or a list of them, each event once.  The period
        containing an event's date is the first post-event period (the event date is inclusive).  A time of
        day (``"2008-11-11 21:00"``, UTC) must be a whole hour on hourly series; a date alone is its midnight.
        On daily, weekly or monthly series a time of day falls in the period that contains it.
    family : ``"negbin"`` (default), ``"quasipoisson"``, ``"poisson"`` or ``"gaussian-log"`` (all log link), or
        ``"gaussian-logit"`` for shares in (0, 1) or percentages (effects as odds ratios and percentage points).
    effect : per event (one string or one per event): ``"step"`` (level change), ``"slope"`` (trend change per
        period), ``"step+slope"`` or ``"decay"`` (an immediate change ω fading geometrically, ω·δ^k k periods
        after the event; δ is estimated by profile likelihood).
    seasonality : ``"auto"`` (default: ``"hod+dow"`` on hourly series, ``None`` otherwise), ``None``, ``"dow"``
        (day-of-week dummies, daily or hourly data), ``"hod"`` (hour-of-day dummies, hourly data), ``"hod+dow"``
        (both) or an int k (k Fourier pairs at the natural period: 24 for hourly, 7 for daily, 52 for weekly,
        12 for monthly data).
    errors : ``"ar1"`` (default): feasible GLS — a first independence fit gives the AR(1)+white-noise process
        of the residuals, and the coefficients (decay rates included) are re-estimated with the data whitened
        by it (Prais-Winsten for the Gaussian families, quasi-likelihood/GEE with that working correlation for
        the counts; ``spamits.its._gls``), with a sandwich covariance on the whitened residuals.
        ``"ar1-sandwich"``: the independence estimates with the AR(1)+white-noise sandwich.  ``"hac"``:
        Newey-West, lag floor(4(n/100)^(2/9)).  ``"iid"``: model-based.  See ``spamits.its.ERRORS``.
    offset : exposure (same index as ``y``, > 0); its log enters the linear predictor with coefficient 1.
    control : unaffected series (Series or DataFrame, > 0) entering as log covariates (``control_mode=
        "covariate"``) or, for one series, as an offset (``control_mode="offset"``).
    alpha : 1 - confidence level of every interval (0.05 gives 95% intervals).
    n_draws, seed : size (at least 100) and seed of the parametric simulation behind the counterfactual
        intervals.
    counterfactual : the counterfactual after the event.  ``"auto"`` (default): ``"in-sample"`` when the
        half-life interval of every decaying effect of interest ends within 7.5 days (a quarter of a 30-day
        window; ``spamits.its._conditional.SHORT_EFFECT_DAYS``), else ``"conditional"``; ``result.counterfactual``
        holds the choice.  ``"conditional"``: forecast from the state at
        the end of the pre-period — a local level plus AR(1) plus white noise fitted to the pre-period residuals
        (the level only when their semivariogram shows one), Kalman-filtered, so a level that has wandered away
        from the fitted trend carries on and the band widens as it can wander further
        (``spamits.its._conditional``).  ``"in-sample"``: ``impact`` (and ``frame`` from the first event on)
        takes the observed series without the events' estimated effect at every parameter draw, the best linear
        unbiased predictor of the realised counterfactual inside the fitted data (Goldberger 1962), which does
        not count the window's noise twice when the effect dies out early in the window (hourly series); it
        falls back to the conditional forecast when the pre-period level wanders or a half-life estimate reached
        a search bound.  ``"stationary"``: AR(1)+white noise from its stationary distribution (the behaviour
        before issue 13, phase 3).
    interval : how ``impact`` makes the intervals of the effect over a window.  ``"auto"`` (default):
        ``"calibrated"`` when the pre-period check finds burst periods (campaign days, ``its.precheck``) on a
        count family, else ``"model"``; the choice is in ``result.interval`` and, when calibrated, in the notes.
        ``"model"``: parameter draws plus the counterfactual noise above.  ``"calibrated"``: parameter draws times
        the errors the fit makes on pre-period windows of the same length (``spamits.its.calibrate``), which
        carry the bursts into the interval.  The effect table's intervals (level, half-life) are not affected.
    pre_break : ``"auto"`` (default): on count families and daily, weekly or monthly series, a break that the
        pre-period scan finds (``its.precheck.find_break``) joins the fit as a nuisance event with a decaying
        effect, unless the fit with it still shows a wandering pre-period level or a second break (one break
        does not explain the pre-period then); it stays in the counterfactual,
        is named in ``result.nuisance`` and the notes, and is not one of ``result.events``
        (``spamits.its.prebreak``).  ``"none"``: never.

    Every input is checked once by :class:`~spamits.its.ITSModel` (``fit`` is ``ITSModel(...).fit()``);
    a bad one raises :class:`~spamits.errors.ModelSpecError` naming the argument and what to do.
    """
    return ITSModel(y, events, family=family, effect=effect, seasonality=seasonality, errors=errors, offset=offset,
                    control=control, control_mode=control_mode, alpha=alpha, n_draws=n_draws, seed=seed,
                    counterfactual=counterfactual, interval=interval, pre_break=pre_break).fit()

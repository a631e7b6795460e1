"""Pre-period checks of the assumptions behind an ITS fit (issue 13): bursts, a wandering level, earlier breaks.

:func:`precheck` fits the pre-period alone (least squares of ``log(y + 0.5)`` on a constant, a linear trend
and, for daily data, day-of-week dummies) and looks at its residuals:

* **bursts**: periods whose log residual lies more than ``BURST_Z`` robust standard deviations (1.4826 MAD)
  above the median (campaign days; listed with their ratio to the baseline);
* **wandering level**: KPSS (level stationarity, Kwiatkowski et al. 1992) and ADF (Said & Dickey 1984) tests of
  the residuals; the level is flagged as wandering when KPSS rejects stationarity at 5% and ADF does not reject
  a unit root at 5%;
* **earlier break**: a sup-F scan of a step in the baseline at every period of the middle 70% of the
  pre-period (Andrews 1993, 15% trimming; 5% critical value 8.85 for one parameter), the F statistic scaled by
  by the ratio of the residuals' variance to their long-run (Newey-West, Bartlett) variance, so that serial
  correlation alone does not look like a break; the most likely break date is named with any catalog event within
  ``CATALOG_DAYS`` days of it.

Every finding is a sentence in ``notes`` and, when ``warn=True``, a :class:`~spamits.errors.ModelFitWarning`.
The rates at which these checks fire on SIMULATED stress cases are in ``docs/simulation_study.md``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from spamits.errors import ModelFitWarning, ModelSpecError, SpamitsError, warn
from spamits.its._hourly import stamp

BURST_Z = 4.0
SUPF_CRITICAL_5PCT = 8.85  # Andrews (1993), Table 1, p = 1, pi0 = 0.15
TRIM = 0.15
CATALOG_DAYS = 14
MIN_PRE = 30
BANDWIDTH_FACTOR = 1.5
WANDER_KPSS_P = 0.05
MEASURED_COVERAGE = {"bursts": 0.914, "bursts_model": 0.803, "wandering": 0.901, "wandering_stationary": 0.795,
                     "earlier_event": 0.945, "earlier_event_unmodelled": 0.999, "earlier_event_cut": 0.75}
"""Coverage of the 95% interval of the 30-day relative effect on 1000 SIMULATED series per stress case
(``benchmarks/stress_study.py``; run ``auto3_1000`` for the defaults of issue 13 phase 7 (``interval``,
``counterfactual`` and ``pre_break`` all ``"auto"``), ``auto1000`` for the earlier event left unmodelled,
``final1000`` for the model interval on bursts, ``default1000`` for the stationary counterfactual; ``auto-pre`` on
100 series: docs/simulation_study.md, issue 13 phases 1-7), quoted by the notes so a reader knows how far off the
interval may be when a check fires and which option measured better."""


@dataclass(frozen=True)
class PreCheck:
    """Findings of :func:`precheck`: ``bursts`` (DataFrame: date, observed, baseline, ratio), ``kpss_p`` and
    ``adf_p`` (p-values; KPSS p is clipped to [0.01, 0.1] by its table), ``wandering`` (bool), ``break_date``
    (the sup-F date or None), ``break_f`` (its scaled F statistic), ``break_events`` (catalog ids near it) and
    ``notes`` (one sentence per finding)."""

    bursts: pd.DataFrame
    kpss_p: float
    adf_p: float
    wandering: bool
    break_date: pd.Timestamp | None
    break_f: float
    break_events: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def break_found(self) -> bool:
        """True when the sup-F scan rejects a stable pre-period level at 5% (``break_f`` above
        ``SUPF_CRITICAL_5PCT``)."""
        return self.break_date is not None and self.break_f > SUPF_CRITICAL_5PCT


def _baseline(index: pd.DatetimeIndex) -> np.ndarray:
    """Constant, trend (per year of periods) and, for daily data, six day-of-week dummies: (n, p)."""
    n = len(index)
    cols = [np.ones(n), np.arange(n) / max(n, 1)]
    if index.freqstr == "D":
        dow = index.day_of_week.to_numpy()
        cols += [(dow == d).astype(float) for d in range(1, 7)]
    return np.column_stack(cols)


def precheck(y: pd.Series, event: object, *, catalog: bool = True, warn_user: bool = True,
             modelled: tuple[pd.Timestamp, ...] = ()) -> PreCheck:
    """Check the pre-period of ``y`` (counts on a regular daily/weekly/monthly index) before ``event`` (a date).

    ``modelled``: dates of breaks the fit models already (``ITSResult.nuisance_dates``); a break found within
    ``CATALOG_DAYS`` of one is noted as modelled, not as a problem, and raises no warning.

    Returns a :class:`PreCheck`; raises :class:`~spamits.errors.ModelSpecError` when fewer than ``MIN_PRE``
    observed periods precede the event.
    """
    fit = _pre_fit(y, event)
    if fit is None:
        observed = int(y.iloc[:_pre_end(y, event)].notna().sum())
        raise ModelSpecError(f"precheck: {observed} observed periods before {event}; need {MIN_PRE}")
    dates, values, X, z, beta = fit
    resid = z - X @ beta
    notes: list[str] = []
    bursts = _bursts(dates, values, resid, X @ beta)
    if len(bursts):
        shown = ", ".join(d.date().isoformat() for d in bursts["date"][:8])
        more = f" and {len(bursts) - 8} more" if len(bursts) > 8 else ""
        notes.append(f"{len(bursts)} burst period(s) before the event ({shown}{more}) at up to "
                     f"{bursts['ratio'].max():.1f} times the baseline (campaign bursts): the fit's default "
                     "interval='auto' therefore calibrates the intervals of the effect on pre-period windows "
                     "(spamits.its.calibrate.calibrated_impact); on SIMULATED series with such bursts its 95% "
                     f"interval of the 30-day effect covered the truth in {MEASURED_COVERAGE['bursts']:.0%} of "
                     f"series, the model's own (interval='model') in only {MEASURED_COVERAGE['bursts_model']:.0%} "
                     "(docs/simulation_study.md); check that no burst falls in the first days after the event")
    kpss_p, adf_p = _stationarity(resid[np.abs(resid - np.median(resid)) < 10 * _mad(resid)])
    wandering = bool(kpss_p < WANDER_KPSS_P and adf_p >= 0.05)
    if wandering:
        notes.append(f"the pre-period level wanders (KPSS p = {kpss_p:.2g}, ADF p = {adf_p:.2g}): keep the "
                     "default counterfactual='auto' (or 'conditional'), whose forecast starts from the level at the "
                     "end of the pre-period and lets it go on wandering (on SIMULATED series with a wandering "
                     "level its 95% interval covered "
                     f"the 30-day effect in {MEASURED_COVERAGE['wandering']:.0%} of series, the fixed-trend "
                     f"counterfactual='stationary' in only {MEASURED_COVERAGE['wandering_stationary']:.0%}; "
                     "docs/simulation_study.md)")
    break_date, break_f = _break_scan(X, resid, dates)
    events: tuple[str, ...] = ()
    modelled_note = None  # a break the fit models is a fact, noted but not warned about
    if break_date is not None and break_f > SUPF_CRITICAL_5PCT:  # PreCheck.break_found
        events = _catalog_near(break_date) if catalog else ()
        near = f" (catalog events within {CATALOG_DAYS} days: {', '.join(events)})" if events else ""
        if any(abs(break_date - pd.Timestamp(d)) <= pd.Timedelta(days=CATALOG_DAYS) for d in modelled):
            modelled_note = _modelled_note(break_date, break_f, near)
        else:
            notes.append(_break_note(break_date, break_f, near, event))
    if warn_user:
        for note in notes:
            warn(note, ModelFitWarning, stacklevel=2)
    if modelled_note is not None:
        notes.append(modelled_note)
    return PreCheck(bursts, kpss_p, adf_p, wandering, break_date, break_f, events, tuple(notes))


def _modelled_note(break_date: pd.Timestamp, break_f: float, near: str) -> str:
    """The note of a pre-period break that the fit models (``fit(pre_break="auto")``)."""
    return (f"a break in the pre-period level near {stamp(break_date)}{near} (sup-F {break_f:.1f} > "
            f"{SUPF_CRITICAL_5PCT}): the fit models it as a nuisance event with a decaying effect "
            "(pre_break='auto'), so the impact of the event keeps it in the counterfactual")


def _break_note(break_date: pd.Timestamp, break_f: float, near: str, event: object) -> str:
    """The note of a pre-period break: where, how strong, what the default fit does and how to model it by hand."""
    when, main, m = stamp(break_date), stamp(pd.Timestamp(event)), MEASURED_COVERAGE
    return (f"a break in the pre-period level near {when}{near} (sup-F {break_f:.1f} > {SUPF_CRITICAL_5PCT}): an "
            "earlier event may sit in the baseline. The default fit (pre_break='auto') models it as a nuisance "
            "event unless the pre-period level still wanders with it; to model it yourself: fit(y, "
            f"['{when}', '{main}'], pre_break='none') and read impact(events=['{main}']). On SIMULATED series with "
            "an earlier takedown the 95% interval of the 30-day effect covered the truth in "
            f"{m['earlier_event_unmodelled']:.0%} of series with the break left out (too wide), in "
            f"{m['earlier_event']:.0%} with the defaults; starting the pre-period after the break did worse "
            f"({m['earlier_event_cut']:.0%}; docs/simulation_study.md)")


def find_break(y: pd.Series, event: object) -> pd.Timestamp | None:
    """The break date of :func:`precheck`'s scan alone (same baseline fit, same sup-F rule; none of the slower
    tests): the date when the scan rejects a stable level at 5%, else None (also below ``MIN_PRE`` periods)."""
    fit = _pre_fit(y, event)
    if fit is None:
        return None
    dates, _, X, z, beta = fit
    return _significant_break(X, z - X @ beta, dates)


def residual_break(resid: np.ndarray, dates: pd.DatetimeIndex) -> pd.Timestamp | None:
    """The sup-F scan of :func:`precheck` on residuals of a fit (``resid`` (m,) in time order, ``dates`` (m,)),
    with a constant and a linear trend as the baseline: the break date when the scan rejects a stable level at
    5%, else None (also below ``MIN_PRE`` residuals)."""
    m = len(resid)
    if m < MIN_PRE:
        return None
    X = np.column_stack([np.ones(m), np.arange(m) / m])
    beta, *_ = np.linalg.lstsq(X, resid, rcond=None)
    return _significant_break(X, resid - X @ beta, dates)


def _significant_break(X: np.ndarray, resid: np.ndarray, dates: pd.DatetimeIndex) -> pd.Timestamp | None:
    """:func:`_break_scan`'s date when its sup-F exceeds ``SUPF_CRITICAL_5PCT`` (``PreCheck.break_found``)."""
    date, f = _break_scan(X, resid, dates)
    return date if date is not None and f > SUPF_CRITICAL_5PCT else None


def burst_days(y: pd.Series, event: object) -> pd.DatetimeIndex:
    """The burst periods of :func:`precheck` alone (same baseline fit and ``BURST_Z`` rule, none of the slower
    tests): a DatetimeIndex, empty when there are none or the pre-period is shorter than ``MIN_PRE``."""
    fit = _pre_fit(y, event)
    if fit is None:
        return pd.DatetimeIndex([], name="date")
    dates, values, X, z, beta = fit
    return pd.DatetimeIndex(_bursts(dates, values, z - X @ beta, X @ beta)["date"], name="date")


def _pre_end(y: pd.Series, event: object) -> int:
    from spamits.data import period_position

    return period_position(y.index, event)


def _pre_fit(y: pd.Series, event: object) -> tuple | None:
    """The pre-period's baseline fit shared by the checks: ``(dates, values, X, z, beta)`` of its observed
    periods (``z = log(y + 0.5)``, least squares on :func:`_baseline`), or None below ``MIN_PRE`` periods."""
    pre = y.iloc[:_pre_end(y, event)]
    obs = pre.notna().to_numpy()
    if obs.sum() < MIN_PRE:
        return None
    X = _baseline(pre.index)[obs]
    z = np.log(pre.to_numpy()[obs] + 0.5)
    beta, *_ = np.linalg.lstsq(X, z, rcond=None)
    return pre.index[obs], pre.to_numpy()[obs], X, z, beta


def _mad(x: np.ndarray) -> float:
    return float(max(1.4826 * np.median(np.abs(x - np.median(x))), 1e-9))


def _bursts(dates: pd.DatetimeIndex, values: np.ndarray, resid: np.ndarray, fitted: np.ndarray) -> pd.DataFrame:
    robust_z = (resid - np.median(resid)) / _mad(resid)
    hit = robust_z > BURST_Z
    base = np.exp(fitted[hit]) - 0.5
    return pd.DataFrame({"date": dates[hit], "observed": values[hit], "baseline": base,
                         "ratio": values[hit] / np.maximum(base, 0.5)})


def _stationarity(resid: np.ndarray) -> tuple[float, float]:
    """KPSS (level) and ADF p-values of ``resid`` (the KPSS table clips p to [0.01, 0.1])."""
    from statsmodels.tsa.stattools import adfuller, kpss

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # InterpolationWarning when p is outside the KPSS table
        kpss_p = float(kpss(resid, regression="c", nlags="auto")[1])
        adf_p = float(adfuller(resid, autolag="AIC")[1])
    return kpss_p, adf_p


def _break_scan(X: np.ndarray, resid: np.ndarray, dates: pd.DatetimeIndex) -> tuple[pd.Timestamp | None, float]:
    """sup-F of a step added to the baseline ``X`` (m, p) given its residuals ``resid`` (m,), F scaled for the
    serial correlation of the residuals."""
    m = len(resid)
    lo, hi = int(np.floor(TRIM * m)), int(np.ceil((1 - TRIM) * m))
    if hi - lo < 2:
        return None, float("nan")
    Q, _ = np.linalg.qr(X)
    scale = _short_run_share(resid)
    rss0 = float(resid @ resid)
    ks = np.arange(lo, hi)
    steps = (np.arange(m)[None, :] >= ks[:, None]).astype(float)  # (K, m)
    steps -= (steps @ Q) @ Q.T  # the step columns with the baseline projected out
    ss = np.einsum("km,km->k", steps, steps)
    gain = (steps @ resid) ** 2 / np.maximum(ss, 1e-12)
    f = gain / ((rss0 - gain) / (m - X.shape[1] - 1)) * scale
    best = int(np.argmax(f))
    return dates[ks[best]], float(f[best])


def _short_run_share(resid: np.ndarray) -> float:
    """gamma_0 / long-run variance of ``resid`` (Bartlett kernel, bandwidth ``BANDWIDTH_FACTOR·m^(1/3)``)."""
    m = len(resid)
    e = resid - resid.mean()
    gamma0 = float(e @ e) / m
    lags = max(1, int(BANDWIDTH_FACTOR * m ** (1 / 3)))
    lrv = gamma0 + 2 * sum((1 - j / (lags + 1)) * float(e[j:] @ e[:-j]) / m for j in range(1, lags + 1))
    return float(min(gamma0 / max(lrv, 1e-12 * gamma0 + 1e-300), 1.0))


def _catalog_near(date: pd.Timestamp) -> tuple[str, ...]:
    from spamits import events as catalog

    try:
        table = catalog.load()
    except SpamitsError:  # the catalog is optional for the check: no catalog file, no names
        return ()
    dates = pd.to_datetime(table["date"])
    near = (dates - date).abs() <= pd.Timedelta(days=CATALOG_DAYS)
    column = "id" if "id" in table.columns else table.columns[0]
    return tuple(str(v) for v in table.loc[near.to_numpy(), column])

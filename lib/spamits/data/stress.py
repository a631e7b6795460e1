"""Seeded SIMULATED series that break the ITS model the way real spam-trap series do (issue 13).

Each *stress case* is a daily (or hourly) count series around one takedown with its true effect, built like
:func:`spamits.data.simulate` (latent log-rate, negative-binomial counterfactual counts, binomial thinning by
the takedown ``ω·δ^k``) plus one departure from the fitted model:

========================  ===================================================================================
``conforming``            none (the model's own assumptions: dow pattern, trend, AR(1) log-rate noise)
``bursts``                spam campaigns: 1-3 day bursts about every 20 days at 3-8 times the usual volume
``wandering``             the trap's level wanders: a Gaussian random walk on the log-rate (sd 0.03/day)
``ar2``                   AR(2) log-rate noise (coefficients 0.5 and 0.35: long, slowly decaying swings)
``earlier-event``         an unmodelled earlier takedown 120 days before the event (-50%, half-life 30 days)
``low-counts``            a small trap: 4 messages a day on average, over-dispersed, runs of zeros
``weekly-change``         the weekly pattern changes 150 days before the event (weekend -10% to -55%)
``hourly``                90 days of hourly counts (2,160 hours) with an hour-of-day pattern; the cut-off
                          at a known hour (21:00 UTC), half-life in hours
========================  ===================================================================================

Every case returns the series and its truth: the realised relative effect over the first 30 days (720 hours)
from the event, ``sum(observed)/sum(counterfactual) - 1`` where the counterfactual includes every nuisance
(bursts, walk, earlier event) but not the takedown, and the simulated half-life.  Everything is SIMULATED.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd

from spamits.errors import ModelSpecError

SIMULATED_LABEL = "SIMULATED"
HORIZON_DAYS = 30  # the relative effect of the truth is over this many days from the event


@dataclass(frozen=True)
class StressCase:
    """Settings of one stress case.  ``freq`` is ``"D"`` or ``"h"``; lengths, half-lives and burst lengths are
    in periods of ``freq``; ``base`` is the mean count per period at the start; log-rates are natural logs."""

    name: str
    description: str
    freq: str = "D"
    event: str = "2008-11-11"  # the event's period (a day, or an hour for hourly cases)
    n_pre: int = 365
    n_post: int = 180
    base: float = 3000.0
    trend: float = 0.10  # log-change per year
    weekend: float = -0.15  # log-change on Saturday and Sunday
    weekend_after: float | None = None  # weekly-change: the weekend effect from ``change_at`` (periods before)
    change_at: int = 150
    drop: float = 0.5  # immediate relative drop of the takedown
    half_life: float = 14.0  # periods
    phi: tuple[float, ...] = (0.4,)  # AR coefficients of the log-rate noise (AR(1) or AR(2))
    sigma: float = 0.15  # marginal sd of the log-rate noise
    alpha: float = 0.01  # NB2 dispersion of the counts
    walk_sd: float = 0.0  # sd per period of a random walk on the log-rate
    burst_rate: float = 0.0  # expected campaign bursts per period
    burst_factor: tuple[float, float] = (3.0, 8.0)  # a burst multiplies the rate by a factor in this range
    burst_length: tuple[int, int] = (1, 3)  # periods, inclusive
    earlier_at: int = 0  # periods before the event of an unmodelled earlier takedown (0: none)
    earlier_drop: float = 0.5
    earlier_half_life: float = 30.0
    hod_amplitude: float = 0.0  # hourly: amplitude of the hour-of-day log-rate pattern (peak 15:00 UTC)


_DAILY = StressCase("conforming", "model-conforming daily series (dow pattern, trend, AR(1) noise)")
STRESS_CASES: dict[str, StressCase] = {case.name: case for case in (
    _DAILY,
    replace(_DAILY, name="bursts", description="spam campaigns: 1-3 day bursts at 3-8 times the usual volume, "
            "about one every 20 days", burst_rate=1 / 20),
    replace(_DAILY, name="wandering", description="wandering level: random walk on the log-rate, sd 0.03/day",
            walk_sd=0.03),
    replace(_DAILY, name="ar2", description="AR(2) log-rate noise (0.5, 0.35)", phi=(0.5, 0.35)),
    replace(_DAILY, name="earlier-event", description="an unmodelled takedown 120 days before the event "
            "(-50%, half-life 30 days)", earlier_at=120),
    replace(_DAILY, name="low-counts", description="a small trap: 4 messages a day, over-dispersed, runs of zeros",
            base=4.0, alpha=0.3, sigma=0.2),
    replace(_DAILY, name="weekly-change", description="the weekly pattern changes 150 days before the event "
            "(weekend -10% to -55%)", weekend=-0.10, weekend_after=-0.8),
    replace(_DAILY, name="hourly", description="90 days of hourly counts with an hour-of-day pattern, cut-off at "
            "21:00 UTC, half-life 48 hours", freq="h", event="2008-11-11 21:00", n_pre=60 * 24, n_post=30 * 24,
            base=120.0, half_life=48.0, phi=(0.95,), sigma=0.15, hod_amplitude=0.4),
)}
_OVERRIDABLE = set(StressCase.__dataclass_fields__) - {"name", "description", "freq"}


def stress_case(name: str, **overrides: object) -> StressCase:
    """The named stress case with some settings overridden; ModelSpecError for an unknown name or setting."""
    if name not in STRESS_CASES:
        raise ModelSpecError(f"unknown stress case {name!r}; known: {', '.join(STRESS_CASES)}")
    bad = set(overrides) - _OVERRIDABLE
    if bad:
        raise ModelSpecError(f"simulate_stress(): cannot override {sorted(bad)}; allowed: {sorted(_OVERRIDABLE)}")
    case = replace(STRESS_CASES[name], **overrides)
    _check(case)
    return case


def _check(case: StressCase) -> None:
    if not 0.0 <= case.drop < 1.0 or not 0.0 <= case.earlier_drop < 1.0:
        raise ModelSpecError(f"stress case {case.name!r}: drop and earlier_drop must be in [0, 1)")
    if case.half_life <= 0 or case.earlier_half_life <= 0:
        raise ModelSpecError(f"stress case {case.name!r}: half-lives must be > 0 periods")
    if len(case.phi) not in (1, 2) or not _stationary(case.phi):
        raise ModelSpecError(f"stress case {case.name!r}: phi={case.phi} must be one or two coefficients of a "
                             "stationary AR process")
    per_day = 24 if case.freq == "h" else 1
    if case.n_pre < 30 * per_day or case.n_post < HORIZON_DAYS * per_day:
        raise ModelSpecError(f"stress case {case.name!r}: need n_pre >= 30 days and n_post >= {HORIZON_DAYS} days")
    if case.earlier_at >= case.n_pre or case.change_at >= case.n_pre:
        raise ModelSpecError(f"stress case {case.name!r}: earlier_at and change_at must fall in the pre-period")


def _stationary(phi: tuple[float, ...]) -> bool:
    roots = np.roots([1.0, *(-np.asarray(phi, dtype=float))])
    return bool(np.all(np.abs(roots) < 1.0))


def _ar_noise(rng: np.random.Generator, n: int, phi: tuple[float, ...], sigma: float) -> np.ndarray:
    """A stationary AR(p) path (n,) with marginal sd ``sigma`` (burn-in of 500 periods)."""
    burn = 500
    e = rng.normal(0.0, 1.0, n + burn)
    u = np.zeros(n + burn)
    for t in range(len(phi), n + burn):
        u[t] = sum(p * u[t - 1 - j] for j, p in enumerate(phi)) + e[t]
    u = u[burn:]
    # marginal variance of the AR process with unit innovations, from its MA(inf) weights
    psi = np.zeros(2000)
    psi[0] = 1.0
    for k in range(1, len(psi)):
        psi[k] = sum(p * psi[k - 1 - j] for j, p in enumerate(phi) if k - 1 - j >= 0)
    return u * sigma / np.sqrt(np.sum(psi**2))


def _decay(k: np.ndarray, half_life: float) -> np.ndarray:
    delta = 0.5 ** (1.0 / half_life)
    return np.where(k >= 0, delta ** np.clip(k, 0, None), 0.0)


def _bursts(rng: np.random.Generator, n: int, case: StressCase) -> tuple[np.ndarray, np.ndarray]:
    """Log-multipliers (n,) of campaign bursts and a boolean mask (n,) of burst periods."""
    log_mult, mask = np.zeros(n), np.zeros(n, dtype=bool)
    if case.burst_rate <= 0:
        return log_mult, mask
    for start in np.flatnonzero(rng.random(n) < case.burst_rate):
        length = int(rng.integers(case.burst_length[0], case.burst_length[1] + 1))
        factor = rng.uniform(*case.burst_factor)
        stop = min(n, start + length)
        log_mult[start:stop] = np.maximum(log_mult[start:stop], np.log(factor))
        mask[start:stop] = True
    return log_mult, mask


def simulate_stress(name: str, seed: int = 0, **overrides: object) -> pd.DataFrame:
    """Simulate one SIMULATED stress-case series around its event.

    Returns a DataFrame on a regular index (``freq`` ``"D"`` or ``"h"``, naive UTC, name ``date``) with columns
    ``observed`` (counts per period), ``counterfactual`` (the counts without the takedown; every nuisance
    included), ``expected`` (the counterfactual's latent mean), ``log_effect[main]`` (the takedown's
    log-multiplier) and ``burst`` (bool: a campaign period).  ``attrs``: ``simulated``, ``title``, ``case``,
    ``settings`` (with ``n_pre``, as :func:`spamits.data.simulation.true_relative_effect` reads it) and
    ``truth`` (``relative_effect_30d``, ``half_life`` in periods, ``half_life_days``, ``level``,
    ``horizon_periods``, ``event``).
    """
    case = stress_case(name, **overrides)
    rng = np.random.default_rng(seed)
    event = pd.Timestamp(case.event)
    step = pd.Timedelta(hours=1) if case.freq == "h" else pd.Timedelta(days=1)
    n = case.n_pre + case.n_post
    index = pd.date_range(event - case.n_pre * step, periods=n, freq=case.freq, name="date")
    per_day = 24 if case.freq == "h" else 1
    t = np.arange(n)
    weekend = np.where(np.isin(index.day_of_week, [5, 6]), case.weekend, 0.0)
    if case.weekend_after is not None:
        later = t >= case.n_pre - case.change_at
        weekend = np.where(later & np.isin(index.day_of_week, [5, 6]), case.weekend_after, weekend)
    log_lam = np.log(case.base) + case.trend * t / (365.0 * per_day) + weekend
    log_lam += _ar_noise(rng, n, case.phi, case.sigma)
    if case.hod_amplitude:
        log_lam += case.hod_amplitude * np.cos(2 * np.pi * (index.hour.to_numpy() - 15) / 24)
    if case.walk_sd:
        log_lam += np.cumsum(rng.normal(0.0, case.walk_sd, n))
    if case.earlier_at:
        log_lam += np.log1p(-case.earlier_drop) * _decay(t - (case.n_pre - case.earlier_at), case.earlier_half_life)
    burst_log, burst = _bursts(rng, n, case)
    lam = np.exp(log_lam + burst_log)
    gamma = rng.gamma(1.0 / case.alpha, case.alpha, n) if case.alpha > 0 else np.ones(n)
    cf = rng.poisson(lam * gamma)
    log_effect = np.log1p(-case.drop) * _decay(t - case.n_pre, case.half_life)
    observed = rng.binomial(cf, np.exp(log_effect))
    frame = pd.DataFrame({"observed": observed.astype(float), "counterfactual": cf.astype(float),
                          "expected": lam, "log_effect[main]": log_effect, "burst": burst}, index=index)
    horizon = HORIZON_DAYS * per_day
    window = slice(case.n_pre, case.n_pre + horizon)
    truth = float(observed[window].sum() / max(cf[window].sum(), 1) - 1.0)
    unit = "hour" if case.freq == "h" else "day"
    frame.attrs.update({
        "simulated": True, "case": name, "seed": seed, "overrides": dict(overrides),
        "title": f"{SIMULATED_LABEL}: stress case {name} (seed {seed})",
        "source": f"{SIMULATED_LABEL} series from spamits.data.stress.simulate_stress({name!r}, seed={seed}): "
                  f"{case.description}",
        "unit": f"messages per {unit}", "event_id": "main", "event_date": str(event),
        "settings": {**asdict(case), "n_pre": case.n_pre},
        "truth": {"relative_effect_30d": truth, "half_life": case.half_life,
                  "half_life_days": case.half_life / per_day, "level": float(np.log1p(-case.drop)),
                  "horizon_periods": horizon, "event": str(event), "burst_periods": int(burst.sum())},
    })
    return frame


def daily_bins(frame: pd.DataFrame) -> pd.DataFrame:
    """An hourly stress frame summed into 24-hour bins that start at the event's hour (bin 0 = the first 24
    hours from the cut-off), labelled by the calendar day of each bin's start (``freq="D"``).

    The bins keep the event's hour as a bin boundary, so the first 30 bins hold exactly the 720 hours of the
    truth's window.  Hours before the first whole bin are dropped.  Columns ``observed`` and ``counterfactual``.
    """
    if frame.index.freqstr.lower() != "h":
        raise ModelSpecError("daily_bins: give an hourly stress frame (freq 'h')")
    n_pre = int(frame.attrs["settings"]["n_pre"])
    skip = n_pre % 24
    sums = frame[["observed", "counterfactual"]].iloc[skip:]
    whole = (len(sums) // 24) * 24
    values = sums.iloc[:whole].to_numpy().reshape(-1, 24, 2).sum(axis=1)
    start = frame.index[skip].normalize()
    index = pd.date_range(start, periods=len(values), freq="D", name="date")
    out = pd.DataFrame(values, index=index, columns=["observed", "counterfactual"])
    out.attrs = {**frame.attrs, "settings": {**frame.attrs["settings"], "n_pre": (n_pre - skip) // 24},
                 "binned": "24-hour bins from the cut-off hour"}
    return out

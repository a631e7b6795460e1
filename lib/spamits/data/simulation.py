"""Seeded simulation of daily spam counts around a takedown, with the true counterfactual.

The data-generating process (all on a daily grid, the event day inclusive in the post period):

* latent log-rate ``log λ_t = log(base) + trend·t/365 + dow_t + u_t`` with ``u_t`` a stationary AR(1)
  process (coefficient ``phi``, marginal standard deviation ``sigma``);
* counterfactual counts ``c_t ~ NegBin(mean λ_t, dispersion alpha)`` (Poisson–gamma mixture), i.e. the spam
  that would have arrived without the takedown;
* observed counts ``y_t ~ Binomial(c_t, m_t)``: the takedown removes a share ``1 - m_t`` of the messages, with
  ``log m_t = ω·g(k)`` for ``k = t - t_event >= 0``, ``ω = log(1 - drop)`` and ``g(k) = δ^k`` (decay with
  ``δ = 0.5^(1/half_life)``), ``g = 1`` (lasting drop) or ``g = 1`` for ``k < duration`` then 0 (pause).

Effect sizes come from the figures reported for each event (see ``basis`` and ``sources`` of each scenario);
everything else (level, trend, noise) is a plausible made-up setting, and every series produced here is
marked SIMULATED.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd

from spamits.data.stress import STRESS_CASES, simulate_stress
from spamits.errors import ModelSpecError

SIMULATED_LABEL = "SIMULATED"


@dataclass(frozen=True)
class Scenario:
    """Settings of one simulated series.  Counts are messages per day; times are days."""

    event_id: str
    event_date: str
    drop: float  # immediate relative drop, 0..1 (0.65 = two-thirds fewer messages)
    shape: str  # "decay", "lasting", "pause" or "none"
    half_life: float | None = None  # days, for shape "decay"
    duration: int | None = None  # days, for shape "pause"
    basis: str = ""  # how the effect size follows from the reported figures
    sources: tuple[str, ...] = ()
    n_pre: int = 365
    n_post: int = 180
    base: float = 3000.0  # mean messages per day at the start
    trend: float = 0.10  # log-change per year
    weekend: float = -0.15  # log-change on Saturday and Sunday
    phi: float = 0.6  # AR(1) coefficient of the latent log-rate noise
    sigma: float = 0.15  # marginal standard deviation of the latent log-rate noise
    alpha: float = 0.01  # negative-binomial dispersion of the counts (Var = μ + α μ²)
    others: tuple[dict, ...] = ()  # further events: dicts with event_id, event_date, drop, shape, half_life, duration
    extra: dict = field(default_factory=dict)


SCENARIOS: dict[str, Scenario] = {
    "mccolo": Scenario(
        event_id="mccolo",
        event_date="2008-11-11",
        drop=0.65,
        shape="decay",
        half_life=14.0,
        basis="about two-thirds of spam gone overnight (IronPort, Postini); by 25 Nov about two-thirds of the "
        "prior level was back (MessageLabs), so the gap roughly halved in two weeks",
        sources=(
            "https://www.circleid.com/posts/spam_volumes_dropped_two_thirds/",
            "https://www.computerwoche.de/a/spam-levels-fluctuate-as-crooks-try-to-revive-botnets,1880012,2",
        ),
        # the other events of autumn 2008 in the same window; Srizbi's comeback and cut-off has no reported
        # volume figure, so it gets no simulated effect
        others=(
            {"event_id": "intercage", "event_date": "2008-09-21", "drop": 0.35, "shape": "decay", "half_life": 4.0},
            {"event_id": "srizbi", "event_date": "2008-11-26", "drop": 0.0, "shape": "none"},
        ),
    ),
    "intercage": Scenario(
        event_id="intercage",
        event_date="2008-09-21",
        drop=0.35,
        shape="decay",
        half_life=4.0,
        basis="MessageLabs spam share 78.2% in Aug to 70.1% in Sep 2008; with legitimate mail unchanged that is "
        "about 35% less spam; botnets re-pointed within days",
        sources=(
            "https://www.helpnetsecurity.com/2008/10/06/intercage-demise-linked-to-8-percent-decline-in-spam/",
            "http://www.zdnet.com/blog/security/atrivointercages-disconnection-briefly-disrupts-spam-levels/2006",
        ),
    ),
    "rustock": Scenario(
        event_id="rustock",
        event_date="2011-03-16",
        drop=0.336,
        shape="lasting",
        basis="Symantec/MessageLabs: global spam down 33.6% between 15 and 17 Mar 2011, no recovery in the "
        "following months",
        sources=(
            "https://techmonitor.ai/technology/software/rustock-botnet-emails-1382bn-spams-daily-in-march-"
            "symantec-310311",
            "http://www.thewhir.com/web-hosting-news/symantec-report-finds-spam-accounts-for-73-percent-of-"
            "june-email",
        ),
    ),
    "grum": Scenario(
        event_id="grum",
        event_date="2012-07-18",
        drop=0.175,
        shape="decay",
        half_life=7.0,
        basis="Symantec: immediate 15-20% drop; about a month later little or no change in spam levels",
        sources=(
            "https://kashifali.ca/2012/07/botnet-owners-feeling-grum-after-takedown",
            "https://external-brain.redwolf.com.au/2012/08/29/grum-botnet-down-one-month-no-impact-on-spam",
        ),
    ),
    "rustock-holiday": Scenario(
        event_id="rustock-holiday",
        event_date="2010-12-25",
        drop=0.58,
        shape="pause",
        duration=16,
        basis="MessageLabs: 80.2 B/day before 25 Dec 2010 to 33.5 B/day around 1 Jan 2011 (-58%); Rustock "
        "back on 10 Jan (16 days)",
        sources=(
            "https://www.itbusiness.ca/blog/spam-levels-decline-in-january-but-not-for-long/20307",
            "https://www.kashifali.ca/2011/03/update-on-global-spam-volume/",
        ),
    ),
    "emotet-pause-2022-07": Scenario(
        event_id="emotet-pause-2022-07",
        event_date="2022-07-13",
        drop=0.5,
        shape="pause",
        duration=112,
        basis="Check Point: Emotet's global impact index 50% lower in Jul than in Jun 2022 (a share of "
        "organisations hit, the only size measured for this pause, used here as the drop); IPA dates the stop to "
        "13 Jul and the return to 2 Nov 2022 (112 days); the short November wave and the pause after it have no "
        "measured size, so they get no simulated effect",
        sources=(
            "https://9breakingnews.com/emotet-is-still-the-worlds-worst-malware-but-maybe-not-for-long/",
            "https://scan.netsecurity.ne.jp/article/2022/11/07/48444.html",
        ),
        others=({"event_id": "emotet-pause-2022-11", "event_date": "2022-11-15", "drop": 0.0, "shape": "none"},),
    ),
    "no-effect": Scenario(
        event_id="mccolo",
        event_date="2008-11-11",
        drop=0.0,
        shape="none",
        basis="no effect: a null series for checking false positives",
    ),
}

_OVERRIDABLE = {"drop", "shape", "half_life", "duration", "n_pre", "n_post", "base", "trend", "weekend", "phi",
                "sigma", "alpha", "event_date", "others"}


def _check_scenario(name: str, sc: Scenario) -> None:
    if sc.shape not in {"decay", "lasting", "pause", "none"}:
        raise ModelSpecError(f"scenario {name!r}: shape {sc.shape!r} must be decay, lasting, pause or none")
    if not 0.0 <= sc.drop < 1.0:
        raise ModelSpecError(f"scenario {name!r}: drop={sc.drop} must be in [0, 1)")
    if sc.shape == "decay" and not (sc.half_life and sc.half_life > 0):
        raise ModelSpecError(f"scenario {name!r}: shape 'decay' needs half_life > 0 (days), got {sc.half_life}")
    if sc.shape == "pause" and not (sc.duration and sc.duration > 0):
        raise ModelSpecError(f"scenario {name!r}: shape 'pause' needs duration > 0 (days), got {sc.duration}")
    if not -1.0 < sc.phi < 1.0:
        raise ModelSpecError(f"scenario {name!r}: phi={sc.phi} must be in (-1, 1) for a stationary AR(1)")
    if sc.n_pre < 30 or sc.n_post < 1:
        raise ModelSpecError(f"scenario {name!r}: need n_pre >= 30 and n_post >= 1 days")


def _event_parts(sc: Scenario) -> list[Scenario]:
    """The scenario's own event first, then each of ``others`` as a Scenario with the same settings."""
    parts = [sc]
    for other in sc.others:
        bad = set(other) - {"event_id", "event_date", "drop", "shape", "half_life", "duration"}
        if bad or not {"event_id", "event_date", "drop", "shape"} <= set(other):
            raise ModelSpecError(f"others: each event needs event_id, event_date, drop and shape (and half_life "
                                 f"or duration); got {sorted(other)}")
        part = replace(sc, **{"others": (), "half_life": None, "duration": None, **other})
        _check_scenario(str(other["event_id"]), part)
        parts.append(part)
    return parts


def _effect_shape(sc: Scenario, k: np.ndarray) -> np.ndarray:
    """g(k) for k = days since the event (negative before it)."""
    after = k >= 0
    if sc.shape == "decay":
        delta = 0.5 ** (1.0 / sc.half_life)
        return np.where(after, delta ** np.clip(k, 0, None), 0.0)
    if sc.shape == "lasting":
        return after.astype(float)
    if sc.shape == "pause":
        return (after & (k < sc.duration)).astype(float)
    return np.zeros(k.shape)


def _ar1(rng: np.random.Generator, n: int, phi: float, sigma: float) -> np.ndarray:
    innov = rng.normal(0.0, sigma * np.sqrt(1.0 - phi**2), n)
    u = np.empty(n)
    u[0] = rng.normal(0.0, sigma)
    for t in range(1, n):
        u[t] = phi * u[t - 1] + innov[t]
    return u


def scenario(name: str, **overrides: object) -> Scenario:
    """The named scenario, with some settings overridden (e.g. ``phi=0.8``, ``half_life=30``)."""
    if name not in SCENARIOS:
        raise ModelSpecError(f"unknown scenario {name!r}; known scenarios: {', '.join(sorted(SCENARIOS))}; "
                             f"stress cases: {', '.join(STRESS_CASES)}")
    bad = set(overrides) - _OVERRIDABLE
    if bad:
        raise ModelSpecError(f"simulate(): cannot override {sorted(bad)}; allowed: {sorted(_OVERRIDABLE)}")
    sc = replace(SCENARIOS[name], **overrides)
    _check_scenario(name, sc)
    return sc


def simulate(scenario_name: str, seed: int = 0, **overrides: object) -> pd.DataFrame:
    """Simulate a SIMULATED daily spam-count series around the scenario's event.

    A name of :data:`spamits.data.stress.STRESS_CASES` (bursts, wandering, ar2, earlier-event, low-counts,
    weekly-change, hourly, conforming) gives that stress case instead (:func:`~spamits.data.stress.
    simulate_stress`; ``hourly`` on an hourly index).

    Returns a DataFrame indexed by day (``freq="D"``, name ``date``) with columns ``observed`` (messages per
    day after the takedown), ``counterfactual`` (messages per day that would have arrived without it; equal to
    ``observed`` before the event) and ``expected`` (the counterfactual's latent mean λ_t).  ``attrs`` holds
    ``simulated=True``, the scenario settings and the true effect (``truth``).
    """
    if scenario_name in STRESS_CASES:
        return simulate_stress(scenario_name, seed, **overrides)
    sc = scenario(scenario_name, **overrides)
    rng = np.random.default_rng(seed)
    event = pd.Timestamp(sc.event_date)
    index = pd.date_range(event - pd.Timedelta(days=sc.n_pre), periods=sc.n_pre + sc.n_post, freq="D",
                          name="date")
    t = np.arange(len(index)) / 365.0
    weekend = np.isin(index.day_of_week, [5, 6]) * sc.weekend
    log_lam = np.log(sc.base) + sc.trend * t + weekend + _ar1(rng, len(index), sc.phi, sc.sigma)
    lam = np.exp(log_lam)
    gamma = rng.gamma(1.0 / sc.alpha, sc.alpha, len(index)) if sc.alpha > 0 else np.ones(len(index))
    cf = rng.poisson(lam * gamma)
    effects = {}
    for part in _event_parts(sc):
        offset = (pd.Timestamp(part.event_date) - index[0]).days
        effects[part.event_id] = np.log1p(-part.drop) * _effect_shape(part, np.arange(len(index)) - offset)
    log_effect = np.sum(list(effects.values()), axis=0)
    observed = rng.binomial(cf, np.exp(log_effect))
    frame = pd.DataFrame({"observed": observed.astype(float), "counterfactual": cf.astype(float),
                          "expected": lam}, index=index)
    for event_id, values in effects.items():
        frame[f"log_effect[{event_id}]"] = values
    frame.attrs.update(_attrs(scenario_name, seed, sc, overrides, effects[sc.event_id]))
    return frame


def _attrs(name: str, seed: int, sc: Scenario, overrides: dict, log_effect: np.ndarray) -> dict:
    delta = 0.5 ** (1.0 / sc.half_life) if sc.shape == "decay" else None
    title = f"{SIMULATED_LABEL}: {name} scenario (seed {seed})"
    return {
        "simulated": True,
        "scenario": name,
        "seed": seed,
        "overrides": dict(overrides),
        "title": title,
        "source": f"{SIMULATED_LABEL} series from spamits.data.simulate({name!r}, seed={seed}); "
        f"effect size from reported figures: {sc.basis}",
        "unit": "messages per day",
        "event_id": sc.event_id,
        "event_date": sc.event_date,
        "settings": {k: v for k, v in asdict(sc).items() if k not in {"extra"}},
        "truth": {"drop": sc.drop, "shape": sc.shape, "half_life": sc.half_life, "decay_rate": delta,
                  "duration": sc.duration, "level": float(np.log1p(-sc.drop)),
                  "log_effect_first_days": [float(v) for v in log_effect[sc.n_pre:sc.n_pre + 3]]},
    }


def true_relative_effect(frame: pd.DataFrame, start: int = 0, days: int | None = None,
                         events: list[str] | None = None) -> float:
    """The true relative effect of ``events`` over ``days`` days from the scenario's event day.

    ``sum(observed)/sum(counterfactual without those events) - 1``, where the counterfactual without some
    events is the simulated counterfactual thinned by the expected effect of the others (``events=None``:
    all events, i.e. ``sum(observed)/sum(counterfactual) - 1``).  ``start`` is the first day counted (0 = the
    event day); ``days=None`` means the whole post period.
    """
    n_pre = frame.attrs["settings"]["n_pre"]
    stop = None if days is None else n_pre + start + days
    window = frame.iloc[n_pre + start:stop]
    kept = [c for c in window.columns if c.startswith("log_effect[") and events is not None
            and c[len("log_effect["):-1] not in events]
    without = window["counterfactual"] * np.exp(window[kept].sum(axis=1)) if kept else window["counterfactual"]
    return float(window["observed"].sum() / without.sum() - 1.0)

"""Design matrices for ITS fits: baseline terms (constant, trend, seasonality, controls) and event terms,
made of the term objects of ``spamits.its.terms``.

The event date is inclusive: the period containing the event is the first post-event period.  Event columns
are flagged so that the counterfactual is the same design with those columns set to zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from spamits.data import period_position
from spamits.errors import ModelSpecError
from spamits.its import terms
from spamits.its._hourly import stamp

EFFECTS = ("step", "slope", "step+slope", "decay")
FIT_FREQS = ("H", "D", "W", "M")
NATURAL_PERIOD = {f: terms.NATURAL_PERIOD[f] for f in FIT_FREQS}  # periods per seasonal cycle
UNIT = {f: terms.UNIT[f] for f in FIT_FREQS}


@dataclass(frozen=True)
class EventSpec:
    """One event in a fit: its label, date, the index position of its first post period, and effect shape."""

    label: str
    date: pd.Timestamp
    position: int
    effect: str
    min_half_life: float = 0.25
    """Shortest half-life (periods) the decay-rate search considers (see ``spamits.its._profile.search_bounds``)."""

    @property
    def terms(self) -> tuple[str, ...]:
        return {"step": ("level",), "slope": ("slope",), "step+slope": ("level", "slope"),
                "decay": ("level", "decay_rate")}[self.effect]

    def design_terms(self, delta: float | None = None) -> tuple[terms.DeterministicTerm, ...]:
        """The event's design terms (``spamits.its.terms``); ``delta``: the decay rate of ``effect="decay"``."""
        return effect_terms(self.effect, self.label, self.date, delta)


def effect_terms(effect: str, label: str, date: object, delta: float | None = None
                 ) -> tuple[terms.DeterministicTerm, ...]:
    """The design terms of one effect shape (``EFFECTS``) of the event ``label`` on ``date``: ``step`` a Level,
    ``slope`` a Slope, ``step+slope`` both, ``decay`` a Decay at rate ``delta``."""
    if effect == "decay":
        if delta is None:
            raise ModelSpecError("internal: a decay column needs its decay rate")
        return (terms.Decay(label, date, delta),)
    return {"step": (terms.Level(label, date),), "slope": (terms.Slope(label, date),),
            "step+slope": (terms.Level(label, date), terms.Slope(label, date))}[effect]


def fit_freq(index: pd.DatetimeIndex) -> str:
    """'H', 'D', 'W' or 'M' for an hourly, daily, weekly or monthly index (``freq`` must be set): the
    frequencies a fit takes (hourly: every hour, UTC; see ``spamits.its._hourly``)."""
    freq = terms.freq_code(index)
    if freq not in FIT_FREQS:
        raise ModelSpecError(f"y: frequency {index.freq.rule_code!r} is not supported; use hourly, daily, "
                             "weekly or monthly data")
    return freq


def parse_date(item: object, what: str) -> pd.Timestamp:
    """``item`` as a Timestamp; a ModelSpecError starting with ``what`` when it is not a date."""
    try:
        date = pd.Timestamp(item)
    except (TypeError, ValueError) as exc:
        raise ModelSpecError(f"{what}: {item!r} is neither a date nor an Event") from exc
    if pd.isna(date):
        raise ModelSpecError(f"{what}: {item!r} is not a date")
    return date


def event_position(index: pd.DatetimeIndex, date: pd.Timestamp) -> int:
    """Position of the first period whose span contains or follows ``date`` (event inclusive)."""
    pos = period_position(index, date)
    if pos >= len(index) or date < index[0]:
        raise ModelSpecError(f"events: {stamp(date)} is outside the series ({stamp(index[0])} to "
                             f"{stamp(index[-1])}); widen the window or pick another event")
    return pos


def baseline_terms(seasonality: object, freq: str) -> tuple[terms.DeterministicTerm, ...]:
    """The baseline terms of a fit: constant, linear trend (per period, centred) and the seasonal terms."""
    return (terms.Constant(), terms.Trend(), *terms.seasonal_terms(seasonality, freq))


def baseline(index: pd.DatetimeIndex, seasonality: object, freq: str) -> pd.DataFrame:
    """Constant, linear trend (per period, centred) and seasonal terms for ``index`` (n, p0)."""
    return terms.Design(index, baseline_terms(seasonality, freq)).matrix


def event_columns(n: int, spec: EventSpec, delta: float | None = None) -> dict[str, np.ndarray]:
    """Columns (each (n,)) of one event's terms (``EventSpec.design_terms``) on a grid of n periods."""
    return {t.column: t.values(n, spec.position) for t in spec.design_terms(delta)}


def decay_derivative(n: int, spec: EventSpec, delta: float, omega: float) -> np.ndarray:
    """d(ω·δ^k)/d(logit δ) = ω·k·δ^k·(1-δ): the linearised column that carries the decay rate's uncertainty."""
    k = np.arange(n, dtype=float) - spec.position
    kk = np.clip(k, 0, None)
    return np.where(k >= 0, omega * kk * delta**kk * (1.0 - delta), 0.0)

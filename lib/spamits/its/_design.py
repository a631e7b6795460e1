"""Design matrices for ITS fits: baseline terms (constant, trend, seasonality, controls) and event terms.

The event date is inclusive: the period containing the event is the first post-event period.  Event columns
are flagged so that the counterfactual is the same design with those columns set to zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from spamits.data import period_position
from spamits.errors import ModelSpecError

EFFECTS = ("step", "slope", "step+slope", "decay")
NATURAL_PERIOD = {"D": 7, "W": 52, "M": 12}
UNIT = {"D": "days", "W": "weeks", "M": "months"}
_DOW = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class EventSpec:
    """One event in a fit: its label, date, the index position of its first post period, and effect shape."""

    label: str
    date: pd.Timestamp
    position: int
    effect: str

    @property
    def terms(self) -> tuple[str, ...]:
        return {"step": ("level",), "slope": ("slope",), "step+slope": ("level", "slope"),
                "decay": ("level", "decay_rate")}[self.effect]


def freq_kind(index: pd.DatetimeIndex) -> str:
    """'D', 'W' or 'M' for a daily, weekly or monthly index (``freq`` must be set)."""
    freq = index.freq
    if freq is None:
        raise ModelSpecError("y: the DatetimeIndex has no frequency; load it with spamits.data.load or set "
                             "freq (daily 'D', weekly 'W-SUN', monthly 'MS')")
    code = freq.rule_code.upper()
    if code == "D":
        return "D"
    if code.startswith("W"):
        return "W"
    if code in {"MS", "ME", "M"}:
        return "M"
    raise ModelSpecError(f"y: frequency {freq.rule_code!r} is not supported; use daily, weekly or monthly data")


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
        raise ModelSpecError(f"events: {date.date()} is outside the series ({index[0].date()} to "
                             f"{index[-1].date()}); widen the window or pick another event")
    return pos


def baseline(index: pd.DatetimeIndex, seasonality: object, kind: str) -> pd.DataFrame:
    """Constant, linear trend (per period, centred) and seasonal terms for ``index``."""
    n = len(index)
    t = np.arange(n, dtype=float)
    cols: dict[str, np.ndarray] = {"const": np.ones(n), "trend": (t - t.mean()) / max(n, 1)}
    if seasonality is None:
        pass
    elif seasonality == "dow":
        if kind != "D":
            raise ModelSpecError("seasonality='dow' (day-of-week) needs daily data; use an int k for "
                                 "Fourier terms on weekly or monthly data")
        dow = index.day_of_week
        for d in range(1, 7):
            cols[f"dow({_DOW[d]})"] = (dow == d).astype(float)
    elif isinstance(seasonality, int | np.integer) and not isinstance(seasonality, bool):
        period = NATURAL_PERIOD[kind]
        if not 1 <= seasonality <= period // 2:
            raise ModelSpecError(f"seasonality={seasonality}: the number of Fourier pairs must be between 1 "
                                 f"and {period // 2} at period {period}")
        pos = _absolute_position(index, kind)
        for j in range(1, seasonality + 1):
            angle = 2 * np.pi * j * pos / period
            cols[f"sin({j},{period})"] = np.sin(angle)
            if 2 * j != period:
                cols[f"cos({j},{period})"] = np.cos(angle)
    else:
        raise ModelSpecError(f"seasonality={seasonality!r}: use None, 'dow' or an int number of Fourier pairs")
    return pd.DataFrame(cols, index=index)


def _absolute_position(index: pd.DatetimeIndex, kind: str) -> np.ndarray:
    """Period number counted from a fixed origin, so seasonal terms do not depend on the window."""
    if kind == "D":
        return (index - pd.Timestamp("1970-01-05")).days.to_numpy(dtype=float)  # a Monday
    if kind == "W":
        return index.isocalendar().week.to_numpy(dtype=float) - 1.0
    return index.month.to_numpy(dtype=float) - 1.0


def event_columns(n: int, spec: EventSpec, delta: float | None = None) -> dict[str, np.ndarray]:
    """Columns of one event: level (step), slope (periods since the event, 0 on the event period), decay."""
    k = np.arange(n, dtype=float) - spec.position
    after = k >= 0
    cols: dict[str, np.ndarray] = {}
    if spec.effect in {"step", "step+slope"}:
        cols[f"level({spec.label})"] = after.astype(float)
    if spec.effect in {"slope", "step+slope"}:
        cols[f"slope({spec.label})"] = np.where(after, k, 0.0)
    if spec.effect == "decay":
        if delta is None:
            raise ModelSpecError("internal: a decay column needs its decay rate")
        cols[f"level({spec.label})"] = np.where(after, delta ** np.clip(k, 0, None), 0.0)
    return cols


def decay_derivative(n: int, spec: EventSpec, delta: float, omega: float) -> np.ndarray:
    """d(ω·δ^k)/d(logit δ) = ω·k·δ^k·(1-δ): the linearised column that carries the decay rate's uncertainty."""
    k = np.arange(n, dtype=float) - spec.position
    kk = np.clip(k, 0, None)
    return np.where(k >= 0, omega * kk * delta**kk * (1.0 - delta), 0.0)

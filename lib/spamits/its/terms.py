"""Design terms of an ITS fit as value objects, in the style of statsmodels ``tsa.deterministic``.

Every term is a :class:`DeterministicTerm`: ``in_sample(index)`` returns its columns as a DataFrame indexed by
``index`` with stable, readable column names (``const``, ``trend``, ``dow(Tue)``, ``hod(13)``, ``sin(1,7)``,
``level(mccolo)``), ``str(term)`` names it, and equality and hashing come from its ``_eq_attr`` tuple, so a
:class:`Design` can reject a term given twice.

* baseline terms: :class:`Constant`, :class:`Trend`, :class:`DayOfWeek` (``"dow"``), :class:`HourOfDay`
  (``"hod"``; ``"hod+dow"`` is both, see :func:`seasonal_terms`), :class:`Fourier` and :class:`Control`
  (a log control series as a covariate);
* event terms (``is_event = True``; the counterfactual is the same design with their columns set to zero):
  :class:`Level` (a step, level change from the event on), :class:`Slope` (trend change, 0 on the event
  period) and :class:`Decay` (``δ^k`` k periods after the event).  The event date is inclusive: the period
  containing it is the first post-event period.

:class:`Design` assembles the matrix of its terms once, rejects a duplicate term or column, and its
:meth:`Design.check_rank` turns a collinear control or term into a :class:`~spamits.errors.ModelSpecError`
naming the column.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from functools import cached_property
from typing import ClassVar

import numpy as np
import pandas as pd

from spamits.data import period_position
from spamits.errors import ModelSpecError

DOW_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SEASONALITIES = ("dow", "hod", "hod+dow")  # by name; an int k is k Fourier pairs at the natural period
NATURAL_PERIOD = {"H": 24, "D": 7, "W": 52, "M": 12}  # periods per seasonal cycle, by frequency code
UNIT = {"H": "hours", "D": "days", "W": "weeks", "M": "months"}
_ORIGIN = pd.Timestamp("1970-01-05")  # a Monday: seasonal terms count periods from it, not from the window


def freq_code(index: pd.DatetimeIndex) -> str:
    """``"H"``, ``"D"``, ``"W"`` or ``"M"`` for an hourly, daily, weekly or monthly index (``freq`` must be set)."""
    freq = index.freq
    if freq is None:
        raise ModelSpecError("y: the DatetimeIndex has no frequency; load it with spamits.data.load or set "
                             "freq (daily 'D', weekly 'W-SUN', monthly 'MS')")
    code = freq.rule_code.upper()
    if code == "D" or (code == "H" and freq.n == 1):
        return code
    if code.startswith("W"):
        return "W"
    if code in {"MS", "ME", "M"}:
        return "M"
    raise ModelSpecError(f"y: frequency {freq.rule_code!r} is not supported; use hourly, daily, weekly or "
                         "monthly data")


def absolute_position(index: pd.DatetimeIndex) -> np.ndarray:
    """Period number (n,) counted from a fixed origin, so seasonal terms do not depend on the window: hours or
    days since Monday 1970-01-05, the ISO week - 1 (weekly), the month - 1 (monthly)."""
    freq = freq_code(index)
    if freq == "D":
        return (index - _ORIGIN).days.to_numpy(dtype=float)
    if freq == "H":
        return ((index - _ORIGIN) // pd.Timedelta(hours=1)).to_numpy(dtype=float)
    if freq == "W":
        return index.isocalendar().week.to_numpy(dtype=float) - 1.0
    return index.month.to_numpy(dtype=float) - 1.0


class DeterministicTerm(ABC):
    """A term of the design: ``in_sample(index)`` gives its columns; equal terms have equal ``_eq_attr``."""

    is_event: ClassVar[bool] = False  # event terms are zeroed for the counterfactual

    @abstractmethod
    def in_sample(self, index: pd.DatetimeIndex) -> pd.DataFrame:
        """The term's columns (n, k) on ``index``, indexed by it."""

    @property
    @abstractmethod
    def _eq_attr(self) -> tuple:
        """The values that make two terms of the same class equal."""

    @abstractmethod
    def __str__(self) -> str: ...

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(map(repr, self._eq_attr))})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self._eq_attr == other._eq_attr  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._eq_attr))


class Constant(DeterministicTerm):
    """The intercept: one column ``const`` of ones."""

    def in_sample(self, index: pd.DatetimeIndex) -> pd.DataFrame:
        return pd.DataFrame({"const": np.ones(len(index))}, index=index)

    @property
    def _eq_attr(self) -> tuple:
        return ()

    def __str__(self) -> str:
        return "Constant"


class Trend(DeterministicTerm):
    """A linear trend ``trend = (t - mean t) / n`` (t = 0..n-1 periods): centred and scaled on the window."""

    def in_sample(self, index: pd.DatetimeIndex) -> pd.DataFrame:
        n = len(index)
        t = np.arange(n, dtype=float)
        return pd.DataFrame({"trend": (t - t.mean()) / max(n, 1)}, index=index)

    @property
    def _eq_attr(self) -> tuple:
        return ()

    def __str__(self) -> str:
        return "Trend"


class _CalendarDummies(DeterministicTerm):
    """Dummies of one calendar field of the index (the first value is the reference), for the frequency codes
    in ``_freqs``; subclasses set the field, the values, the column names and the message."""

    _freqs: frozenset[str]
    _message: str

    def _columns(self, index: pd.DatetimeIndex) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def in_sample(self, index: pd.DatetimeIndex) -> pd.DataFrame:
        if freq_code(index) not in self._freqs:
            raise ModelSpecError(self._message)
        return pd.DataFrame({name: hit.astype(float) for name, hit in self._columns(index).items()}, index=index)

    @property
    def _eq_attr(self) -> tuple:
        return ()

    def __str__(self) -> str:
        return type(self).__name__


class DayOfWeek(_CalendarDummies):
    """Day-of-week dummies ``dow(Tue)`` .. ``dow(Sun)`` (Monday is the reference) of a daily or hourly index."""

    _freqs = frozenset({"D", "H"})
    _message = ("seasonality='dow' (day-of-week) needs daily data; use an int k for Fourier terms on weekly or "
                "monthly data")

    def _columns(self, index: pd.DatetimeIndex) -> dict[str, np.ndarray]:
        dow = index.day_of_week
        return {f"dow({DOW_NAMES[d]})": dow == d for d in range(1, 7)}


class HourOfDay(_CalendarDummies):
    """Hour-of-day dummies ``hod(1)`` .. ``hod(23)`` (hour 0 is the reference) of an hourly index."""

    _freqs = frozenset({"H"})
    _message = ("seasonality='hod' (hour of day) needs hourly data; use 'dow' or an int k for daily, weekly or "
                "monthly data")

    def _columns(self, index: pd.DatetimeIndex) -> dict[str, np.ndarray]:
        hour = index.hour
        return {f"hod({h})": hour == h for h in range(1, 24)}


class Fourier(DeterministicTerm):
    """``order`` sine/cosine pairs ``sin(j,period)``, ``cos(j,period)`` (j = 1..order) at ``period`` periods.

    The angle is ``2π·j·pos/period`` with ``pos`` the period number from a fixed origin
    (:func:`absolute_position`); the cosine of ``j = period/2`` (a column of ±1 that repeats the sine's
    information) is left out.  ``1 <= order <= period // 2``.
    """

    def __init__(self, period: int, order: int) -> None:
        for name, value in (("period", period), ("order", order)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ModelSpecError(f"Fourier: {name}={value!r} must be an int >= 1")
        if order > period // 2:
            raise ModelSpecError(f"seasonality={order}: the number of Fourier pairs must be between 1 "
                                 f"and {period // 2} at period {period}")
        self.period, self.order = int(period), int(order)

    def in_sample(self, index: pd.DatetimeIndex) -> pd.DataFrame:
        pos = absolute_position(index)
        cols: dict[str, np.ndarray] = {}
        for j in range(1, self.order + 1):
            angle = 2 * np.pi * j * pos / self.period
            cols[f"sin({j},{self.period})"] = np.sin(angle)
            if 2 * j != self.period:
                cols[f"cos({j},{self.period})"] = np.cos(angle)
        return pd.DataFrame(cols, index=index)

    @property
    def _eq_attr(self) -> tuple:
        return (self.period, self.order)

    def __str__(self) -> str:
        return f"Fourier(period={self.period}, order={self.order})"


class Control(DeterministicTerm):
    """A control series entering as a covariate: one column ``control(name)`` of its log ``values``.

    ``values`` is a Series of log values on (at least) the fit's dates; equality is by ``name``.
    """

    def __init__(self, name: str, values: pd.Series) -> None:
        self.name, self.values = str(name), values

    def in_sample(self, index: pd.DatetimeIndex) -> pd.DataFrame:
        return pd.DataFrame({f"control({self.name})": self.values.reindex(index).to_numpy(dtype=float)},
                            index=index)

    @property
    def _eq_attr(self) -> tuple:
        return (self.name,)

    def __str__(self) -> str:
        return f"Control({self.name})"


class _EventTerm(DeterministicTerm):
    """An event term of the event ``label`` whose first post-event period contains ``date`` (inclusive)."""

    is_event = True
    prefix: ClassVar[str] = ""

    def __init__(self, label: str, date: object) -> None:
        self.label, self.date = str(label), pd.Timestamp(date)

    @property
    def column(self) -> str:
        return f"{self.prefix}({self.label})"

    @abstractmethod
    def values(self, n: int, position: int | np.ndarray) -> np.ndarray:
        """The column (n,) on a grid of n periods whose first post-event period is ``position``; with positions
        (D, 1), one row per position (D, n)."""

    def in_sample(self, index: pd.DatetimeIndex) -> pd.DataFrame:
        position = period_position(index, self.date)
        return pd.DataFrame({self.column: self.values(len(index), position)}, index=index)

    @property
    def _eq_attr(self) -> tuple:
        return (self.label, self.date)

    def __str__(self) -> str:
        return f"{type(self).__name__}({self.label}, {self.date.date()})"


class Level(_EventTerm):
    """A step: ``level(label)`` is 1 from the event period on, 0 before."""

    prefix = "level"

    def values(self, n: int, position: int | np.ndarray) -> np.ndarray:
        return (np.arange(n, dtype=float) - position >= 0).astype(float)


class Slope(_EventTerm):
    """A trend change: ``slope(label)`` counts periods since the event (0 on the event period, 0 before)."""

    prefix = "slope"

    def values(self, n: int, position: int | np.ndarray) -> np.ndarray:
        k = np.arange(n, dtype=float) - position
        return np.where(k >= 0, k, 0.0)


class Decay(_EventTerm):
    """A decaying change: ``level(label)`` is ``rate^k`` k periods after the event (1 on the event period)."""

    prefix = "level"

    def __init__(self, label: str, date: object, rate: float) -> None:
        super().__init__(label, date)
        self.rate = float(rate)

    def values(self, n: int, position: int | np.ndarray) -> np.ndarray:
        k = np.arange(n, dtype=float) - position
        return np.where(k >= 0, self.rate ** np.clip(k, 0, None), 0.0)

    @property
    def _eq_attr(self) -> tuple:
        return (self.label, self.date, self.rate)

    def __str__(self) -> str:
        return f"Decay({self.label}, {self.date.date()}, rate={self.rate:g})"


def seasonal_terms(seasonality: object, freq: str) -> tuple[DeterministicTerm, ...]:
    """The terms of ``fit(seasonality=...)``: None (none), ``"dow"``, ``"hod"``, ``"hod+dow"`` (both) or an int
    k (k Fourier pairs at the natural period ``NATURAL_PERIOD[freq]``: 7 daily, 52 weekly, 12 monthly, 24
    hourly)."""
    if seasonality is None:
        return ()
    if seasonality == "dow":
        return (DayOfWeek(),)
    if seasonality == "hod":
        return (HourOfDay(),)
    if seasonality == "hod+dow":
        return (HourOfDay(), DayOfWeek())
    if isinstance(seasonality, int | np.integer) and not isinstance(seasonality, bool):
        period = NATURAL_PERIOD[freq]
        if not 1 <= seasonality <= period // 2:
            raise ModelSpecError(f"seasonality={seasonality}: the number of Fourier pairs must be between 1 "
                                 f"and {period // 2} at period {period}")
        return (Fourier(period, int(seasonality)),)
    raise ModelSpecError(f"seasonality={seasonality!r}: use None, 'dow', 'hod', 'hod+dow' (hourly data) or an "
                         "int number of Fourier pairs")


class Design:
    """The terms of a fit on one ``index``: the matrix assembled once (:attr:`matrix`), checked once.

    A term given twice (equal terms) or two terms with a column of the same name raise ModelSpecError.
    :meth:`check_rank` raises ModelSpecError naming the first column that is a combination of the ones before
    it (a collinear control or term) and what to do.
    """

    def __init__(self, index: pd.DatetimeIndex, terms: Sequence[DeterministicTerm]) -> None:
        seen: set[DeterministicTerm] = set()
        for term in terms:
            if term in seen:
                raise ModelSpecError(f"design: the term {term} is given twice; give each term once")
            seen.add(term)
        self.index, self.terms = index, tuple(terms)

    @cached_property
    def matrix(self) -> pd.DataFrame:
        """All columns (n, p), in the order of the terms."""
        frames = [term.in_sample(self.index) for term in self.terms]
        names = [c for f in frames for c in f.columns]
        twice = sorted({c for c in names if names.count(c) > 1})
        if twice:
            raise ModelSpecError(f"design: the column(s) {', '.join(map(repr, twice))} come from more than one term "
                                 "(e.g. a step and a decay of the same event); give one term per column")
        if not frames:
            return pd.DataFrame(index=self.index)
        return pd.concat(frames, axis=1) if len(frames) > 1 else frames[0]

    @property
    def event_columns(self) -> list[str]:
        """The columns of the event terms (zeroed for the counterfactual)."""
        return [t.column for t in self.terms if t.is_event]  # type: ignore[attr-defined]

    def check_rank(self, rows: np.ndarray | None = None) -> None:
        """ModelSpecError naming the first column that is collinear with the ones before it on ``rows`` (a
        boolean mask (n,) of the observed periods; default all)."""
        X = self.matrix.to_numpy()
        if rows is not None:
            X = X[rows]
        if np.linalg.matrix_rank(X) == X.shape[1]:
            return
        names = list(self.matrix.columns)
        for j in range(1, X.shape[1] + 1):
            if np.linalg.matrix_rank(X[:, :j]) < j:
                what = "control" if names[j - 1].startswith("control(") else "term"
                raise ModelSpecError(f"design: the {what} {names[j - 1]!r} is collinear with the terms before it "
                                     f"({', '.join(names[:j - 1])}) on the observed periods, so its effect cannot "
                                     "be estimated; drop it or the term it duplicates")

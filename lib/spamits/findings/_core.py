"""The :class:`Findings` object and the wording shared by every findings builder.

A finding is a plain sentence computed from a result: a number with its interval, a verdict the notebook
already computes, or a caveat a diagnostic raises.  The first sentence always says whether the data are
SIMULATED or REAL.  Uncertain findings are worded as such: an interval that crosses zero is "no clear change".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from spamits._display import escape_markdown, fmt_date, fmt_number, fmt_pct

__all__ = ["FINDINGS_CLASS", "TABLE_COLUMNS", "Findings", "change_phrase", "half_life_phrase", "interval_text",
           "row"]

FINDINGS_CLASS = "spamits-findings"
"""CSS class of the ``div`` around a Findings output: the reviewer page copies it into its key-results box."""
TABLE_COLUMNS = ["finding", "estimate", "low", "high", "unit", "text"]


@dataclass(frozen=True)
class Findings:
    """What a notebook found, as sentences (``lines``, the data statement first) and as a ``table``.

    ``table`` has one row per quantity: ``finding`` (a short name), ``estimate``, ``low``, ``high`` (numbers, NaN
    when not applicable), ``unit`` and ``text`` (the rounded figure as shown).  ``text`` is Markdown; shown in a
    notebook (``_repr_markdown_``) it sits in a ``<div class="spamits-findings">`` that the report's key-results
    box copies.
    """

    data: str
    lines: tuple[str, ...]
    table: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=TABLE_COLUMNS))
    title: str = "Findings"

    @property
    def text(self) -> str:
        """Markdown: the data statement in bold, then one bullet per finding (text from data files escaped)."""
        first, *rest = self.lines
        label, sep, tail = first.partition(": ")
        head = f"**{escape_markdown(label)}:** {escape_markdown(tail)}" if sep else f"**{escape_markdown(first)}**"
        return "\n".join([head, "", *(f"- {escape_markdown(line)}" for line in rest)])

    def _repr_markdown_(self) -> str:
        return f'<div class="{FINDINGS_CLASS}">\n\n{self.text}\n\n</div>'

    def __repr__(self) -> str:
        return "\n".join([f"{self.title}:", *(f"- {line}" for line in self.lines)])

    def __str__(self) -> str:
        return "\n".join(self.lines)


def row(finding: str, estimate: float, low: float = float("nan"), high: float = float("nan"), unit: str = "",
        text: str = "") -> dict:
    """One row of a findings table."""
    return {"finding": finding, "estimate": estimate, "low": low, "high": high, "unit": unit, "text": text}


def _pct_abs(x: float, digits: int) -> str:
    return fmt_pct(abs(x), digits, sign=False)


def interval_text(low: float, high: float, *, digits: int = 0) -> str:
    """A percentage interval in words, ``−74% to −58%`` (signed, for intervals that may cross zero)."""
    return f"{fmt_pct(low, digits)} to {fmt_pct(high, digits)}"


def change_phrase(est: float, low: float, high: float, *, what: str = "Spam", digits: int = 0) -> tuple[str, bool]:
    """``("Spam fell by 67% (58% to 74%)", True)``; an interval crossing zero gives "no clear change" and False.

    ``est``, ``low`` and ``high`` are relative changes (fractions, -0.67 = 67% fewer).
    """
    if not (low < 0 < high) and low == low and high == high:
        if high < 0:
            return (f"{what} fell by {_pct_abs(est, digits)} ({_pct_abs(high, digits)} to "
                    f"{_pct_abs(low, digits)})"), True
        return f"{what} rose by {_pct_abs(est, digits)} ({_pct_abs(low, digits)} to {_pct_abs(high, digits)})", True
    return (f"no clear change in {what.lower()}: the estimate is {fmt_pct(est, digits)} but the interval runs from "
            f"{interval_text(low, high, digits=digits)}"), False


def half_life_phrase(est: float, low: float, high: float, unit: str, *, at_bound: bool = False) -> str:
    """``"a half-life of 13 days (9 to 19)"``, or the honest wording when the data cannot bound it."""
    digits = 0 if est >= 10 or (high == high and high - low >= 10) else 1
    if at_bound or not high == high or high == float("inf"):
        return (f"no clear recovery within the window: the half-life is at least {fmt_number(low, digits)} {unit} "
                "(its interval has no upper bound)")
    return (f"a half-life of {fmt_number(est, digits)} {unit} ({fmt_number(low, digits)} to "
            f"{fmt_number(high, digits)})")


def on_date(date: object) -> str:
    """``"on 11 Nov 2008"``."""
    return f"on {fmt_date(date, long=True)}"


def data_sentence(simulated: bool, what: str = "the series", of: str = "the event") -> tuple[str, str]:
    """The opening sentence and the data label (``SIMULATED`` or ``REAL``)."""
    if simulated:
        return (f"SIMULATED data: {what} is simulated from the figures reported for {of}, so these findings "
                "show what the method recovers, not what happened to real spam."), "SIMULATED"
    return f"REAL data: {what} holds measured counts.", "REAL"

"""Tables and numbers for people: captions, units, rounding the intervals support, no machine formatting.

One formatting module for every table a notebook shows (the machine-readable numbers stay in ``results.json``):

- number formatters: :func:`fmt_pct` (a fraction as a signed percentage with a true minus sign), :func:`fmt_interval`
  (``−67% [−74%, −58%]``), :func:`fmt_number`, :func:`fmt_count` (``22,465``), :func:`fmt_p` (``< 0.001``),
  :func:`fmt_date` (``2008-11-11``, or ``11 Nov 2008`` in sentences) and :func:`digits_for` (the decimals an
  interval's width supports);
- :func:`table`, which builds a :class:`DisplayTable` from a frame and a column spec: a caption that says
  SIMULATED (never an index name), units in the headers, intervals in one column, long text that wraps;
- :func:`escape_markdown` for text from data files shown as Markdown.

The bottom layer of the package (imports only ``spamits.errors``), so data, the fits, the findings and the
figures can all use it.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from spamits._labels import SIMULATED, is_simulated
from spamits.errors import ModelSpecError

__all__ = ["MINUS", "SIMULATED", "DisplayTable", "digits_for", "escape_markdown", "fmt_count", "fmt_date",
           "finite_or_nan", "fmt_interval", "fmt_number", "fmt_p", "fmt_pct", "table"]

MINUS = "\u2212"
_CELL_STYLE = "vertical-align: top; text-align: left;"
_LONG_CELL_STYLE = _CELL_STYLE + " white-space: normal; min-width: 12em; max-width: 32em; overflow-wrap: anywhere;"
"""Inline style of a body cell with long text (catalog names, notes, URLs): it wraps instead of widening the page
(short cells keep their words whole)."""
LONG_CELL = 40
_TD = re.compile(r"<td>(.*?)</td>", re.DOTALL)


@dataclass(frozen=True)
class DisplayTable:
    """A DataFrame shown in full: ``_repr_html_`` escapes every cell (text from data files is never markup).

    ``caption`` titles the table (and says SIMULATED when the data are); ``notes`` is a line of units and
    definitions shown under it.  Long text wraps (no cell is truncated).
    """

    frame: pd.DataFrame
    caption: str = ""
    notes: str = ""
    index: bool = True

    def _repr_html_(self) -> str:
        frame = self.frame.rename_axis(index=None, columns=None)  # an axis name would be a row of its own
        body = frame.to_html(escape=True, border=0, index=self.index, na_rep="")
        body = _TD.sub(lambda m: f'<td style="{_LONG_CELL_STYLE if len(m.group(1)) > LONG_CELL else _CELL_STYLE}">'
                                 f"{m.group(1)}</td>", body).replace("<th>", '<th style="text-align: left;">')
        if self.caption:
            body = body.replace(">\n", f">\n<caption style=\"caption-side: top; text-align: left; font-weight: "
                                       f"bold;\">{html.escape(self.caption)}</caption>\n", 1)
        if self.notes:
            body += f'\n<p style="font-size: 0.85em; color: #555;">{html.escape(self.notes)}</p>'
        return body

    def __repr__(self) -> str:
        text = self.frame.to_string(index=self.index, na_rep="")
        return "\n".join(part for part in (self.caption, text, self.notes) if part)


# --- numbers --------------------------------------------------------------------------------------------------


def _finite(x: object) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _signed(text: str) -> str:
    return text.replace("-", MINUS)


def digits_for(low: float, high: float, scale: float = 100.0) -> int:
    """Decimals an interval supports: none when it is 10 units wide or more (after ``scale``), up to 2."""
    if not (_finite(low) and _finite(high)):
        return 0
    width = abs(float(high) - float(low)) * scale
    if width <= 0:
        return 2
    return int(min(2, max(0, 1 - math.floor(math.log10(width)))))


def fmt_pct(x: object, digits: int = 0, *, sign: bool = True) -> str:
    """A fraction as a percentage: ``-0.667`` -> ``−67%`` (``+`` on rises when ``sign``); ``—`` when missing."""
    if not _finite(x):
        return "—"
    value = 100 * float(x)
    text = f"{value:+.{digits}f}%" if sign else f"{value:.{digits}f}%"
    if float(text.rstrip("%")) == 0:
        text = f"{0:.{digits}f}%"
    return _signed(text)


def fmt_number(x: object, digits: int = 1) -> str:
    """A plain number with ``digits`` decimals and thousands separators; ``—`` when missing, ``∞`` if infinite."""
    try:
        value = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "—"
    if math.isnan(value):
        return "—"
    if math.isinf(value):
        return "∞" if value > 0 else f"{MINUS}∞"
    return _signed(f"{value:,.{digits}f}")


def fmt_count(x: object) -> str:
    """A count, rounded to a whole number with thousands separators: ``22464.969`` -> ``22,465``."""
    return fmt_number(x, 0)


def fmt_p(p: object) -> str:
    """A p-value to what matters: ``< 0.001``, else three decimals."""
    if not _finite(p):
        return "—"
    return "< 0.001" if float(p) < 0.001 else f"{float(p):.3f}"


def fmt_date(d: object, *, long: bool = False) -> str:
    """A date without its time: ``2008-11-11`` (``long``: ``11 Nov 2008``); ``—`` when missing."""
    if d is None or (isinstance(d, float) and math.isnan(d)):
        return "—"
    ts = pd.Timestamp(d)
    if pd.isna(ts):
        return "—"
    return f"{ts.day} {ts.strftime('%b %Y')}" if long else ts.date().isoformat()


def fmt_interval(est: object, low: object, high: object, kind: str = "pct", digits: int | None = None) -> str:
    """An estimate with its interval: ``−67% [−74%, −58%]`` (``kind`` ``"pct"``), ``13 [8.8, 19]`` (``"num"``).

    ``digits`` defaults to what the interval's width supports (:func:`digits_for`); ``"pp"`` gives percentage
    points, ``"ratio"`` a ratio.  An infinite bound is shown as ``∞``.
    """
    if not (_finite(est) or _inf(est)):
        return "—"
    if kind == "pct":
        digits = digits_for(low, high) if digits is None else digits
        fmt = lambda v: fmt_pct(v, digits)  # noqa: E731
    elif kind in ("num", "pp", "ratio"):
        digits = digits_for(low, high, 1.0) if digits is None else digits
        signed = kind == "pp"  # a change in points: "+2.5", as percentages are

        def fmt(v: object) -> str:
            text = fmt_number(v, digits)
            return f"+{text}" if signed and _finite(v) and float(v) > 0 and text.strip("0.") else text
    else:
        raise ModelSpecError(f"fmt_interval: kind={kind!r} must be 'pct', 'num', 'pp' or 'ratio'")
    return f"{fmt(est)} [{fmt(low)}, {fmt(high)}]" + (" pp" if kind == "pp" else "")


def _inf(v: object) -> bool:
    try:
        return math.isinf(float(v))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


# --- tables ---------------------------------------------------------------------------------------------------

_KINDS = re.compile(r"^(text|pct|pp|num|ratio|count|p|date|yesno)(\d)?$")


def _format_column(frame: pd.DataFrame, kind: str, sources: Sequence[str]) -> list[str]:
    match = _KINDS.match(kind)
    if not match:
        raise ModelSpecError(f"table: column kind {kind!r} must be text, pct, pp, num, ratio, count, p, date or "
                             "yesno (pct, pp, num and ratio may end in a digit: the decimals)")
    name, digits = match.group(1), (int(match.group(2)) if match.group(2) else None)
    missing = [c for c in sources if c not in frame.columns]
    if missing:
        raise ModelSpecError(f"table: columns {missing} are not in the frame ({list(frame.columns)})")
    cols = [frame[c].tolist() for c in sources]
    if len(sources) == 3:
        kind_ = "num" if name in ("num", "count") else name
        return [fmt_interval(e, lo, hi, kind_, digits) for e, lo, hi in zip(*cols, strict=True)]
    if len(sources) != 1:
        raise ModelSpecError(f"table: a column takes one source column or three (estimate, low, high), not {sources}")
    values = cols[0]
    one = {
        "text": lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v),
        "pct": lambda v: fmt_pct(v, digits or 0, sign=False),  # a share; changes come with their intervals
        "pp": lambda v: fmt_number(v, 1 if digits is None else digits) + " pp" if _finite(v) else "—",
        "num": lambda v: fmt_number(v, 1 if digits is None else digits),
        "ratio": lambda v: fmt_number(v, 2 if digits is None else digits),
        "count": fmt_count,
        "p": fmt_p,
        "date": fmt_date,
        "yesno": lambda v: "yes" if bool(v) else "no",
    }[name]
    return [one(v) for v in values]


def table(frame: pd.DataFrame, caption: str, columns: Mapping[str, str | tuple[str, ...]] | None = None, *,
          notes: str = "", simulated: bool | None = None, index: bool = False) -> DisplayTable:
    """A table for people from ``frame``: formatted columns, a caption, units.

    ``columns`` maps each shown header (put the unit in it) to a spec: ``(kind, source)`` or ``(kind, estimate,
    low, high)`` (one column ``−67% [−74%, −58%]``, signed); a plain string is the source column shown as text.
    Kinds: ``text``, ``pct`` (a share as %, unsigned), ``pp``, ``num``, ``ratio``, ``count``, ``p``, ``date``,
    ``yesno``; ``pct``/``pp``/``num``/``ratio`` may end in the decimals (``"num2"``), else intervals get what
    their width supports.  ``columns=None`` shows every column as it is.
    ``simulated`` (default: the frame's column axis is named SIMULATED) prefixes the caption with SIMULATED;
    the column-axis name is never shown.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ModelSpecError(f"table: frame must be a pandas DataFrame, got {type(frame).__name__}")
    sim = is_simulated(frame) if simulated is None else bool(simulated)
    if columns is None:
        shown = frame.copy()
        shown.columns = list(shown.columns)
    else:
        out = {}
        for header, spec in columns.items():
            spec = ("text", spec) if isinstance(spec, str) else tuple(spec)
            out[header] = _format_column(frame, spec[0], spec[1:])
        shown = pd.DataFrame(out, index=frame.index)
    if not index:
        shown = shown.reset_index(drop=True)
    shown.columns.name = None
    shown.index.name = None if not index else shown.index.name
    if sim and not caption.startswith(SIMULATED):
        caption = f"{SIMULATED}: {caption}"
    return DisplayTable(shown, caption=caption, notes=notes, index=index)


def escape_markdown(text: str) -> str:
    """``text`` with Markdown's special characters escaped (text from data files shown as Markdown)."""
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", str(text))


def finite_or_nan(x: object) -> float:
    """``float(x)`` when it is a number, else NaN (for values read from tables that may hold None)."""
    try:
        return float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


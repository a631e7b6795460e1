"""What a count found: messages per UTC hour, how each was dated, what was skipped, lags and trap addresses.

A :class:`CountReport` is filled one message at a time (:meth:`CountReport.add`, :meth:`CountReport.skip`,
:meth:`CountReport.problem`) by the readers in :mod:`spamits.ingest.trap` and :mod:`spamits.ingest.mailcount`;
reports of several archives add up with :meth:`CountReport.merge`.  Memory is bounded by the number of *hours*
(not messages): the name-minus-header lag is kept as a histogram of whole minutes, and trap addresses as a
capped counter per month.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from spamits.errors import DataValidationError
from spamits.ingest import dating
from spamits.ingest.dating import PROBLEMS, Dated

__all__ = ["FREQS", "FROM_LINE", "LAG_EDGES_HOURS", "PROBLEMS", "SKIP_REASONS", "CountReport", "month_hours",
           "month_of"]

FREQS = {"day": 24, "hour": 1}
"""Output frequencies and their length in hours."""
LAG_EDGES_HOURS = (-720, -24, -1, 0, 1, 2, 3, 6, 12, 24, 48, 96, 168, 336, 720, 8760)
"""Bin edges (hours) of the name-minus-header lag histogram; lags beyond either end go to the end bins."""
TOP_RECIPIENTS = 5
"""Trap addresses listed per month in the manifest."""
_RECIPIENT_CAP = 5_000
"""Distinct addresses kept per month; beyond it the rarest are dropped (a trap has a handful)."""
_MAX_EXAMPLES = 5
_HOUR = 3600
_FIRST_LINE = re.compile(rb"[!-9;-~]{1,200}[ \t]*:")
FROM_LINE = re.compile(rb"From \S+ +.*\d\d:\d\d.*\d{4}")
"""An mbox ``From `` separator line with the usual sender and date."""

SKIP_REASONS = {
    "empty": "empty file or entry",
    "junk": "not a mail message (binary junk, or no 'Name: value' header line at the top)",
    "no_date": "no usable date (top Received:, Date: and the file name's epoch all missing or implausible)",
    "symlink": "symbolic link (never followed)",
    "not_regular": "not a regular file (FIFO, device or socket)",
    "unreadable": "could not be read (permission or I/O error)",
    "mbox_leading_junk": "text before the first 'From ' line of an mbox",
    "unsafe_name": "archive entry with an unsafe name (absolute path, '..', drive letter, backslash or NUL)",
    "absurd_size": "archive entry declaring an absurd size (its data is not read)",
    "duplicate": "the same file name seen before in this count (counted once)",
    "symlink_entry": "archive entry that is a symbolic link",
    "outside_months": "dated outside the months counted",
}
"""Keys of messages or entries not counted, with what they mean."""


def month_of(seconds: float) -> str:
    """``YYYY-MM`` of a UTC time in seconds since 1970."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m")


def month_hours(month: str) -> range:
    """The hour numbers (hours since 1970, UTC) of one ``YYYY-MM`` month."""
    year, mon = int(month[:4]), int(month[5:7])
    start = dt.datetime(year, mon, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=dt.UTC)
    return range(int(start.timestamp()) // _HOUR, int(end.timestamp()) // _HOUR)


@dataclass
class CountReport:
    """Messages per UTC hour of one source (an archive, a folder) and everything not counted, with reasons.

    ``hours``: {hour number since 1970-01-01 00:00 UTC: messages}.  ``dated_by``: messages per dating rule
    (``received``, ``date``, ``name``).  ``skipped`` / ``problems``: {key: n} (keys of :data:`SKIP_REASONS` /
    :data:`PROBLEMS`) with up to five ``examples`` each.  ``lag_minutes``: histogram of the file-name epoch minus
    the top-``Received:`` time, in whole minutes.  ``recipients``: {``YYYY-MM``: Counter of trap addresses}.
    ``months``: the calendar months counted (``YYYY-MM``; set by the reader).  ``extra``: reader-specific facts.
    """

    source: str
    format: str
    hours: Counter = field(default_factory=Counter)
    dated_by: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    problems: Counter = field(default_factory=Counter)
    lag_minutes: Counter = field(default_factory=Counter)
    recipients: dict[str, Counter] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    months: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    entries: int = 0

    # ------------------------------------------------------------------------------------------- filling

    @property
    def messages(self) -> int:
        """Messages counted (skipped ones excluded)."""
        return sum(self.hours.values())

    @property
    def methods(self) -> Counter:
        """Alias of :attr:`dated_by` (messages per dating rule)."""
        return self.dated_by

    @property
    def days(self) -> Counter:
        """Messages per UTC day number since 1970-01-01."""
        out: Counter = Counter()
        for hour, n in self.hours.items():
            out[hour // 24] += n
        return out

    def add(self, dated: Dated, where: str, address: str | None = None) -> bool:
        """Count one message dated by ``dated`` (skipped as ``no_date`` when it has no time); True if counted."""
        for key in dated.problems:
            self.problem(key, where)
        if dated.when is None:
            self.skip("no_date", where)
            return False
        self.hours[int(dated.when // _HOUR)] += 1
        self.dated_by[dated.rule] += 1
        if dated.lag is not None:
            self.lag_minutes[round(dated.lag / 60)] += 1
        if address:
            self._recipient(month_of(dated.when), address)
        return True

    def add_message(self, head: bytes, where: str, *, complete: bool, now: float, name: str | None = None) -> bool:
        """Date and count one message from its first bytes ``head``; True if counted.

        ``complete``: ``head`` is the whole message.  A leading mbox ``From `` line is dropped (tallied when
        malformed); an empty message, or one whose first line is not a ``Name: value`` header or that holds NUL
        bytes, is skipped (``empty``/``junk``); the rest is dated by :func:`spamits.ingest.dating.date_message`
        (``name``: the file or entry name, for its epoch) and counted with its trap address.
        """
        if not head.strip():
            self.skip("empty", where)
            return False
        if head.startswith(b"From "):
            line, _, head = head.partition(b"\n")
            if FROM_LINE.match(line) is None:
                self.problem("from_line_malformed", where)
        header, ended = dating.split_header(head)
        if not ended and not complete:
            self.problem("header_truncated", where)
        if b"\x00" in header or _FIRST_LINE.match(header.lstrip(b"\r\n")) is None:
            self.skip("junk", where)
            return False
        if b"\r" in header:
            header = header.replace(b"\r\n", b"\n")
        return self.add(dating.date_message(header, name, now=now), where, dating.recipient(header))

    def _recipient(self, month: str, address: str) -> None:
        counter = self.recipients.setdefault(month, Counter())
        counter[address] += 1
        if len(counter) > _RECIPIENT_CAP:
            self.recipients[month] = Counter(dict(counter.most_common(_RECIPIENT_CAP // 2)))
            self.extra["recipients_capped"] = True

    def skip(self, reason: str, where: str, n: int = 1) -> None:
        """Record ``n`` messages or entries not counted, for ``reason`` (a key of :data:`SKIP_REASONS`)."""
        self.skipped[reason] += n
        self._example(reason, where)

    def problem(self, key: str, where: str) -> None:
        """Record one malformed header (a key of :data:`PROBLEMS`); the message may still be counted."""
        self.problems[key] += 1
        self._example(key, where)

    def _example(self, key: str, where: str) -> None:
        shown = self.examples.setdefault(key, [])
        if len(shown) < _MAX_EXAMPLES:
            shown.append(where)

    def merge(self, other: CountReport) -> None:
        """Add ``other``'s counts, tallies, lags and addresses to this report."""
        for mine, theirs in ((self.hours, other.hours), (self.dated_by, other.dated_by),
                             (self.skipped, other.skipped), (self.problems, other.problems),
                             (self.lag_minutes, other.lag_minutes)):
            mine.update(theirs)
        for month, counter in other.recipients.items():
            self.recipients.setdefault(month, Counter()).update(counter)
        for key, shown in other.examples.items():
            for where in shown:
                self._example(key, where)
        self.entries += other.entries

    def restrict(self, months: list[str]) -> None:
        """Keep only the hours of ``months`` (set as :attr:`months`); the rest are skipped as ``outside_months``."""
        keep: set[int] = set()
        for month in months:
            keep.update(month_hours(month))
        for hour in sorted(h for h in self.hours if h not in keep):
            n = self.hours.pop(hour)
            self.skip("outside_months", f"{n} on {_iso_hour(hour)}", n)
        self.months = sorted(set(months))

    # ------------------------------------------------------------------------------------------- reading

    def frame(self, freq: str = "day") -> pd.DataFrame:
        """``date,count`` rows, one per UTC day (``YYYY-MM-DD``) or hour (``YYYY-MM-DDTHH:00:00Z``).

        With :attr:`months` set every day or hour of those months is a row (zero where nothing arrived) and
        nothing else; without, the rows run from the first to the last counted period.
        """
        if freq not in FREQS:
            raise DataValidationError(f"--freq {freq!r}: must be one of {', '.join(FREQS)}.")
        width = FREQS[freq]
        if self.months:
            periods = sorted({h // width for m in self.months for h in month_hours(m)})
        elif self.hours:
            periods = list(range(min(self.hours) // width, max(self.hours) // width + 1))
        else:
            periods = []
        counts: Counter = Counter()
        for hour, n in self.hours.items():
            counts[hour // width] += n
        stamps = [_label(p * width, freq) for p in periods]
        return pd.DataFrame({"date": stamps, "count": [int(counts.get(p, 0)) for p in periods]})

    def lag_summary(self) -> dict:
        """Name-minus-header lag: ``n``, ``quantiles`` (hours: min, p10, p50, p90, max), histogram ``edges`` and
        ``counts`` (see :data:`LAG_EDGES_HOURS`)."""
        n = sum(self.lag_minutes.values())
        edges = list(LAG_EDGES_HOURS)
        counts = [0] * (len(edges) - 1)
        for minute, k in self.lag_minutes.items():
            counts[bisect.bisect_right(edges, minute / 60, 1, len(edges) - 1) - 1] += k
        keys = ("min", "p10", "p50", "p90", "max")
        if n == 0:
            return {"n": 0, "quantiles": dict.fromkeys(keys), "edges": edges, "counts": counts}
        values = sorted(self.lag_minutes.items())
        quantiles = {key: round(_quantile(values, n, q) / 60, 2) for key, q in zip(keys, (0, .1, .5, .9, 1),
                                                                                    strict=True)}
        return {"n": n, "quantiles": quantiles, "edges": edges, "counts": counts}

    def top_recipients(self, k: int = TOP_RECIPIENTS) -> dict[str, list[list]]:
        """{``YYYY-MM``: [[address, messages], ...]} the ``k`` commonest trap addresses per month."""
        return {month: [[a, n] for a, n in sorted(c.items(), key=lambda item: (-item[1], item[0]))[:k]]
                for month, c in sorted(self.recipients.items())}

    def summary(self) -> list[str]:
        """Plain-language lines: what was counted, how it was dated, what was skipped and why, malformed headers."""
        lines = [f"{self.source} ({self.format}): {self.messages} messages counted on {len(self.days)} UTC days"]
        if self.dated_by:
            lines.append("dated by: " + ", ".join(f"{k} {v}" for k, v in sorted(self.dated_by.items())))
        for key, n in sorted(self.skipped.items()):
            lines.append(f"skipped {n}: {SKIP_REASONS.get(key, key)}; e.g. {', '.join(self.examples.get(key, []))}")
        for key, n in sorted(self.problems.items()):
            lines.append(f"malformed {n}: {PROBLEMS.get(key, key)}; e.g. {', '.join(self.examples.get(key, []))}")
        return lines

    def to_dict(self) -> dict:
        """JSON-ready summary (for the manifest written beside the output)."""
        return {"messages": self.messages, "entries": self.entries, "dated_by": dict(sorted(self.dated_by.items())),
                "skipped": dict(sorted(self.skipped.items())), "problems": dict(sorted(self.problems.items())),
                "lag_hours": self.lag_summary(), "recipients": self.top_recipients(),
                "examples": dict(sorted(self.examples.items())), **self.extra}


def _quantile(values: list[tuple[int, int]], n: int, q: float) -> float:
    """The ``q`` quantile (lower) of a histogram given as sorted (value, count) pairs with ``n`` in all."""
    rank = min(int(q * (n - 1)), n - 1)
    seen = 0
    for value, count in values:
        seen += count
        if seen > rank:
            return float(value)
    return float(values[-1][0])


def _iso_hour(hour: int) -> str:
    return dt.datetime.fromtimestamp(hour * _HOUR, dt.UTC).strftime("%Y-%m-%d %H:00 UTC")


def _label(hour: int, freq: str) -> str:
    stamp = dt.datetime.fromtimestamp(hour * _HOUR, dt.UTC)
    return stamp.strftime("%Y-%m-%d") if freq == "day" else stamp.strftime("%Y-%m-%dT%H:00:00Z")

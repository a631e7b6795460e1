"""Dating real archive messages: the 102 untroubled.org fixtures, checked against Python's own email parser.

The expected time of each fixture message is computed independently of spamits (``email.parser`` reads the
headers; the first ``Received:`` header's date after ``;`` is parsed by ``email.utils``), so these tests fail
if the header scan, the fallback order or the date parsing goes wrong on real mail.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from spamits.ingest import dating
from spamits.ingest.tally import CountReport
from untroubled_site import NOT_BY_RECEIVED
from untroubled_site import expected_arrival as _expected

FIXTURES = Path(__file__).parent / "fixtures" / "untroubled"
MESSAGES = sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.parts[-3].isdigit())
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp()
def _rel(path: Path) -> str:
    return path.relative_to(FIXTURES).as_posix()


def test_there_are_102_real_messages():
    assert len(MESSAGES) == 102


@pytest.mark.parametrize("path", MESSAGES, ids=_rel)
def test_each_fixture_is_dated_by_its_top_received_line(path):
    report = CountReport(source="fixtures", format="untroubled")
    head = path.read_bytes()[:65536]
    assert report.add_message(head, _rel(path), complete=False, now=NOW, name=_rel(path))
    when, rule = _expected(path)
    assert rule == NOT_BY_RECEIVED.get(_rel(path), "received")
    assert report.dated_by == {rule: 1}
    assert report.hours == {int(when // 3600): 1}


def test_lag_of_the_file_name_behind_the_trap_line_on_real_messages():
    report = CountReport(source="fixtures", format="untroubled")
    for path in MESSAGES:
        report.add_message(path.read_bytes()[:65536], _rel(path), complete=False, now=NOW, name=_rel(path))
    lag = report.lag_summary()
    assert lag["n"] == 101
    assert 10 < lag["quantiles"]["p50"] < 12 and 328 < lag["quantiles"]["max"] < 330
    named_days = sum(1 for p in MESSAGES if int(dating.name_epoch(p.name) // 86400) != int(_expected(p)[0] // 86400))
    assert named_days > 30  # dating by the name would have moved about a third of them to another UTC day


def test_trap_addresses_of_real_messages():
    header = (FIXTURES / "2003/06/1055870201.26734_1.lorien").read_bytes()
    assert dating.recipient(header) == "bruce-bait@localhost"
    assert dating.recipient(b"Subject: x\n") is None


@pytest.mark.parametrize(("text", "expected"), [
    (b"19 Nov 2007 08:01:43 -0000", dt.datetime(2007, 11, 19, 8, 1, 43)),
    (b"Thu, 12 Mar 1998 17:23:10 -0500 (EST)", dt.datetime(1998, 3, 12, 22, 23, 10)),
    (b"Sat, 1 Mar 08 10:00:00 GMT", dt.datetime(2008, 3, 1, 10)),
    (b"Mon, 3 Aug 2009 07:00:00", dt.datetime(2009, 8, 3, 7)),
])
def test_parse_date_uses_rfc_5322_rules(text, expected):
    assert dating.parse_date(text) == expected.replace(tzinfo=dt.UTC).timestamp()


def test_a_date_header_far_from_the_filing_time_falls_back_to_the_name():
    header = b"Subject: x\nDate: Sat, 1 Mar 2003 10:00:00 +0000\n"
    dated = dating.date_message(header, "2008/11/1226400000.1_1.txt", now=NOW)
    assert (dated.when, dated.rule) == (1226400000.0, "name")
    assert dated.problems == ("received_missing", "date_far_from_name")

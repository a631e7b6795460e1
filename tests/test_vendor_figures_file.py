"""Checks of the shipped data/vendor_figures.csv: transcribed vendor figures, cited, without quotes."""

from __future__ import annotations

import csv

import pytest

from spamits import paths

COLUMNS = ["vendor", "metric", "period", "value", "unit", "source_url", "note", "conflict"]


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with open(paths.data_file("vendor_figures.csv"), newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == COLUMNS  # in particular no quote column
        return list(reader)


def test_no_quote_column_and_98_rows(rows):
    assert "quote" not in rows[0]
    assert len(rows) == 98


def test_every_row_has_http_source_and_a_number(rows):
    for number, row in enumerate(rows, start=1):
        assert row["source_url"].startswith(("http://", "https://")), f"row {number}: {row['source_url']!r}"
        float(row["value"])
        assert row["vendor"] and row["metric"] and row["period"] and row["unit"], f"row {number} has blanks"


def test_conflict_rows_are_flagged_two_months_by_two(rows):
    assert {row["conflict"] for row in rows} == {"true", "false"}
    flagged = [row for row in rows if row["conflict"] == "true"]
    assert sorted(row["period"] for row in flagged) == ["2008-11", "2008-11", "2011-01", "2011-01"]
    for period in ("2008-11", "2011-01"):
        pair = [row for row in flagged if row["period"] == period]
        assert len({(row["vendor"], row["metric"]) for row in pair}) == 1  # same series, two values
        assert len({row["value"] for row in pair}) == 2
        assert all("CONFLICT" in row["note"] for row in pair)


def test_one_row_per_series_and_period_outside_conflicts(rows):
    keys = [(row["vendor"], row["metric"], row["period"]) for row in rows if row["conflict"] == "false"]
    assert len(keys) == len(set(keys))


def test_preferred_row_comes_first_in_each_conflict(rows):
    # so that a keep-first policy keeps the value the research judged more reliable
    firsts = {}
    for row in rows:
        if row["conflict"] == "true":
            firsts.setdefault(row["period"], row["value"])
    assert firsts == {"2008-11": "68.0", "2011-01": "78.6"}

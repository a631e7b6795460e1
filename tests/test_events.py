"""Tests of spamits.events: the shipped catalog and each validation failure."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pandas as pd
import pytest

from spamits import events
from spamits.errors import DataValidationError, UnknownEventError

IDS = [
    "intercage", "mccolo", "srizbi", "3fn", "realhost", "megad", "lethic", "waledac", "pushdo-2010",
    "spamit", "bredolab", "rustock", "kelihos-2011", "kelihos-b", "grum", "necurs-pause-2016-06",
    "necurs-pause-2016-12", "kelihos-2017", "necurs-2020", "emotet", "rustock-holiday",
]
HEADER = "id,name,date,date_lo,date_hi,mechanism,botnets,reported_effect,sources"
GOOD_1 = "mccolo,McColo cut off,2008-11-11,2008-11-10,2008-11-12,DEPEER,Srizbi;Rustock,about -65%,https://a.example/1"
GOOD_2 = "srizbi,Srizbi cut off,2008-11-26,2008-11-25,2008-11-27,C2+DEPEER,Srizbi,none found,https://a.example/2"


def write_csv(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "events.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def assert_names(message: str, *parts: str) -> None:
    for part in parts:
        assert part in message, f"{part!r} missing from error message: {message}"


# --- the shipped catalog ---------------------------------------------------------------------------------


def test_shipped_catalog_loads_with_all_21_events():
    frame = events.load()
    assert frame["id"].tolist() == IDS
    assert list(frame.columns[: len(events.REQUIRED_COLUMNS)]) == list(events.REQUIRED_COLUMNS)
    assert frame["kind"].value_counts().to_dict() == {"takedown": 18, "pause": 3}
    assert set(frame.loc[frame["kind"] == "pause", "id"]) == {
        "necurs-pause-2016-06", "necurs-pause-2016-12", "rustock-holiday"}
    assert (frame.loc[frame["kind"] == "pause", "mechanism"] == "NAT").all()


def test_shipped_dates_are_timestamps_and_ordered():
    frame = events.load()
    for column in ("date", "date_lo", "date_hi"):
        assert pd.api.types.is_datetime64_any_dtype(frame[column])
    assert (frame["date_lo"] <= frame["date"]).all() and (frame["date"] <= frame["date_hi"]).all()


def test_mccolo_date():
    mccolo = events.get("mccolo")
    assert mccolo.date == pd.Timestamp("2008-11-11")
    assert mccolo.date_lo <= mccolo.date <= mccolo.date_hi
    assert mccolo.mechanism == "DEPEER" and mccolo.kind == "takedown"
    assert "Srizbi" in mccolo.botnets


def test_every_row_has_http_sources_and_known_mechanisms():
    for event_id in IDS:
        event = events.get(event_id)
        assert event.sources and all(url.startswith(("http://", "https://")) for url in event.sources)
        assert all(code in events.MECHANISMS for code in event.mechanisms)
        assert event.reported_effect


def test_approximate_dates_are_marked():
    for event_id in ("necurs-pause-2016-12", "rustock-holiday"):
        assert "[approx]" in events.get(event_id).reported_effect


def test_event_is_frozen_and_get_is_case_insensitive():
    event = events.get(" McColo ")
    assert event.id == "mccolo"
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.id = "other"  # type: ignore[misc]


def test_load_returns_a_copy():
    first = events.load()
    first.loc[0, "name"] = "changed"
    assert events.load().loc[0, "name"] != "changed"


def test_get_unknown_id_suggests_close_matches():
    with pytest.raises(UnknownEventError) as info:
        events.get("mcolo")
    message = str(info.value).lower()
    assert_names(message, "'mcolo'", "did you mean 'mccolo'", "valid ids", "intercage")
    assert isinstance(info.value, KeyError)


def test_get_reads_an_explicit_path(tmp_path):
    path = write_csv(tmp_path, HEADER, GOOD_1, GOOD_2)
    event = events.get("srizbi", path=path)
    assert event.mechanisms == ("C2", "DEPEER")
    assert event.kind == "takedown"  # derived from the mechanism when the file has no kind column


# --- validation failures, one per problem --------------------------------------------------------------


def load_error(path: Path) -> str:
    with pytest.raises(DataValidationError) as info:
        events.load(path)
    return str(info.value)


def test_small_valid_file_loads(tmp_path):
    frame = events.load(write_csv(tmp_path, HEADER, GOOD_1, GOOD_2))
    assert frame["id"].tolist() == ["mccolo", "srizbi"]
    assert frame.loc[1, "date"] == pd.Timestamp("2008-11-26")


def test_duplicate_id(tmp_path):
    message = load_error(write_csv(tmp_path, HEADER, GOOD_1, GOOD_2, GOOD_1))
    assert_names(message, "events.csv", "row 3", "'mccolo'", "duplicate id", "row 1")


def test_bad_date(tmp_path):
    bad = GOOD_2.replace("2008-11-26,", "2008-13-26,", 1)
    message = load_error(write_csv(tmp_path, HEADER, GOOD_1, bad))
    assert_names(message, "events.csv", "row 2", "'srizbi'", "date '2008-13-26'", "YYYY-MM-DD")


def test_impossible_day_is_a_bad_date(tmp_path):
    bad = GOOD_1.replace("2008-11-12", "2008-11-31")
    message = load_error(write_csv(tmp_path, HEADER, bad))
    assert_names(message, "events.csv", "row 1", "'mccolo'", "date_hi '2008-11-31'")


def test_date_lo_after_date(tmp_path):
    bad = GOOD_2.replace("2008-11-25", "2008-11-27")
    message = load_error(write_csv(tmp_path, HEADER, GOOD_1, bad))
    expected = r"events\.csv row 2 \(id 'srizbi'\): date_lo 2008-11-27 is after date 2008-11-26"
    assert re.search(expected, message)


def test_date_after_date_hi(tmp_path):
    bad = GOOD_1.replace("2008-11-12", "2008-11-09")
    message = load_error(write_csv(tmp_path, HEADER, bad))
    assert_names(message, "events.csv", "row 1", "'mccolo'", "date 2008-11-11 is after date_hi 2008-11-09")


def test_unknown_mechanism(tmp_path):
    bad = GOOD_2.replace("C2+DEPEER", "C2+HACK")
    message = load_error(write_csv(tmp_path, HEADER, GOOD_1, bad))
    assert_names(message, "events.csv", "row 2", "'srizbi'", "'HACK'", "DEPEER", "CIVIL")


def test_missing_column(tmp_path):
    header = HEADER.replace(",mechanism", "")
    rows = [line.replace(",DEPEER", "").replace(",C2+DEPEER", "") for line in (GOOD_1, GOOD_2)]
    message = load_error(write_csv(tmp_path, header, *rows))
    assert_names(message, "events.csv", "header", "mechanism")


def test_no_source(tmp_path):
    bad = GOOD_2.replace(",https://a.example/2", ",")
    message = load_error(write_csv(tmp_path, HEADER, GOOD_1, bad))
    assert_names(message, "events.csv", "row 2", "'srizbi'", "no source")


def test_source_that_is_not_a_url(tmp_path):
    bad = GOOD_2.replace("https://a.example/2", "https://a.example/2 see-note")
    message = load_error(write_csv(tmp_path, HEADER, GOOD_1, bad))
    assert_names(message, "events.csv", "row 2", "'see-note'")


def test_empty_id_and_name(tmp_path):
    message = load_error(write_csv(tmp_path, HEADER, GOOD_1, "," + GOOD_2.split(",", 1)[1]))
    assert_names(message, "events.csv", "row 2", "id ''", "id is empty")
    message = load_error(write_csv(tmp_path, HEADER, GOOD_1.replace("McColo cut off", "")))
    assert_names(message, "events.csv", "row 1", "'mccolo'", "name is empty")


def test_bad_kind(tmp_path):
    message = load_error(write_csv(tmp_path, HEADER + ",kind", GOOD_1 + ",outage"))
    assert_names(message, "events.csv", "row 1", "'mccolo'", "kind 'outage'")


def test_header_only_file(tmp_path):
    message = load_error(write_csv(tmp_path, HEADER))
    assert_names(message, "events.csv", "no events")


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match="events.csv"):
        events.load(tmp_path / "events.csv")

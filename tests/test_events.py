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
RECENT = [  # 2022-2026, in date order (catalog_ref R01...R36)
    "vpnlab-2022", "trickbot-retire-2022", "emotet-pause-2022-04", "zloader-2022", "emotet-pause-2022-07",
    "emotet-pause-2022-11", "emotet-stop-2023-03", "bumblebee-pause-2023", "qakbot-pause-2023", "lolek-2023",
    "qakbot-duckhunt-2023", "storm1152-2023", "holiday-lull", "grandoreiro-2024", "warzone-2024",
    "phorpiex-lockbitblack-2024", "911s5-2024", "endgame-2024", "morpheus-2024", "magnus-2024", "onnx-2024",
    "zservers-2025", "smokeloader-customers-2025", "moonlander-2025", "lumma-2025", "endgame-2025",
    "stark-sanctions-2025", "danabot-2025", "aeza-sanctions-2025", "raccoono365-2025", "endgame-2025-11",
    "medialand-2025", "tycoon2fa-2026", "socksescort-2026", "stark-successors-2026", "asocks-2026",
]
PAUSES = {"necurs-pause-2016-06", "necurs-pause-2016-12", "rustock-holiday", "trickbot-retire-2022",
          "emotet-pause-2022-04", "emotet-pause-2022-07", "emotet-pause-2022-11", "emotet-stop-2023-03",
          "bumblebee-pause-2023", "qakbot-pause-2023", "holiday-lull"}
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


def test_shipped_catalog_loads_with_all_57_events():
    frame = events.load()
    assert frame["id"].tolist() == IDS + RECENT
    assert list(frame.columns[: len(events.REQUIRED_COLUMNS)]) == list(events.REQUIRED_COLUMNS)
    assert frame["kind"].value_counts().to_dict() == {"takedown": 45, "pause": 11, "surge": 1}
    assert set(frame.loc[frame["kind"] == "pause", "id"]) == PAUSES
    assert (frame.loc[frame["kind"] == "pause", "mechanism"] == "NAT").all()
    assert frame.loc[frame["kind"] == "surge", "mechanism"].tolist() == ["CAMPAIGN"]
    assert frame["catalog_ref"].tolist()[len(IDS):] == [f"R{i:02d}" for i in range(1, 37)]
    recent = frame[frame["id"].isin(RECENT)]
    assert recent["date"].is_monotonic_increasing and recent["date"].min() >= pd.Timestamp("2022-01-01")
    assert (recent["mechanism"].str.contains("SANCTION")).sum() == 4


def test_new_columns_end_date_and_uncertainty():
    frame = events.load().set_index("id")
    assert pd.api.types.is_datetime64_any_dtype(frame["end_date"])
    assert frame.loc[IDS, "end_date"].isna().all()  # the 2008-2021 rows give no end in this column
    assert frame.loc["emotet-pause-2022-07", "end_date"] == pd.Timestamp("2022-11-02")
    assert frame.loc["emotet-pause-2022-11", "end_date"] == pd.Timestamp("2023-03-07")
    assert frame.loc["phorpiex-lockbitblack-2024", "end_date"] == pd.Timestamp("2024-05-01")
    assert frame.loc["emotet-pause-2022-07", "uncertainty"] == ""
    assert frame.loc["phorpiex-lockbitblack-2024", "uncertainty"] == "approx-end"
    assert frame.loc["aeza-sanctions-2025", "uncertainty"] == "uncertain-claim"
    codes = {c for value in frame["uncertainty"] for c in value.split("+") if c}
    assert codes == set(events.UNCERTAINTY)
    marked = frame[frame["uncertainty"].str.contains("approx-date")]
    assert (marked.index.isin(RECENT) | marked.index.isin(["necurs-pause-2016-12", "rustock-holiday"])).all()
    assert events.get("holiday-lull").uncertainties == ("approx-date", "approx-end", "uncertain-claim", "recurring")


def test_ends_are_events_of_their_own():
    ends = events.with_ends(events.load())
    extra = ends[ends["phase"] == "end"].set_index("id")
    assert sorted(extra.index) == ["emotet-pause-2022-07-end", "emotet-pause-2022-11-end", "holiday-lull-end",
                                   "phorpiex-lockbitblack-2024-end"]
    end = events.get("emotet-pause-2022-07-end")
    assert end.date == end.date_lo == end.date_hi == pd.Timestamp("2022-11-02")
    assert end.kind == "pause" and end.phase == "end" and events.get("emotet-pause-2022-07").phase == "start"
    with pytest.raises(UnknownEventError):
        events.get("mccolo-end")  # a takedown has no end event


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


NEW_HEADER = HEADER + ",kind,end_date,uncertainty"
SURGE = ("burst,Botnet mails a ransomware burst,2024-04-24,2024-04-24,2024-04-24,CAMPAIGN,Phorpiex,millions a day,"
         "https://a.example/3,surge,2024-05-01,approx-end")


def test_new_kind_row_loads(tmp_path):
    frame = events.load(write_csv(tmp_path, NEW_HEADER, GOOD_1 + ",takedown,,", SURGE))
    assert frame["kind"].tolist() == ["takedown", "surge"]
    assert frame.loc[1, "end_date"] == pd.Timestamp("2024-05-01") and pd.isna(frame.loc[0, "end_date"])
    assert events.get("burst-end", path=tmp_path / "events.csv").date == pd.Timestamp("2024-05-01")


@pytest.mark.parametrize(("row", "parts"), [
    (SURGE.replace(",surge,", ",spike,"), ["column kind", "kind 'spike'", "takedown, pause, surge"]),
    (SURGE.replace(",approx-end", ",approx-end+guess"), ["column uncertainty", "'guess'", "approx-date"]),
    (SURGE.replace(",2024-05-01,approx-end", ",,approx-end"), ["column uncertainty", "'approx-end' needs an end_date"]),
    (SURGE.replace(",2024-05-01,", ",2024-05-32,"), ["column end_date", "'2024-05-32'", "YYYY-MM-DD"]),
    (SURGE.replace(",2024-05-01,", ",2024-04-01,"), ["column end_date", "not after date_hi 2024-04-24"]),
    (SURGE.replace(",surge,", ",takedown,"), ["column end_date", "only a pause or surge has an end"]),
    (SURGE.replace(",CAMPAIGN,", ",EMBARGO,"), ["'EMBARGO'", "SANCTION", "CAMPAIGN"]),
])
def test_bad_new_kind_row_names_file_row_and_column(tmp_path, row, parts):
    message = load_error(write_csv(tmp_path, NEW_HEADER, GOOD_1 + ",takedown,,", row))
    assert_names(message, "events.csv", "row 2", "'burst'", *parts)


def test_an_id_may_not_be_the_end_event_of_another(tmp_path):
    clash = GOOD_2.replace("srizbi,", "burst-end,", 1) + ",takedown,,"
    message = load_error(write_csv(tmp_path, NEW_HEADER, SURGE, clash))
    assert_names(message, "events.csv", "row 2", "'burst-end'", "column id", "end event of 'burst'")


def test_header_only_file(tmp_path):
    message = load_error(write_csv(tmp_path, HEADER))
    assert_names(message, "events.csv", "no events")


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match="events.csv"):
        events.load(tmp_path / "events.csv")

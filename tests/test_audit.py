"""Tests of spamits.audit (counts and manifest of spamits data count), its figures, the real rows of the
cross-takedown table, and a papermill run of notebooks/trap_audit.ipynb."""

from __future__ import annotations

import calendar
import copy
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spamits import audit, audit_plots, events, results, robust
from spamits.errors import DataValidationError

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "trap_audit.ipynb"

MANIFEST = {
    "columns": ["date", "count"], "package": "spamits 0.1.0", "format": "untroubled", "method": "test counts",
    "licence": "test", "data_note": "REAL: counts of real spam-trap messages (test copy)",
    "dated_by": {"received": 90, "date": 6, "name": 4},
    "lag_hours": {"n": 90, "quantiles": {"min": -0.5, "p10": 0.2, "p50": 11.0, "p90": 40.0, "max": 300.0},
                  "edges": [-24, -1, 0, 1, 24, 720], "counts": [0, 3, 12, 45, 30]},
    "skipped": {"not_a_message": 2}, "skip_reasons": {"not_a_message": "entries that are not mail messages"},
    "recipients": {"2008-10": [["bait@old.example", 40], ["other@old.example", 5]],
                   "2008-11": [["bait@old.example", 30], ["new@trap.example", 30]],  # a tie: no change yet
                   "2008-12": [["new@trap.example", 25], ["bait@old.example", 5]]},
}


def month_periods(month: str, freq: str) -> pd.DatetimeIndex:
    year, mon = map(int, month.split("-"))
    start = pd.Timestamp(year, mon, 1)
    end = start + pd.Timedelta(days=calendar.monthrange(year, mon)[1]) - pd.Timedelta(hours=1 if freq == "h" else 24)
    return pd.date_range(start, end, freq=freq)


def write_counts(folder: Path, months: list[str], *, freq: str = "D", stem: str = "counts", value: int = 3,
                 manifest: dict | None = None) -> Path:
    """A CSV in the schema of spamits data count (every period of each month) and its manifest (sha256 right)."""
    folder.mkdir(parents=True, exist_ok=True)
    index = month_periods(months[0], freq).append([month_periods(m, freq) for m in months[1:]])
    fmt = "%Y-%m-%d" if freq == "D" else "%Y-%m-%dT%H:00:00Z"
    text = "date,count\n" + "".join(f"{t.strftime(fmt)},{value}\n" for t in index)
    path = folder / f"{stem}.csv"
    path.write_text(text, encoding="utf-8")
    meta = {**copy.deepcopy(MANIFEST if manifest is None else manifest), "file": path.name, "rows": len(index),
            "sha256": hashlib.sha256(text.encode()).hexdigest(), "freq": "day" if freq == "D" else "hour",
            "months": months, "messages": value * len(index)}
    path.with_name(f"{stem}.manifest.json").write_text(json.dumps(meta), encoding="utf-8")
    return path


# --- load_counts ----------------------------------------------------------------------------------------------


def test_load_daily_counts_with_an_uncounted_month(tmp_path):
    path = write_counts(tmp_path, ["2008-10", "2008-12"])
    y, manifest = audit.load_counts(path)
    assert y.index.freqstr == "D" and y.index.tz is None and y.name == "count"
    assert (y.index[0], y.index[-1]) == (pd.Timestamp("2008-10-01"), pd.Timestamp("2008-12-31"))
    assert y["2008-11"].isna().all() and (y["2008-10"] == 3).all()  # uncounted month left missing
    assert y.attrs["simulated"] is False and y.attrs["freq"] == "D" and y.attrs["unit"] == "messages per day"
    assert y.attrs["months"] == ["2008-10", "2008-12"] and y.attrs["gaps"] == [("2008-11", "2008-11")]
    assert y.attrs["sha256"] == manifest["sha256"] and manifest["dated_by"]["received"] == 90
    assert audit.daily_from(y).equals(y)


def test_load_hourly_counts_and_sum_to_days(tmp_path):
    path = write_counts(tmp_path, ["2008-11"], freq="h", value=2)
    y, manifest = audit.load_counts(path, path.with_name("counts.manifest.json"))
    assert y.index.freqstr == "h" and len(y) == 30 * 24 and y.index.tz is None
    assert y.index[5] == pd.Timestamp("2008-11-01 05:00") and y.attrs["unit"] == "messages per hour"
    daily = audit.daily_from(y)
    assert daily.index.freqstr == "D" and len(daily) == 30 and (daily == 48).all()
    assert daily.attrs["unit"] == "messages per day" and daily.attrs["source"] == y.attrs["source"]


def test_missing_manifest_beside_the_csv_gives_an_empty_one(tmp_path):
    path = write_counts(tmp_path, ["2008-11"])
    path.with_name("counts.manifest.json").unlink()
    y, manifest = audit.load_counts(path)
    assert manifest == {} and y.attrs["manifest"] is None


def _edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(("change", "message"), [
    (lambda p: p.unlink(), r"counts.csv: counts file not found"),
    (lambda p: _edit(p, "date,count", "day,messages"), r"counts.csv: bad header 'day,messages'; expected 'date,count'"),
    (lambda p: p.write_text("date,count\n", encoding="utf-8"), r"counts.csv: no data rows"),
    (lambda p: _edit(p, "2008-11-02,", "2008-11-31,"), r"counts.csv: line 3: '2008-11-31' is not a date YYYY-MM-DD"),
    (lambda p: _edit(p, "2008-11-02,", "2008-11-02T00:00:00Z,"), r"line 3: '2008-11-02T00:00:00Z' is not a date"),
    (lambda p: _edit(p, "2008-11-03,3", "2008-11-03,-1"), r"line 4: '-1' is not a count"),
    (lambda p: _edit(p, "2008-11-03,3", "2008-11-03,many"), r"line 4: 'many' is not a count"),
    (lambda p: _edit(p, "2008-11-03,", "2008-11-02,"), r"line 4: '2008-11-02' is not after the row above it"),
    (lambda p: _edit(p, "2008-11-15,3\n", ""), r"month 2008-11 is incomplete: no row for 2008-11-15"),
    (lambda p: _edit(p, "2008-11-15,3", "2008-11-15,4"), r"counts.manifest.json: sha256 '[0-9a-f]{64}' does not "
                                                         r"match .*counts.csv"),
    (lambda p: _edit(p.with_name("counts.manifest.json"), '"freq": "day"', '"freq": "hour"'),
     r"counts.manifest.json: freq 'hour' but .*counts.csv has messages per day"),
    (lambda p: p.with_name("counts.manifest.json").write_text("{oops", encoding="utf-8"),
     r"counts.manifest.json: manifest is not valid JSON"),
])
def test_bad_counts_name_the_file_and_the_problem(tmp_path, change, message):
    path = write_counts(tmp_path, ["2008-11"])
    change(path)
    with pytest.raises(DataValidationError, match=message):
        audit.load_counts(path)


def test_bad_hourly_date_and_explicit_missing_manifest(tmp_path):
    path = write_counts(tmp_path, ["2008-11"], freq="h")
    _edit(path, "2008-11-01T03:00:00Z", "2008-11-01T03:30:00Z")
    with pytest.raises(DataValidationError, match=r"line 5: '2008-11-01T03:30:00Z' is not a date "
                                                  r"YYYY-MM-DDTHH:00:00Z \(UTC\)"):
        audit.load_counts(path)
    path = write_counts(tmp_path / "b", ["2008-11"])
    with pytest.raises(DataValidationError, match=r"nope.json: manifest not found \(for .*counts.csv\)"):
        audit.load_counts(path, tmp_path / "nope.json")


def test_counts_file_resolves_data_paths_under_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SPAMITS_DATA_DIR", str(tmp_path))
    assert audit.counts_file("data/derived/x.csv") == tmp_path / "derived" / "x.csv"
    assert audit.counts_file("untroubled") == tmp_path / "derived" / "untroubled_daily.csv"
    assert audit.counts_file(tmp_path / "y.csv") == tmp_path / "y.csv"


# --- tables and findings ------------------------------------------------------------------------------------------


def test_dating_and_lag_tables():
    dating = audit.dating_table(MANIFEST)
    assert dating["rule"].tolist() == ["received", "date", "name"]
    assert dating["messages"].tolist() == [90, 6, 4] and dating["share (%)"].tolist() == [90.0, 6.0, 4.0]
    lag = audit.lag_table(MANIFEST).set_index("statistic")["value"]
    assert lag["messages with both times"] == 90 and lag["p50"] == 11.0 and lag["p90"] == 40.0
    assert lag["lag of 24 h or more"] == pytest.approx(100 * 30 / 90, abs=0.05)
    assert lag["lag of 1 h or more"] == pytest.approx(100 * 75 / 90, abs=0.05)
    straddling = {"lag_hours": {**MANIFEST["lag_hours"], "edges": [-24, -1, 0, 12, 48, 720]}}
    assert audit.lag_share(straddling, 24) is None  # the 12-48 h bin cannot be split at 24 h


def test_recipient_table_and_breaks_keep_ties():
    breaks = audit.recipient_breaks(MANIFEST)
    assert breaks == [{"month": "2008-12", "date": "2008-12-01", "previous_month": "2008-11",
                       "from": "bait@old.example", "to": "new@trap.example", "messages": 25}]
    table = audit.recipient_table(MANIFEST)
    assert table["month"].tolist() == ["2008-10", "2008-11", "2008-12"]
    assert table["top address"].tolist() == ["bait@old.example", "bait@old.example", "new@trap.example"]
    assert table["share (%)"].tolist() == [pytest.approx(100 * 40 / 45, abs=0.05), 50.0,
                                           pytest.approx(100 * 25 / 30, abs=0.05)]
    assert table["addresses listed"].tolist() == [2, 2, 2] and table["break"].tolist() == [False, False, True]


def test_findings_state_data_dating_lag_breaks_events_and_skips(tmp_path):
    y, manifest = audit.load_counts(write_counts(tmp_path, ["2008-10", "2008-11", "2008-12"], value=3))
    text = audit.findings(y, manifest, events.load())
    assert text[0] == "REAL: counts of real spam-trap messages (test copy) (file counts.csv)."
    assert text[1] == "276 messages counted over 3 months (2008-10 to 2008-12), messages per day (UTC)."
    assert "90 (90.0%) by the trap's top Received: line" in text[2]
    assert "the fallback rules dated 10.0% of messages" in text[2]
    assert "median of 11.0 h" in text[3] and "90th percentile 40.0 h" in text[3]
    assert "at least 33.3% of them on another UTC day and 83.3% in another hour" in text[3]
    assert "The top trap address changes once: 2008-12 (bait@old.example → new@trap.example)." in text[4]
    assert text[5] == ("Catalog events inside the counted span (2008-10-01 to 2008-12-31): 2; with at least 28 "
                       "counted days before and after for a fit: 2 (mccolo on 2008-11-11, 41 days before and 51 "
                       "from it; srizbi on 2008-11-26, 56 days before and 36 from it).")
    assert "The window of mccolo contains a change of the top trap address (2008-12)." in text[6]
    assert text[-1] == "2 entries were skipped and not counted: 2 entries that are not mail messages."


def test_findings_with_zero_lag_data_and_no_events_in_span(tmp_path):
    manifest = {**MANIFEST, "lag_hours": {"n": 0, "quantiles": dict.fromkeys(["min", "p10", "p50", "p90", "max"]),
                                          "edges": [0, 1, 24], "counts": [0, 0]}, "recipients": {}}
    y, manifest = audit.load_counts(write_counts(tmp_path, ["2003-06", "2003-07"], freq="h",
                                                 manifest={**manifest, "folders": ["2003-07"]}))
    text = audit.findings(y, manifest)
    assert text[1].endswith("1 of these months have no folder in the archives read (2003-06): they hold only "
                            "messages filed late, in the next month's folder, so their low counts mean little was "
                            "read, not that little spam came.")
    assert any(t.startswith("No message has both a top Received: time and a name epoch") for t in text)
    assert "The manifest lists no trap addresses (Delivered-To:), so changes of the trap cannot be seen." in text
    assert any(t.startswith("No catalog event falls inside the counted span (2003-06-01 to 2003-07-31)") and
               "the nearest is intercage (2008-09-21)" in t for t in text)
    lag = audit.lag_table(manifest).set_index("statistic")["value"]
    assert lag["messages with both times"] == 0 and lag["p50"] is None
    assert audit.as_markdown(["a_b *c*"]) == r"- a\_b \*c\*"


def test_event_windows_follow_the_fit_window_rule(tmp_path):
    months = [f"2008-{m:02d}" for m in range(7, 13)] + ["2009-01", "2009-02", "2009-03"]
    y, _ = audit.load_counts(write_counts(tmp_path, months))
    table = audit.event_windows(y).set_index("id")
    assert table.index.tolist() == ["intercage", "mccolo", "srizbi"]
    assert table.loc["intercage", ["days_before", "pre_periods", "post_periods"]].tolist() == [82, 82, 120]
    assert table.loc["mccolo", ["pre_periods", "post_periods"]].tolist() == [90, 120]
    assert table["fits"].all() and table.loc["mccolo", "joint"] == ["intercage", "mccolo", "srizbi"]
    y, _ = audit.load_counts(write_counts(tmp_path / "short", ["2008-08", "2008-10", "2008-11"]))
    table = audit.event_windows(y).set_index("id")  # September not counted: intercage falls in the gap
    assert table.loc["intercage", ["days_before", "days_after", "fits"]].tolist() == [0, 0, False]
    assert table.loc["mccolo", ["days_before", "days_after", "fits"]].tolist() == [41, 20, False]
    assert table.loc["mccolo", "reason"] == ("41 counted days before and 20 from the event on; a fit needs at least "
                                             "28 on each side")


# --- figures -------------------------------------------------------------------------------------------------------


def _caption(fig) -> str:
    return next(a["text"] for a in fig.to_dict()["layout"]["annotations"] if a["text"].startswith("Source:"))


def test_figures_name_real_data_units_and_source(tmp_path):
    path = write_counts(tmp_path, ["2008-10", "2008-11", "2008-12"], freq="h", stem="trap_hourly", value=1)
    y, manifest = audit.load_counts(path)
    daily = audit.daily_from(y)
    figs = {"daily": audit_plots.fig_daily(daily, events_frame=events.load()), "hourly": audit_plots.fig_hourly(y),
            "dating": audit_plots.fig_dating(manifest), "lag": audit_plots.fig_lag(manifest),
            "recipients": audit_plots.fig_recipients(manifest, y)}
    units = {"daily": ("date (UTC)", "spam (messages per day)"), "hourly": ("hour (UTC)", "spam (messages per hour)"),
             "dating": ("dating rule (first that applies)", "messages (count)"),
             "lag": ("lag bin (hours; name epoch minus top Received:)", "messages (count)"),
             "recipients": ("month (UTC)", "share of the month's messages (%)")}
    for name, fig in figs.items():
        layout = fig.to_dict()["layout"]
        assert layout["title"]["text"].startswith("REAL: "), name
        assert (layout["xaxis"]["title"]["text"], layout["yaxis"]["title"]["text"]) == units[name]
        assert _caption(fig).startswith("Source: trap_hourly.csv"), name
        assert fig.to_json() == fig.to_json()
    daily_fig = figs["daily"].to_dict()
    assert [a["text"] for a in daily_fig["layout"]["annotations"][:-1]] == ["mccolo", "srizbi"]  # events in span
    assert [s["x0"] for s in daily_fig["layout"]["shapes"]] == ["2008-11-11", "2008-11-26"]
    assert len(daily_fig["data"][0]["y"]) == 92 and daily_fig["data"][0]["y"][0] == 24
    hourly = figs["hourly"].to_dict()["data"][0]
    assert hourly["mode"] == "lines" and len(hourly["y"]) == 92 * 24
    recipients = figs["recipients"].to_dict()
    breaks = [s for s in recipients["layout"]["shapes"] if s["line"]["dash"] == "dot"]
    assert [s["x0"] for s in breaks] == ["2008-12-01"]
    assert [t["name"] for t in recipients["data"]] == ["bait@old.example", "new@trap.example",
                                                       "top address changes (1)"]
    lag = figs["lag"].to_dict()["data"][0]
    assert lag["x"] == ["-24 to -1", "-1 to 0", "0 to 1", "1 to 24", "24 to 720"] and lag["y"] == [0, 3, 12, 45, 30]
    assert "median 11.0 h" in lag["name"]
    with pytest.raises(DataValidationError, match="fig_hourly needs hourly counts"):
        audit_plots.fig_hourly(daily)


def test_sparse_hourly_counts_draw_only_hours_with_messages(tmp_path):
    path = write_counts(tmp_path, ["2004-01"], freq="h", value=0)
    _edit(path, "2004-01-05T07:00:00Z,0", "2004-01-05T07:00:00Z,2")
    path.with_name("counts.manifest.json").unlink()  # its sha256 no longer matches
    y, manifest = audit.load_counts(path)
    trace = audit_plots.fig_hourly(y).to_dict()["data"][0]
    assert trace["mode"] == "markers" and trace["x"] == ["2004-01-05T07:00"] and trace["y"] == [2]
    assert trace["name"] == "hours with messages (1 of 744 counted hours; the others are 0)"
    recipients = audit_plots.fig_recipients(manifest, y).to_dict()
    assert recipients["layout"]["annotations"][0]["text"].startswith("the manifest lists no trap addresses")


# --- real rows of the cross-takedown table -----------------------------------------------------------------------


def test_fit_events_adds_real_rows_marked_real(tmp_path, monkeypatch):
    months = [f"2008-{m:02d}" for m in range(7, 13)] + ["2009-01", "2009-02", "2009-03"]
    path = write_counts(tmp_path, months)
    rng = np.random.default_rng(1)  # a drop at McColo in counts that follow the schema of real trap counts
    lines = path.read_text(encoding="utf-8").splitlines()
    counts = [int(v) for v in rng.poisson(400, len(lines) - 1)]
    lines[1:] = [f"{line.split(',')[0]},{c // 3 if '2008-11-11' <= line[:10] < '2008-12-10' else c}"
                 for line, c in zip(lines[1:], counts, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.with_name("counts.manifest.json").unlink()
    fits = robust.fit_events(["rustock"], real_series={"mccolo": str(path)}, effect="step", seasonality="dow",
                             n_draws=200)
    assert list(fits) == ["rustock", "mccolo (REAL)"]
    assert fits["mccolo (REAL)"].events == ["intercage", "mccolo", "srizbi"]  # neighbours in the window
    table = robust.takedown_table(fits)
    assert table[["event", "data"]].values.tolist() == [["rustock", "SIMULATED"], ["mccolo (REAL)", "REAL"]]
    assert table.columns.name == "SIMULATED" and robust.data_label(table) == "SIMULATED and REAL"
    assert table.loc[1, "immediate_change"] == pytest.approx(-2 / 3, abs=0.1)
    text = robust.cross_takedown_summary(table)
    assert text.startswith("SIMULATED DATA in every row not marked REAL")
    assert "REAL DATA: mccolo (REAL) is fitted to real spam counts" in text
    with pytest.raises(DataValidationError, match=r"real_series\['grum'\].*outside the counted span"):
        robust.fit_events(["rustock"], real_series={"grum": str(path)}, effect="step")


# --- the notebook ------------------------------------------------------------------------------------------------


def test_the_audit_as_results_json_records_it_all(tmp_path):
    """What the notebook writes to results.json (``audit.to_dict`` through ``results.clean``), on known counts."""
    path = write_counts(tmp_path / "counts", ["2008-10", "2008-11", "2008-12"], freq="h", stem="trap_hourly",
                        value=1)
    counts, manifest = audit.load_counts(path)
    res = results.clean(audit.to_dict(counts, manifest))
    assert res["data"]["messages"] == 92 * 24 and res["data"]["freq"] == "h" and res["data"]["simulated"] is False
    assert res["data"]["months"] == ["2008-10", "2008-11", "2008-12"] and res["daily"]["mean"] == 24
    assert [r["share (%)"] for r in res["dating"]] == [90.0, 6.0, 4.0]
    assert res["lag"]["share_24h"] == pytest.approx(33.3) and res["lag"]["quantiles"]["p50"] == 11.0
    assert [b["month"] for b in res["recipient_breaks"]] == ["2008-12"]
    assert {e["id"]: (e["pre_periods"], e["post_periods"], e["fits"]) for e in res["events"]} == {
        "mccolo": (41, 51, True), "srizbi": (56, 36, True)}
    assert res["findings"][0].startswith("REAL: counts of real spam-trap messages")


@pytest.mark.slow
def test_trap_audit_notebook_on_counts_derived_from_the_real_fixtures(tmp_path, monkeypatch):
    import papermill

    monkeypatch.setenv("SPAMITS_PLOTLY_RENDERER", "plotly_mimetype")  # figures as JSON; PNGs: test_plots.py

    from make_sample_counts import make

    path = tmp_path / "fixture_hourly.csv"
    assert make(path) == 0  # the 102 real messages, packed as yearly archives, counted by spamits data count
    papermill.execute_notebook(str(NOTEBOOK), str(tmp_path / "out.ipynb"),
                               parameters={"counts_path": str(path), "results_path": str(tmp_path / "r.json")},
                               kernel_name="python3", cwd=str(tmp_path), progress_bar=False, log_output=False)
    res = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert res["data"]["messages"] == 102 and res["data"]["freq"] == "h"
    assert [(r["rule"], r["messages"]) for r in res["dating"]] == [("received", 101), ("date", 1), ("name", 0)]
    assert res["lag"]["quantiles"]["p50"] == 11.02 and res["lag"]["quantiles"]["max"] == 328.95
    assert res["events"] == []  # 1998-2007: no catalog event inside the span
    assert res["run"] == {"counts_path": str(path), "manifest_path": None}
    nb = json.loads((tmp_path / "out.ipynb").read_text(encoding="utf-8"))
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("name") == "stderr"], "warnings in the notebook's output"
    assert sum("application/vnd.plotly.v1+json" in o.get("data", {}) for o in outputs) == 5

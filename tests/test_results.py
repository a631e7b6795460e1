"""Tests of spamits.results: the results.json of a run (headline numbers, strict JSON, byte-identical reruns)."""

from __future__ import annotations

import functools
import json
import math

import pytest

from spamits import __version__, data, events, results
from spamits.its import fit

RUN = {"name": "mccolo", "notebook": "takedown_its.ipynb", "parameters": {"event_id": "mccolo", "seed": 0}}
HEADLINE_KEYS = {"immediate_change", "immediate_change_low", "immediate_change_high", "relative_30",
                 "relative_30_low", "relative_30_high", "half_life", "half_life_low", "half_life_high"}


def _build(effect: str = "decay") -> tuple[dict, object]:
    y = data.load("mccolo")
    event = events.get("mccolo")
    result = fit(y, event, effect=effect, seasonality="dow", n_draws=500)
    return results.build(run=RUN, event=event, y=y, result=result), result


@functools.cache
def _decay() -> tuple[dict, object]:
    return _build("decay")


def test_build_is_strict_json_and_round_trips_through_write_json(tmp_path):
    obj, _ = _decay()
    json.dumps(obj, allow_nan=False)
    path = results.write_json(tmp_path / "run" / "results.json", obj)
    assert path == tmp_path / "run" / "results.json"
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    assert json.loads(text) == obj
    assert [p.name for p in path.parent.iterdir()] == ["results.json"]  # no temporary file left behind


def test_write_json_refuses_nan(tmp_path):
    with pytest.raises(ValueError):
        results.write_json(tmp_path / "bad.json", {"x": float("nan")})
    assert list(tmp_path.iterdir()) == []


def test_headline_of_a_decay_fit():
    obj, result = _decay()
    head = obj["headline"]
    assert HEADLINE_KEYS <= set(head)
    assert head["unit"] == "days"
    for name in ("immediate_change", "relative_30", "half_life"):
        assert head[f"{name}_low"] <= head[name] <= head[f"{name}_high"], name
    level = result.effects.set_index("term").loc["level"]
    assert head["immediate_change"] == pytest.approx(math.exp(level["estimate"]) - 1, rel=1e-6)
    assert head["half_life"] == pytest.approx(result.effects.set_index("term").loc["half_life", "estimate"],
                                              rel=1e-6)
    first30 = result.impact("2008-11-11", "2008-12-10")
    assert head["relative_30"] == pytest.approx(first30["relative"], rel=1e-6)
    assert head["relative_30_low"] == pytest.approx(first30["relative_low"], rel=1e-6)


def test_headline_of_a_step_fit_has_no_half_life():
    obj, _ = _build("step")
    head = obj["headline"]
    assert HEADLINE_KEYS <= set(head)
    assert head["half_life"] is None and head["half_life_low"] is None and head["half_life_high"] is None
    assert head["immediate_change"] < 0


def test_build_records_event_data_run_and_version():
    obj, _ = _decay()
    assert obj["spamits_version"] == __version__
    assert obj["run"] == json.loads(json.dumps(RUN))
    assert obj["event"]["id"] == "mccolo" and obj["event"]["date"] == "2008-11-11"
    assert obj["data"]["simulated"] is True and "SIMULATED" in obj["data"]["source"]
    assert obj["data"]["start"] == data.load("mccolo").index[0].date().isoformat()
    assert {"model", "effects", "impact", "impact_table", "diagnostics"} <= set(obj)


def test_two_builds_write_identical_bytes(tmp_path):
    first = results.write_json(tmp_path / "a.json", _build("decay")[0]).read_bytes()
    second = results.write_json(tmp_path / "b.json", _build("decay")[0]).read_bytes()
    assert first == second

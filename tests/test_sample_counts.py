"""The shipped sample counts are what ``spamits data count`` makes of the 102 real fixture messages."""

from __future__ import annotations

import json

from make_sample_counts import OUT, make


def test_committed_sample_is_regenerated_byte_for_byte(tmp_path):
    out = tmp_path / "untroubled_fixture_hourly.csv"
    assert make(out) == 0
    assert out.read_bytes() == OUT.read_bytes()
    made = json.loads(out.with_name("untroubled_fixture_hourly.manifest.json").read_text(encoding="utf-8"))
    shipped = json.loads(OUT.with_name("untroubled_fixture_hourly.manifest.json").read_text(encoding="utf-8"))
    for key in ("sha256", "messages", "months", "dated_by", "lag_hours", "recipients", "skipped", "freq"):
        assert made[key] == shipped[key], key
    assert shipped["messages"] == 102 and shipped["freq"] == "hour"

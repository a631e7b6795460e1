"""DisplayTable: full text, escaped HTML, caption; the describe helpers use it."""

from __future__ import annotations

import pandas as pd

from spamits import data, events
from spamits._display import DisplayTable


def test_display_table_escapes_markup_and_keeps_long_text():
    long = "x" * 200
    table = DisplayTable(pd.DataFrame({"value": ["<script>alert(1)</script>", long]}), caption="<b>cap</b>")
    html = table._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert long in html  # never truncated
    assert "&lt;b&gt;cap&lt;/b&gt;" in html
    assert long in repr(table)


def test_event_description_lists_every_source_in_full():
    event = events.get("mccolo")
    html = events.describe(event)._repr_html_()
    for url in event.sources:
        assert url.replace("&", "&amp;") in html


def test_series_description_says_simulated():
    text = repr(data.describe(data.load("grum")))
    assert text.startswith("SIMULATED series") and "SIMULATED (generated" in text


def test_vendor_table_is_one_event_window_and_real():
    table = data.vendor_table("mccolo")
    assert "real" in table.caption and not table.frame.empty
    assert set(table.frame["period"].str[:4]) <= {"2008", "2009"}

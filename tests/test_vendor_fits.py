"""Monthly ITS of the vendors' published spam shares: which candidates fit, and what the intervals can say."""

from __future__ import annotations

import json

from spamits import plots, vendor_fits


def test_candidates_fit_or_say_why_not():
    fits, table = vendor_fits.fit_candidates()
    frame = table.frame
    fitted = frame[frame["status"] == "fitted"]
    assert set(zip(fitted["vendor"], fitted["event"], strict=True)) == {
        ("Symantec State of Spam", "spamit"), ("MessageLabs/Symantec Intelligence", "spamit"),
        ("MessageLabs/Symantec Intelligence", "rustock"), ("Kaspersky", "grum")}
    assert len(fits) == 3 and all(not r.simulated for r in fits.values())
    assert (fitted["pp low"] < fitted["level change (pp)"]).all()
    assert (fitted["level change (pp)"] < fitted["pp high"]).all()
    failed = frame[frame["status"] == "not fitted"]
    assert len(failed) == 4
    assert failed["notes"].str.contains(r"pre-period: \d observed periods|only \d observed periods").all()
    assert (failed["observed before"] < 8).all()


def test_precision_statement_is_computed_from_the_intervals():
    _, table = vendor_fits.fit_candidates()
    precise = vendor_fits.precision(table)
    widths = precise.frame["interval width (pp)"]
    assert (precise.frame["minimal detectable change (pp)"] > widths / 2).all()
    text = vendor_fits.precision_statement(table, precise)
    assert f"{widths.min():.1f} to {widths.max():.1f} percentage points wide" in text
    assert "4 candidate series could not be fitted" in text


def test_results_and_figures_are_json_ready_and_cite_sources():
    fits, table = vendor_fits.fit_candidates()
    out = vendor_fits.results(table, alpha=0.05)
    json.dumps(out, allow_nan=False)
    assert out["data"] == {"source": "data/vendor_figures.csv", "simulated": False}
    cand = vendor_fits.CANDIDATES[0]
    fig = plots.fig_vendor_fit(cand, fits[cand.name])
    caption = next(a.text for a in fig.layout.annotations if a.text.startswith("Source:"))
    assert "Symantec State of Spam monthly figures as published" in caption and "SIMULATED" not in fig.layout.title.text
    sources = vendor_fits.sources_table(cand).frame
    assert sources["source_url"].str.startswith("http").all() and len(sources) == 16
    assert plots.fig_level_changes(table.frame).data[0].y[0].startswith("Symantec State of Spam")

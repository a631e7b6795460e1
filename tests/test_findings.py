"""Findings builders (spamits.findings) and table formatters (spamits._display) on fixed results."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import SimpleNamespace

import pandas as pd
import pytest

from spamits import findings
from spamits._display import (
    MINUS,
    DisplayTable,
    digits_for,
    fmt_count,
    fmt_date,
    fmt_interval,
    fmt_p,
    fmt_pct,
    table,
)
from spamits.errors import ModelSpecError
from spamits.findings._core import change_phrase, half_life_phrase

NAN = float("nan")


# --- formatters --------------------------------------------------------------------------------------------


def test_percent_intervals_use_true_minus_signs_and_the_supported_decimals():
    assert fmt_interval(-0.6666, -0.7368, -0.5778) == f"{MINUS}67% [{MINUS}74%, {MINUS}58%]"
    assert fmt_interval(-0.051, -0.12, 0.031) == f"{MINUS}5% [{MINUS}12%, +3%]"
    assert fmt_interval(-0.0512, -0.0571, -0.0453) == f"{MINUS}5.1% [{MINUS}5.7%, {MINUS}4.5%]"
    assert fmt_interval(13.05, 8.84, 19.12, "num") == "13 [9, 19]"
    assert fmt_interval(5.0, 2.0, math.inf, "num") == "5 [2, ∞]"
    assert digits_for(0.1, 0.3) == 0 and digits_for(0.10, 0.105) == 2


def test_single_numbers_dates_and_p_values():
    assert fmt_count(22464.969) == "22,465"
    assert fmt_pct(-0.4364) == f"{MINUS}44%" and fmt_pct(0.0001) == "0%" and fmt_pct(None) == "—"
    assert fmt_p(0.0031) == "0.003" and fmt_p(1e-9) == "< 0.001"
    assert fmt_date("2008-11-11 00:00:00") == "2008-11-11" and fmt_date("2008-11-11", long=True) == "11 Nov 2008"


def test_table_has_a_caption_saying_simulated_and_no_index_name():
    frame = pd.DataFrame({"event": ["mccolo", "a" * 300], "c": [-0.67, -0.2], "lo": [-0.74, -0.38],
                          "hi": [-0.58, 0.04], "date": pd.to_datetime(["2008-11-11", "2010-01-01"])})
    frame.columns.name = "SIMULATED"
    shown = table(frame, "Immediate change by event", {"event": "event", "change (%)": ("pct", "c", "lo", "hi"),
                                                        "date": ("date", "date")}, notes="%: relative change")
    assert isinstance(shown, DisplayTable)
    assert shown.caption == "SIMULATED: Immediate change by event"
    assert list(shown.frame["change (%)"]) == [f"{MINUS}67% [{MINUS}74%, {MINUS}58%]", f"{MINUS}20% [{MINUS}38%, +4%]"]
    assert list(shown.frame["date"]) == ["2008-11-11", "2010-01-01"]
    html = shown._repr_html_()
    assert "<caption" in html and "SIMULATED" not in html.split("</caption>")[1].split("<tbody>")[0]
    assert "overflow-wrap: anywhere" in html and "a" * 300 in html  # long text wraps, never truncated
    assert "%: relative change" in repr(shown)
    with pytest.raises(ModelSpecError, match="kind"):
        table(frame, "x", {"y": ("bogus", "c")})
    with pytest.raises(ModelSpecError, match="not in the frame"):
        table(frame, "x", {"y": ("pct", "nope")})


# --- wording -------------------------------------------------------------------------------------------------


def test_change_wording_clear_uncertain_and_rise():
    assert change_phrase(-0.67, -0.74, -0.58) == ("Spam fell by 67% (58% to 74%)", True)
    text, clear = change_phrase(-0.05, -0.12, 0.03)
    assert not clear and text.startswith("no clear change in spam") and f"{MINUS}12% to +3%" in text
    assert change_phrase(0.2, 0.1, 0.3) == ("Spam rose by 20% (10% to 30%)", True)
    assert half_life_phrase(13.05, 8.84, 19.1, "days") == "a half-life of 13 days (9 to 19)"
    assert "no upper bound" in half_life_phrase(150.0, 60.0, math.inf, "days")


@dataclass
class FakeFit:
    """The parts of an ITSResult the takedown findings read, with fixed numbers."""

    level: tuple = (-0.6666, -0.7368, -0.5778)
    half_life: tuple | None = (13.05, 8.84, 19.12)
    relative: tuple = (-0.4364, -0.4982, -0.3706)
    simulated: bool = True
    recovery: dict = field(default_factory=lambda: {"estimate": 45.0, "low": 32.0, "high": 62.0, "unit": "days",
                                                    "within_window": True, "window_periods": 180})
    notes: list = field(default_factory=list)
    events: list = field(default_factory=lambda: ["mccolo"])
    unit: str = "days"
    errors: str = "ar1"
    alpha: float = 0.05
    decay_at_bound: dict = field(default_factory=dict)

    @property
    def effects(self) -> pd.DataFrame:
        est, lo, hi = (math.log1p(v) for v in self.level)
        rows = [{"event": "mccolo", "term": "level", "estimate": est, "ci_low": lo, "ci_high": hi,
                 "ratio": 1 + self.level[0], "ratio_low": 1 + self.level[1], "ratio_high": 1 + self.level[2]}]
        if self.half_life:
            rows.append({"event": "mccolo", "term": "half_life", "estimate": self.half_life[0],
                         "ci_low": self.half_life[1], "ci_high": self.half_life[2], "ratio": NAN, "ratio_low": NAN,
                         "ratio_high": NAN})
        return pd.DataFrame(rows)

    @property
    def frame(self) -> pd.DataFrame:
        out = pd.DataFrame(index=pd.date_range("2008-01-01", periods=3))
        out.attrs = {"source": "data/derived/untroubled_daily.csv"}
        return out

    def recovery_time(self, fraction: float, event: str | None = None) -> dict:
        return dict(self.recovery)

    def impact_table(self, horizons: tuple = (30,)) -> pd.DataFrame:
        est, lo, hi = self.relative
        return pd.DataFrame([{"window": "first 30 days", "relative": est, "relative_low": lo, "relative_high": hi}])


EVENT = SimpleNamespace(id="mccolo", name="McColo cut off", date=pd.Timestamp("2008-11-11"))


def test_takedown_findings_state_the_data_first_and_numbers_with_intervals():
    found = findings.takedown_findings(FakeFit(), EVENT)
    assert found.data == "SIMULATED" and found.lines[0].startswith("SIMULATED data:")
    assert found.lines[1] == ("Spam fell by 67% (58% to 74%) on 11 Nov 2008 (mccolo) and recovered with a "
                              "half-life of 13 days (9 to 19).")
    assert "back within 10% of the counterfactual after 45 days (32 to 62)" in found.lines[2]
    assert "44% (37% to 50%) below" in found.lines[3]
    assert list(found.table["finding"])[:2] == ["immediate change", "half-life"]
    assert found.table.loc[0, "estimate"] == pytest.approx(-0.6666)
    markdown = found._repr_markdown_()
    assert markdown.startswith(f'<div class="{findings.FINDINGS_CLASS}">') and markdown.endswith("</div>")
    assert "**SIMULATED data:**" in markdown


def test_uncertain_and_null_findings_say_no_clear_change():
    fit = FakeFit(level=(-0.05, -0.12, 0.03), relative=(-0.01, -0.06, 0.05), simulated=False)
    found = findings.takedown_findings(fit, EVENT)
    assert found.data == "REAL" and found.lines[0].startswith("REAL data:")
    assert found.lines[1].startswith("On 11 Nov 2008 (mccolo) there was no clear change in spam")
    assert "half-life" not in found.lines[1]  # no recovery to speak of without a clear drop
    assert "no clear change" in found.lines[2] and not any("back within" in line for line in found.lines)


def test_takedown_findings_carry_the_verdicts_and_caveats():
    comparison = pd.DataFrame({"model": ["step / ar1", "decay / ar1", "step / iid", "decay / iid"],
                               "errors": ["ar1", "ar1", "iid", "iid"], "effects": ["step", "decay", "step", "decay"],
                               "aic": [132.5, 0.0, 140.0, 3.0], "breusch_godfrey_p": [1e-9, 1e-8, 1e-9, 1e-8],
                               "residual_ar1": [0.7, 0.6, 0.7, 0.6]})
    fit = FakeFit(notes=["pre-period has only 11 observed periods"], half_life=(150.0, 60.0, math.inf),
                  recovery={"estimate": None, "low": None, "high": None, "unit": "days", "within_window": False,
                            "window_periods": 180})
    found = findings.takedown_findings(fit, EVENT, comparison=comparison)
    text = "\n".join(found.lines)
    assert "prefer 'decay' to 'step' (AIC 132.5 lower; a difference above 10 is strong support)" in text
    assert "autocorrelated (Breusch-Godfrey p < 0.001, residual AR(1) about 0.60)" in text
    assert "no clear recovery within the window" in text and "not back within 10%" in text
    assert found.lines[-1] == "Caveat: pre-period has only 11 observed periods"


def _takedown_table() -> pd.DataFrame:
    frame = pd.DataFrame([
        {"event": "mccolo", "data": "SIMULATED", "kind": "takedown", "effect": "decay", "immediate_change": -0.68,
         "immediate_change_low": -0.75, "immediate_change_high": -0.58, "half_life": 9.9, "half_life_low": 5.5,
         "half_life_high": 17.5, "half_life_at_bound": False, "unit": "days"},
        {"event": "grum", "data": "SIMULATED", "kind": "takedown", "effect": "decay", "immediate_change": -0.2,
         "immediate_change_low": -0.38, "immediate_change_high": 0.04, "half_life": 7.8, "half_life_low": 0.0,
         "half_life_high": 84.0, "half_life_at_bound": False, "unit": "days"},
        {"event": "rustock-holiday", "data": "SIMULATED", "kind": "pause", "effect": "decay",
         "immediate_change": -0.66, "immediate_change_low": -0.74, "immediate_change_high": -0.56, "half_life": 9.0,
         "half_life_low": 7.0, "half_life_high": 12.0, "half_life_at_bound": False, "unit": "days"}])
    frame.columns.name = "SIMULATED"
    return frame


def test_across_findings_count_clear_drops_and_name_the_unclear_ones():
    found = findings.across_findings(_takedown_table())
    assert found.lines[0].startswith("SIMULATED data:")
    assert "1 of 2 takedowns changed spam clearly" in found.lines[1]
    assert "mccolo fell 68% (58% to 75%)" in found.lines[1]
    assert found.lines[2].startswith("No clear immediate change at grum")
    assert any(line.startswith("Negative controls") and "does not prove" in line for line in found.lines)


def test_robustness_findings_word_the_placebo_and_break_verdicts():
    placebo = SimpleNamespace(simulated=True, spec={"alpha": 0.05}, observed=math.log(1 - 0.67), term="level",
                              table=pd.DataFrame({"estimate": [0.01, -0.2, 0.1]}), n=3, p_value=0.25, event="mccolo")
    scan = SimpleNamespace(date=pd.Timestamp("2008-11-13"), date_low=pd.Timestamp("2008-11-12"),
                           date_high=pd.Timestamp("2008-11-14"), spec={"alpha": 0.05})
    found = findings.robustness_findings(placebo, scan=scan, catalog_date="2008-11-11")
    assert found.lines[0].startswith("SIMULATED data:")
    assert "0 of 3 dates" in found.lines[1] and "p = 0.250" in found.lines[1]
    assert "smallest possible" in found.lines[1] and "rare at dates" not in found.lines[1]
    assert "2 days after the catalog date, which is outside the set" in found.lines[2]


def test_audit_findings_keep_the_audit_sentences():
    found = findings.audit_findings(["REAL: counts from a trap.", "102 messages."])
    assert found.data == "REAL" and found.text.startswith("**REAL:** counts from a trap.")


def test_reviewer_page_opens_with_the_findings_in_a_key_results_box():
    import nbformat

    from spamits.report import notebook_to_html

    found = findings.takedown_findings(FakeFit(), EVENT)
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("findings", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": found._repr_markdown_(),
                                                                 "text/plain": repr(found)})]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title\n\n## Details"), cell]
    html = notebook_to_html(nb, title="t")
    box = html.index('class="spamits-key-results"')
    assert box < html.index('id="Title"')
    assert "Spam fell by 67% (58% to 74%)" in html[box:html.index("</section>", box)]


def test_percentage_point_intervals_carry_the_unit_once():
    assert fmt_interval(-4.52, -15.23, 2.47, "pp", 1) == f"{MINUS}4.5 [{MINUS}15.2, +2.5] pp"


def test_across_findings_add_one_line_per_group_with_a_real_fit_and_name_the_others():
    from spamits.robust.groups import GroupReading
    readings = [GroupReading("surges", 1, 0, 1, ("phorpiex: immediate change +40% [+10%, +80%], a rise.",),
                             ("the trap saw the surge.",)),
                GroupReading("pauses", 11, 2, 0, (), ())]
    table = pd.DataFrame([{"event": "mccolo", "kind": "takedown", "effect": "decay", "data": "SIMULATED",
                           "immediate_change": -0.6, "immediate_change_low": -0.7, "immediate_change_high": -0.5,
                           "half_life": 10.0, "half_life_low": 5.0, "half_life_high": 17.0, "unit": "days",
                           "half_life_at_bound": False}])
    lines = findings.across_findings(table, readings).lines
    assert "Group surges (1 event, 0 with a simulated series, 1 with a real fit): supports phorpiex" in "\n".join(lines)
    assert any(line.startswith("No real fit in pauses:") for line in lines)
    assert lines[-1].startswith("Caveat:")
    assert findings.across_findings(table).lines[-2].startswith("Lasting effect")

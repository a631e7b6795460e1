"""Tests of spamits.robust: agreement of the batched placebo refits with a loop of its.fit, calibration of the
placebo p-value on simulated null series, power on a strong effect, the break-date scan, the sweeps, the
cross-takedown table, argument errors and the figures.

The calibration test prints what it measured; run ``pytest tests/test_robust.py -rA -k calibration`` to see it.
"""

from __future__ import annotations

import dataclasses
import functools
import json

import numpy as np
import pandas as pd
import pytest

from spamits import events, its, plots, robust
from spamits._simulate import simulate
from spamits.errors import ModelSpecError

EFFECT_COLUMNS = ["estimate", "ci_low", "ci_high", "p_value", "ratio", "ratio_low", "ratio_high"]


@functools.cache
def _series(name: str, seed: int = 0, **overrides: object) -> pd.Series:
    frame = simulate(name, seed=seed, **overrides)
    y = frame["observed"]
    y.attrs = dict(frame.attrs)
    return y


@functools.cache
def _placebo(family: str = "negbin", errors: str = "ar1", effect: str = "step", seed: int = 3) -> robust.PlaceboResult:
    return robust.placebo_in_time(_series("mccolo", seed), events.get("mccolo"), family=family, errors=errors,
                                  effect=effect, seasonality="dow")


# --- agreement with the loop ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("family", "errors", "effect"), [
    ("negbin", "ar1-sandwich", "step"), ("gaussian-log", "hac", "step"), ("quasipoisson", "iid", "step+slope"),
    ("poisson", "ar1-sandwich", "slope"),
])
def test_placebo_agrees_with_a_loop_of_its_fit(family, errors, effect):
    result = _placebo(family, errors, effect)
    y_cut = _series("mccolo", 3).loc[: result.spec["data_end"]]
    term = "slope" if effect == "slope" else "level"
    for i in sorted({0, 1, result.n // 3, result.n // 2, result.n - 2, result.n - 1}):
        ref = its.fit(y_cut, result.dates[i], family=family, errors=errors, effect=effect, seasonality="dow")
        row = ref.effects.set_index("term").loc[term]
        got = result.table.iloc[i]
        assert got["estimate"] == pytest.approx(row["estimate"], abs=1e-6)
        for col in ("ci_low", "ci_high", "ratio_low", "ratio_high"):
            assert got[col] == pytest.approx(row[col], abs=1e-4), (i, col)
        assert got["p_value"] == pytest.approx(row["p_value"], abs=1e-4)


def test_placebo_with_gaps_agrees_with_the_loop():
    y = _series("rustock", 1).copy()
    y.iloc[[40, 41, 42, 200, 333]] = np.nan
    result = robust.placebo_in_time(y, "2011-03-16", family="negbin", errors="hac", seasonality="dow")
    y_cut = y.loc[: result.spec["data_end"]]
    for i in (0, result.n // 2, result.n - 1):
        ref = its.fit(y_cut, result.dates[i], family="negbin", errors="hac", seasonality="dow").effects.iloc[0]
        assert result.table["estimate"].iloc[i] == pytest.approx(ref["estimate"], abs=1e-6)
        assert result.table["ci_high"].iloc[i] == pytest.approx(ref["ci_high"], abs=1e-4)


# --- contract -----------------------------------------------------------------------------------------------


def test_placebo_result_contract():
    result = _placebo()
    ev = events.get("mccolo")
    assert list(result.table.columns) == ["date", "term", *EFFECT_COLUMNS]
    assert result.table.columns.name == "SIMULATED"
    assert len(result.dates) == result.n == len(result.table)
    assert result.dates.max() < ev.date_lo  # data cut before the earliest catalog date
    assert pd.Timestamp(result.spec["data_end"]) < ev.date_lo
    index = _series("mccolo", 3).index
    first, last = index.get_loc(result.dates[0]), index.get_loc(result.dates[-1])
    cut = index.get_loc(pd.Timestamp(result.spec["data_end"])) + 1
    assert first == result.spec["min_pre"] and cut - last == result.spec["min_post"]
    est = result.table["estimate"].to_numpy()
    expected = (1 + np.sum(np.abs(est) >= abs(result.observed))) / (1 + len(est))
    assert result.p_value == pytest.approx(expected)
    assert result.observed == pytest.approx(result.fit.effects.set_index("term").loc["level", "estimate"])
    assert "SIMULATED" in result.summary() and "p-value" in result.summary()
    assert "SIMULATED" in robust.describe_placebo(result)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.p_value = 0.5


def test_placebo_decay_fixes_the_rate_at_the_real_estimate():
    result = robust.placebo_in_time(_series("mccolo", 0), events.get("mccolo"), effect="decay", seasonality="dow",
                                    errors="iid")
    fitted = result.fit.effects.set_index("term")
    assert result.spec["decay_rate"] == pytest.approx(fitted.loc["decay_rate", "estimate"])
    assert np.isfinite(result.table[EFFECT_COLUMNS[:3]].to_numpy()).all()
    assert result.p_value < 0.05  # a two-thirds drop is far outside the placebo estimates


# --- calibration ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_placebo_p_value_is_calibrated_on_null_series():
    """No effect: p < 0.05 in 2-10% of 200 series (gaussian-log; the p-value uses estimates only)."""
    p = np.array([robust.placebo_in_time(_series("no-effect", s), "2008-11-11", family="gaussian-log",
                                         errors="iid", seasonality="dow").p_value for s in range(200)])
    rate = float(np.mean(p < 0.05))
    print(f"null: placebo p < 0.05 in {100 * rate:.1f}% of {len(p)} series; mean p {p.mean():.3f}")
    assert 0.02 <= rate <= 0.10


@pytest.mark.slow
def test_placebo_p_value_detects_a_strong_effect():
    p = np.array([robust.placebo_in_time(_series("rustock", s), "2011-03-16", family="negbin", errors="iid",
                                         seasonality="dow").p_value for s in range(30)])
    print(f"rustock: placebo p < 0.05 in {100 * np.mean(p < 0.05):.0f}% of {len(p)} series")
    assert np.mean(p < 0.05) >= 0.95


# --- break scan -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_break_scan_finds_a_lasting_drop(seed):
    scan = robust.break_scan(_series("rustock", seed), family="negbin", seasonality="dow", errors="ar1")
    truth = pd.Timestamp("2011-03-16")
    assert abs((scan.date - truth).days) <= 3
    assert scan.date_low <= truth <= scan.date_high
    assert (scan.date_high - scan.date_low).days <= 14
    assert list(scan.table.columns) == ["date", "estimate", "ci_low", "ci_high", "statistic", "wald", "in_set"]
    assert scan.table.columns.name == "SIMULATED"
    assert scan.statistic == pytest.approx(scan.table["statistic"].max())
    assert "SIMULATED" in scan.summary()


def test_break_scan_with_a_decay_finds_mccolo():
    scan = robust.break_scan(_series("mccolo", 1), family="negbin", seasonality="dow", errors="hac",
                             effect="decay", decay_rate=0.5 ** (1 / 14))
    assert abs((scan.date - pd.Timestamp("2008-11-11")).days) <= 3
    text = robust.describe_break(scan, "2008-11-11")
    assert "SIMULATED" in text and "2008-11-11" in text


def test_break_scan_respects_start_end_and_trim():
    scan = robust.break_scan(_series("rustock", 0), "2011-01-01", "2011-05-01", trim=30, family="gaussian-log",
                             errors="iid", seasonality="dow")
    assert scan.table["date"].min() >= pd.Timestamp("2011-01-01")
    assert scan.table["date"].max() <= pd.Timestamp("2011-05-01")


# --- sweeps --------------------------------------------------------------------------------------------------

SWEEP_TAIL = ["term", *EFFECT_COLUMNS, "relative_30", "relative_30_low", "relative_30_high"]


def test_date_sweep_covers_the_catalog_range():
    ev = events.get("mccolo")
    table = robust.date_sweep(_series("mccolo", 0), ev, effect="step", seasonality="dow", n_draws=300)
    days = pd.date_range(ev.date_lo, ev.date_hi)
    assert list(table.columns) == ["date", "catalog", *SWEEP_TAIL]
    assert len(table) == len(days) and list(table["date"]) == list(days)
    assert table["catalog"].sum() == 1 and table.loc[table["catalog"], "date"].iloc[0] == ev.date
    assert table.columns.name == "SIMULATED"
    assert "SIMULATED" in robust.describe_sweep(table, by="date")


def test_window_sweep_shape():
    table = robust.window_sweep(_series("rustock", 0), "2011-03-16", pre=(120, 240), post=(60, 120),
                                effect="step+slope", seasonality="dow", n_draws=300)
    assert list(table.columns) == ["pre", "post", "window", *SWEEP_TAIL]
    assert len(table) == 2 * 2 * 2  # two terms per fit
    assert set(zip(table["pre"], table["post"], strict=True)) == {(120, 60), (120, 120), (240, 60), (240, 120)}


# --- across takedowns ------------------------------------------------------------------------------------------


@functools.cache
def _takedowns() -> pd.DataFrame:
    fits = robust.fit_events(["rustock", "rustock-holiday"], effect="decay", seasonality="dow", n_draws=300)
    return robust.takedown_table(fits)


def test_takedown_table_and_summary():
    table = _takedowns()
    assert list(table.columns) == robust.TAKEDOWN_COLUMNS
    assert list(table["kind"]) == ["takedown", "pause"]
    assert table.columns.name == "SIMULATED"
    text = robust.cross_takedown_summary(table)
    assert text.startswith("SIMULATED") and "Caveats" in text and "rustock-holiday" in text
    assert json.dumps(robust.to_dict(placebo=_placebo()))  # JSON-ready


# --- errors ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("call", "match"), [
    (lambda y: robust.placebo_in_time(y, "2011-03-16", effect=["step"]), "effect"),
    (lambda y: robust.placebo_in_time(y, "2011-03-16", min_pre=0), "min_pre"),
    (lambda y: robust.placebo_in_time(y, "2011-03-16", min_post=1.5), "min_post"),
    (lambda y: robust.placebo_in_time(y, "2011-03-16", min_pre=300, min_post=300), "no admissible"),
    (lambda y: robust.placebo_in_time(y, "2011-03-16", gap=-1), "gap"),
    (lambda y: robust.placebo_in_time(y, "2011-03-16", famly="negbin"), "famly"),
    (lambda y: robust.placebo_in_time(y, ["2011-03-16", "2011-01-01"]), "one event"),
    (lambda y: robust.date_sweep(y, "2011-03-16"), "2011-03-16"),
    (lambda y: robust.date_sweep(y, pd.Timestamp("2011-03-16")), "date_lo"),
    (lambda y: robust.window_sweep(y, "2011-03-16", pre=()), "pre"),
    (lambda y: robust.break_scan(y, trim=2), "trim"),
    (lambda y: robust.break_scan(y, "2011-05-01", "2011-01-01"), "no candidate"),
    (lambda y: robust.break_scan(y, effect="decay"), "decay_rate"),
    (lambda y: robust.break_scan(y, errors="robust"), "errors"),
    (lambda y: robust.takedown_table({}), "fits"),
])
def test_bad_arguments_raise_model_spec_errors(call, match):
    from spamits.errors import UnknownEventError

    with pytest.raises((ModelSpecError, UnknownEventError), match=match):
        call(_series("rustock", 0))


# --- figures -----------------------------------------------------------------------------------------------------


def test_figures_say_simulated_and_are_deterministic():
    y = _series("rustock", 0)
    scan = robust.break_scan(y, family="gaussian-log", errors="iid", seasonality="dow")
    sweep = robust.window_sweep(y, "2011-03-16", pre=(120,), post=(60, 120), seasonality="dow", n_draws=200)
    figs = [plots.fig_placebo(_placebo()), plots.fig_sweep(sweep, x="window"),
            plots.fig_break_scan(scan, catalog_date="2011-03-16"), plots.fig_forest(_takedowns())]
    for fig in figs:
        assert "SIMULATED" in fig.layout.title.text
        assert any("SIMULATED" in (trace.name or "") for trace in fig.data)
        assert any("Source:" in a.text for a in fig.layout.annotations)
        assert fig.to_json() == fig.to_json()


def test_scans_run_its_fit_default_ar1_as_the_ar1_sandwich_and_say_so():
    """errors="ar1" (feasible GLS) is not batched: the placebo scan fits the real date and every placebo date
    with the independence estimates and the AR(1) sandwich, and its spec says so."""
    result = _placebo("negbin", "ar1", "step")
    assert result.spec["errors"] == "ar1-sandwich"
    assert result.fit.errors == "ar1-sandwich"
    ref = its.fit(_series("mccolo", 3), "2008-11-11", errors="ar1-sandwich", seasonality="dow")
    assert result.observed == pytest.approx(ref.effects.set_index("term").loc["level", "estimate"], abs=1e-9)
    with pytest.raises(ModelSpecError, match="errors="):
        robust.break_scan(_series("rustock", 1), errors="gls")


# --- the catalog by era and kind --------------------------------------------------------------------------------

REAL_FITS = {"emotet-pause-2022-07": "untroubled", "emotet-pause-2022-07-end": "untroubled",
             "phorpiex-lockbitblack-2024": "untroubled"}


def _real_table(rows: list[tuple[str, str, float, float, float]]) -> pd.DataFrame:
    """A takedown_table-shaped frame of REAL rows (event, kind, change, low, high); nothing is fitted."""
    out = pd.DataFrame([{c: np.nan for c in robust.TAKEDOWN_COLUMNS} | {
        "event": f"{e}{robust.REAL_SUFFIX}", "data": robust.REAL, "kind": k, "immediate_change": v,
        "immediate_change_low": lo, "immediate_change_high": hi} for e, k, v, lo, hi in rows])
    return out


def test_catalog_groups_by_era_and_kind_with_their_series():
    groups = robust.catalog_groups(REAL_FITS)
    table = robust.group_table(groups).set_index("group")
    assert list(table.index) == list(robust.GROUPS)
    assert table["events"].to_dict() == {"takedowns 2008-2012": 15, "takedowns 2013-2021": 3,
                                         "disruptions 2022-2026": 27, "pauses": 11, "surges": 1}
    assert table.loc["pauses", ["real fit", "simulated only", "neither"]].tolist() == [1, 1, 9]
    assert table.loc["pauses", "real ids"] == "emotet-pause-2022-07" and table.loc["surges", "real fit"] == 1
    assert table.loc["takedowns 2008-2012", "simulated only"] == 4  # mccolo, intercage, rustock, grum
    by_id = groups.set_index("id")
    assert by_id.loc["emotet-pause-2022-07", "real"] == "emotet-pause-2022-07, emotet-pause-2022-07-end"
    assert by_id.loc["emotet-pause-2022-07", "simulated"].startswith("SIMULATED: pause, drop 50%")
    recent = by_id[by_id["date"] >= "2022"].drop("emotet-pause-2022-07")
    assert (recent["simulated"] == robust.NO_SIMULATION).all() and len(recent) == 35
    assert by_id.loc["srizbi", "simulated"] == "no simulated series (none made for this event)"
    assert robust.group_of("takedown", pd.Timestamp("2020-03-10")) == "takedowns 2013-2021"
    with pytest.raises(ModelSpecError, match="not in the catalog"):
        robust.catalog_groups({"nope-end": "untroubled"})


def test_group_findings_say_what_real_fits_support_and_cannot():
    groups = robust.catalog_groups(REAL_FITS)
    table = _real_table([("emotet-pause-2022-07", "pause", -0.4, -0.6, -0.2),
                         ("emotet-pause-2022-07-end", "pause", 0.1, -0.1, 0.3),
                         ("phorpiex-lockbitblack-2024", "surge", 2.0, 1.2, 3.1)])
    text = robust.group_findings(groups, table)
    assert "pauses (11 events, 2 with a simulated series, 1 with a real fit):" in text
    assert "emotet-pause-2022-07 (REAL): immediate change -40% [-60%, -20%], a drop" in text
    assert "emotet-pause-2022-07-end (REAL): immediate change +10% [-10%, +30%], no clear change" in text
    assert "phorpiex-lockbitblack-2024 (REAL): immediate change +200% [+120%, +310%], a rise" in text
    assert "the trap saw the surge" in text and "surges (1 event, 0 with" in text
    assert "disruptions 2022-2026 (27 events, 0 with a simulated series, 0 with a real fit):\n  cannot: no " in text
    quiet = robust.group_findings(groups, _real_table([("phorpiex-lockbitblack-2024", "surge", 0.1, -0.2, 0.4)]))
    assert "the trap did not show the surge" in quiet
    assert "real fits were asked for but none is in the table" in robust.group_findings(groups, None)


def test_fig_groups_stacks_the_statuses_per_group():
    fig = plots.fig_groups(robust.group_table(robust.catalog_groups(REAL_FITS)))
    assert [t.name for t in fig.data] == ["REAL fit", "SIMULATED series only", "no series"]
    assert list(fig.data[0].y) == list(robust.GROUPS) and sum(sum(t.x) for t in fig.data) == 57
    assert fig.layout.barmode == "stack" and "events (count)" in fig.layout.xaxis.title.text

"""The notebooks' tables for people: one builder per result table, each a captioned ``DisplayTable``.

Every builder takes the library's tidy table (or result) and shows it with a title, units in the headers,
percentages rounded to what their intervals support, intervals as ``−67% [−74%, −58%]``, dates without times
and SIMULATED in the caption.  The numbers behind them are unchanged in ``results.json``.  :func:`table` (from
:mod:`spamits._display`) formats any other frame.
"""

from __future__ import annotations

import math

import pandas as pd

from spamits._display import (
    DisplayTable,
    fmt_count,
    fmt_date,
    fmt_interval,
    fmt_number,
    fmt_p,
    fmt_pct,
    table,
)

__all__ = ["comparison_table", "effects_table", "errors_table", "events_table", "impact_table", "methods_table",
           "overlap_table", "placebo_table", "precheck_table", "recovery_table", "residual_tests_table", "stress_table",
           "study_table", "sweep_table", "table", "takedown_table", "vendor_table"]

_INTERVAL = "estimate [95% interval]"


def _level(alpha: float) -> str:
    return f"{100 * (1 - alpha):.0f}%"


def effects_table(result: object, caption: str = "Effect of each event") -> DisplayTable:
    """``result.effects`` for people: immediate change (%), decay rate, half-life (periods), p-values."""
    eff = result.effects
    level = _level(result.alpha)
    rows = []
    for r in eff.itertuples():
        if r.term in ("level", "slope"):
            what = "immediate change (%)" if r.term == "level" else f"change of trend (% per {result.unit[:-1]})"
            text = fmt_interval(r.ratio - 1, r.ratio_low - 1, r.ratio_high - 1)
            if "pp" in eff.columns and r.term == "level":
                text += f"; {fmt_interval(r.pp, r.pp_low, r.pp_high, 'pp')}"
            rows.append({"event": r.event, "quantity": what, f"estimate [{level} interval]": text,
                         "p-value": fmt_p(r.p_value)})
        elif r.term == "decay_rate":
            rows.append({"event": r.event, "quantity": f"decay rate (share of the effect left after one "
                                                         f"{result.unit[:-1]})",
                         f"estimate [{level} interval]": fmt_interval(r.estimate, r.ci_low, r.ci_high, "num", 3),
                         "p-value": ""})
        elif r.term == "half_life":
            rows.append({"event": r.event, "quantity": f"half-life ({result.unit})",
                         f"estimate [{level} interval]": fmt_interval(r.estimate, r.ci_low, r.ci_high, "num"),
                         "p-value": ""})
    return table(pd.DataFrame(rows), caption, None, simulated=result.simulated,
                 notes="Immediate change: the effect on the event's first period, as a relative change; half-life "
                       "interval from the profile likelihood (asymmetric; ∞: no upper bound).")


def impact_table(result: object, horizons: tuple[int, ...] | None = None) -> DisplayTable:
    """``result.impact_table`` for people: relative (%) and cumulative (messages) effect per window (default
    horizons: 7, 30 and 90 periods; 24, 168 and 720 hours on hourly series)."""
    frame = result.impact_table(horizons=horizons)
    shown = pd.DataFrame({
        "window": frame["window"],
        "dates": [f"{a} to {b}" if result.freq == "H" else f"{fmt_date(a)} to {fmt_date(b)}"
                  for a, b in zip(frame["start"], frame["end"], strict=True)],
        "observed (messages)": [fmt_count(v) for v in frame["observed"]],
        "counterfactual (messages)": [fmt_count(v) for v in frame["counterfactual"]],
        f"relative effect [{_level(result.alpha)}]": [fmt_interval(*v) for v in zip(
            frame["relative"], frame["relative_low"], frame["relative_high"], strict=True)],
        "cumulative effect (messages)": [fmt_interval(*v, kind="num", digits=0) for v in zip(
            frame["cumulative"], frame["cumulative_low"], frame["cumulative_high"], strict=True)],
    })
    calibrated = frame["interval"].ne("model").any()
    how = (" Intervals calibrated on the fit's errors over pre-period windows of the same length (burst periods "
           "before the event; see the notes)." if calibrated else "")
    return table(shown, "Impact of the event by window", None, simulated=result.simulated,
                 notes="Relative: observed / counterfactual − 1 over the window; cumulative: messages gained "
                       f"(negative: prevented).{how}")


def recovery_table(result: object, fractions: tuple[float, ...] = (0.5, 0.9)) -> DisplayTable:
    """``result.recovery_time`` for each fraction: periods until spam was back and stayed back."""
    rows = []
    for fraction in fractions:
        rec = result.recovery_time(fraction)
        if rec["within_window"] and rec["estimate"] == 0 and rec["high"] == 0:
            text = "at once: never below this share"
        elif rec["within_window"]:
            high = fmt_number(rec["high"], 0) if rec["high"] is not None else "beyond the window"
            text = f"{fmt_number(rec['estimate'], 0)} [{fmt_number(rec['low'], 0)}, {high}]"
        else:
            text = f"not within the {rec['window_periods']}-{rec['unit'][:-1]} window"
        rows.append({"spam back to": f"{100 * fraction:.0f}% of the counterfactual",
                     f"{rec['unit']} after the event [{_level(result.alpha)} interval]": text})
    return table(pd.DataFrame(rows), "Recovery: time until spam was back and stayed back", None,
                 simulated=result.simulated)


def residual_tests_table(diagnostics: dict, simulated: bool = False) -> DisplayTable:
    """Ljung-Box and Breusch-Godfrey tests of the residuals in one table."""
    rows = []
    for name, key in (("Ljung-Box", "ljung_box"), ("Breusch-Godfrey", "breusch_godfrey")):
        for r in diagnostics[key].itertuples():
            rows.append({"test": name, "lags": int(r.lag), "statistic (χ²)": fmt_number(r.statistic, 1),
                         "p-value": fmt_p(r.p_value)})
    return table(pd.DataFrame(rows), "Residual autocorrelation tests (small p: autocorrelation left)", None,
                 simulated=simulated)


def precheck_table(check: object, simulated: bool = False) -> DisplayTable:
    """``spamits.its.precheck`` for people: one row per check (burst periods, wandering level, earlier break),
    what it measured and whether it fired."""
    bursts = check.bursts
    burst_text = ("none" if not len(bursts) else f"{len(bursts)}, up to {fmt_number(bursts['ratio'].max(), 1)} "
                  f"times the baseline (first {fmt_date(bursts['date'].iloc[0])})")
    brk = "none" if check.break_date is None else \
        f"{fmt_date(check.break_date)} (sup-F {fmt_number(check.break_f, 1)})"
    near = ", ".join(check.break_events) or "none"
    kpss = "≥ 0.1" if check.kpss_p >= 0.1 else fmt_p(check.kpss_p)  # its table's p-values stop at 0.1
    rows = [
        {"check": "burst periods (robust z > 4)", "result": burst_text, "fired": "yes" if len(bursts) else "no"},
        {"check": "wandering level (KPSS, ADF)", "result": f"KPSS p {kpss}, ADF p {fmt_p(check.adf_p)}",
         "fired": "yes" if check.wandering else "no"},
        {"check": "earlier break (sup-F scan, 5% level)", "result": f"most likely {brk}; catalog events near: {near}",
         "fired": "yes" if check.break_found else "no"},
    ]
    return table(pd.DataFrame(rows), "Pre-period checks of the model's assumptions (fired: read the Findings' "
                 "caveats)", None, simulated=simulated)


def comparison_table(comparison: pd.DataFrame, horizon: int = 30) -> DisplayTable:
    """``its.compare`` for people: one short row per effect shape and error model."""
    rel = f"relative_{horizon}"
    shown = pd.DataFrame({
        "model (effect / errors)": comparison["model"],
        "ΔAIC": [fmt_number(v, 1) for v in comparison["delta_aic"]],
        "residual AR(1)": [fmt_number(v, 2) for v in comparison["residual_ar1"]],
        "Breusch-Godfrey p": [fmt_p(v) for v in comparison["breusch_godfrey_p"]],
        "immediate change": [fmt_pct(v) for v in comparison["immediate_change"]],
        "half-life (days)": [fmt_number(v, 1) if v == v else "—" for v in comparison["half_life"]],
        f"first {horizon} days [95%]": [fmt_interval(*v) for v in zip(
            comparison[rel], comparison[f"{rel}_low"], comparison[f"{rel}_high"], strict=True)],
    })
    family = ", ".join(dict.fromkeys(comparison["family"]))
    return table(shown, f"Effect shapes and error models compared ({family})", None,
                 simulated=comparison.columns.name == "SIMULATED",
                 notes="ΔAIC: against the best shape with the same error model (above 10: strong support).")


def placebo_table(placebo: object) -> DisplayTable:
    """A placebo-in-time test in a few rows: the dates, the real estimate against the placebo estimates."""
    est = placebo.table["estimate"]

    def pct(log_change: float) -> str:
        return fmt_pct(math.expm1(float(log_change)), 1)

    excluding = (placebo.table["ci_low"] > 0) | (placebo.table["ci_high"] < 0)
    rows = [("placebo dates", f"{placebo.n} ({fmt_date(placebo.dates[0])} to {fmt_date(placebo.dates[-1])})"),
            ("real estimate (immediate change)", pct(placebo.observed)),
            ("placebo estimates: median", pct(est.median())),
            ("placebo estimates: 2.5% to 97.5%", f"{pct(est.quantile(0.025))} to {pct(est.quantile(0.975))}"),
            ("placebo intervals excluding zero", f"{int(excluding.sum())} of {placebo.n}"),
            ("empirical p-value (two-sided)", fmt_p(placebo.p_value))]
    frame = pd.DataFrame(rows, columns=["", "value"])
    return table(frame, f"Placebo-in-time test of {placebo.event}", None, simulated=placebo.simulated)


def sweep_table(sweep: pd.DataFrame, by: str) -> DisplayTable:
    """``robust.date_sweep`` (``by="date"``) or ``window_sweep`` (``by="window"``): one row per fit."""
    keys = ["date"] if by == "date" else ["window"]
    rows = []
    for key, group in sweep.groupby(keys, sort=False):
        terms = group.set_index("term")
        first = group.iloc[0]
        row = {"event date" if by == "date" else "window (periods before / from the event)":
               fmt_date(key[0]) + (" (catalog)" if by == "date" and bool(first["catalog"]) else "")
               if by == "date" else key[0]}
        if "level" in terms.index:
            lev = terms.loc["level"]
            row["immediate change [95%]"] = fmt_interval(lev["ratio"] - 1, lev["ratio_low"] - 1, lev["ratio_high"] - 1)
        if "half_life" in terms.index:
            hl = terms.loc["half_life"]
            row["half-life (days) [95%]"] = fmt_interval(hl["estimate"], hl["ci_low"], hl["ci_high"], "num")
        row["first 30 days [95%]"] = fmt_interval(first["relative_30"], first["relative_30_low"],
                                                  first["relative_30_high"])
        rows.append(row)
    caption = "Estimates by event date within the sources' range" if by == "date" else "Estimates by analysis window"
    return table(pd.DataFrame(rows), caption, None, simulated=sweep.columns.name == "SIMULATED")


def events_table(frame: pd.DataFrame) -> DisplayTable:
    """Catalog rows (``events.load()``) for people: id, name (wraps), date, the sources' range, mechanism, kind."""
    return table(frame.reset_index() if "id" not in frame.columns else frame, "Catalog events compared",
                 {"id": "id", "name": "name", "date": ("date", "date"), "earliest": ("date", "date_lo"),
                  "latest": ("date", "date_hi"), "mechanism": "mechanism", "kind": "kind"},
                 notes="earliest / latest: the range of dates the sources give (data/events.csv).")


def takedown_table(frame: pd.DataFrame) -> DisplayTable:
    """``robust.takedown_table`` for people: one row per event with its intervals."""
    unit = frame["unit"].iloc[0] if len(frame) else "days"
    return table(frame, "Immediate change, half-life and 30-day effect by event",
                 {"event": "event", "data": "data", "kind": "kind", "date": ("date", "date"), "effect": "effect",
                  "immediate change [95%]": ("pct", "immediate_change", "immediate_change_low",
                                             "immediate_change_high"),
                  f"half-life ({unit}) [95%]": ("num", "half_life", "half_life_low", "half_life_high"),
                  "first 30 days [95%]": ("pct", "relative_30", "relative_30_low", "relative_30_high")},
                 notes="—: no half-life (the fit has no decay term); ∞: the interval has no upper bound.")


_STUDY = {"design": "design", "event": "event", "phi": ("num1", "phi"), "drop": ("pct", "drop"),
          "half-life (days)": ("num0", "half_life"), "method": "method", "series": ("count", "n"),
          "bias (pp)": ("num1", "bias_pp"), "RMSE (pp)": ("num1", "rmse_pp"), "coverage": ("pct", "coverage"),
          "mean width (pp)": ("num1", "width_pp"), "level coverage": ("pct", "level_coverage"),
          "median half-life (days) [MC 95%]": ("num", "median_half_life", "median_half_life_low",
                                               "median_half_life_high"),
          "half-life coverage": ("pct", "half_life_coverage")}


def study_table(frame: pd.DataFrame, caption: str = "Bias, RMSE and coverage per design cell and method"
                ) -> DisplayTable:
    """``StudyResult.table`` (or ``overlap()``) for people: fractions as %, bias and widths in points."""
    shown = frame.assign(bias_pp=100 * frame["bias"], rmse_pp=100 * frame["rmse"], width_pp=100 * frame["mean_width"])
    return table(shown, caption, _STUDY, simulated=True,
                 notes="Relative effect over the first 30 days; pp: percentage points; coverage: share of series "
                       "whose 95% interval holds the truth; MC: Monte Carlo interval of the median.")


def overlap_table(frame: pd.DataFrame) -> DisplayTable:
    """``StudyResult.overlap()``: each of the two overlapping events' contribution."""
    return study_table(frame, "Two overlapping events: each event's contribution, per phi and method")


def methods_table(frame: pd.DataFrame) -> DisplayTable:
    """``StudyResult.by_method()``: one row per method over the whole grid."""
    shown = frame.assign(bias_pp=100 * frame["mean_abs_bias"], rmse_pp=100 * frame["rmse"],
                         width_pp=100 * frame["mean_width"])
    return table(shown, "Methods compared over the whole grid", {
        "method": "method", "cells": ("count", "cells"), "series": ("count", "n"),
        "coverage (pooled)": ("pct1", "coverage"), "mean cell coverage": ("pct1", "mean_coverage"),
        "worst cell": ("pct", "min_coverage"), "mean |bias| (pp)": ("num1", "bias_pp"),
        "RMSE (pp)": ("num1", "rmse_pp"),
        "mean width (pp)": ("num1", "width_pp"), "level coverage": ("pct1", "level_coverage"),
        "half-life coverage": ("pct1", "half_life_coverage")}, simulated=True,
        notes="Coverage of the 95% intervals of the 30-day relative effect; pp: percentage points.")


def errors_table(frame: pd.DataFrame) -> DisplayTable:
    """``StudyResult.recommended_errors()``: the error model closest to nominal coverage, per family."""
    shown = frame.assign(gap_pp=100 * frame["mean_abs_gap"])
    return table(shown, "Error model closest to the nominal 95%, per family", {
        "family": "family", "error model": "errors", "models compared": "compared",
        "mean |coverage − 95%| (pp)": ("num1", "gap_pp"), "coverage (pooled)": ("pct1", "coverage"),
        "level coverage": ("pct1", "level_coverage"), "worst cell": ("pct", "min_coverage")}, simulated=True)


def stress_table(frame: pd.DataFrame) -> DisplayTable:
    """``StressResult.table`` for people: one row per stress case and method, coverage as %, bias, RMSE and
    width in percentage points, the median half-life in days (timings left out: they vary from run to run)."""
    shown = frame.assign(bias_pp=100 * frame["bias"], rmse_pp=100 * frame["rmse"], width_pp=100 * frame["mean_width"])
    return table(shown, "Coverage on the stress cases, per case and method", {
        "case": "case", "method": "method", "series": ("count", "n"), "failed fits": ("count", "failed"),
        "coverage": ("pct", "coverage"), "bias (pp)": ("num1", "bias_pp"), "RMSE (pp)": ("num1", "rmse_pp"),
        "mean width (pp)": ("num1", "width_pp"), "median half-life (days)": ("num1", "median_half_life_days")},
        simulated=True, notes="Relative effect over the first 30 days; pp: percentage points; coverage: share of "
                              "the fitted series whose 95% interval holds the truth (target 90–97%).")


def vendor_table(fitted_table: DisplayTable) -> DisplayTable:
    """``vendor_fits.fit_candidates``' table for people: one row per vendor and event, the change as an interval."""
    frame = fitted_table.frame
    fitted = frame["status"] == "fitted"
    change = [fmt_interval(e, lo, hi, "pp", 1) if ok else "" for e, lo, hi, ok in zip(
        frame["level change (pp)"], frame["pp low"], frame["pp high"], fitted, strict=True)]
    shown = pd.DataFrame({"vendor": frame["vendor"], "event": frame["event"], "window": frame["window"],
                          "months with a figure": frame["months observed"],
                          "before / from the event": [f"{b} / {a}" if ok else f"{b} / —" for b, a, ok in zip(
                              frame["observed before"], frame["observed from event"], fitted, strict=True)],
                          "status": frame["status"], "level change [95%]": change,
                          "p-value": [fmt_p(p) if ok else "" for p, ok in zip(frame["p value"], fitted, strict=True)]})
    return table(shown, "Monthly ITS of vendors' published spam shares (REAL figures, data/vendor_figures.csv)", None,
                 simulated=False, notes="gaussian-logit, one step per event, no seasonality, AR(1) errors; pp: "
                                        "percentage points of the share of mail that is spam.")

"""Monthly ITS fits of the vendors' published spam shares (``data/vendor_figures.csv``) around takedowns.

Each :class:`Candidate` is one vendor and one metric (never mixed), a window of months and the events fitted in
it.  :func:`fit_candidates` fits every candidate with ``spamits.its.fit(family="gaussian-logit",
effect="step", seasonality=None, errors="ar1")`` (shares on the logit scale, missing months left missing) and
records why a candidate could not be fitted (too few observed months before the event: ``ModelSpecError``).
:func:`precision` turns the fitted intervals into the smallest change the data could have told from no change.
The figures are real published values; nothing here is simulated.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from spamits import data, events
from spamits._display import DisplayTable
from spamits.errors import ModelSpecError, SpamitsWarning
from spamits.its import ITSResult, fit

__all__ = ["CANDIDATES", "Candidate", "candidates_table", "figure_inputs", "fit_candidates", "not_fitted", "precision",
           "precision_statement", "results", "sources_table", "summary", "fit_notes", "window_series"]

FIT_OPTIONS = {"family": "gaussian-logit", "effect": "step", "seasonality": None, "errors": "ar1"}


@dataclass(frozen=True)
class Candidate:
    """One vendor and metric, the months ``start``..``end`` (``YYYY-MM``) and the events fitted jointly."""

    vendor: str
    metric: str
    events: tuple[str, ...]
    start: str
    end: str
    why: str
    """Why this window: what it avoids (method changes, neighbouring events)."""

    @property
    def name(self) -> str:
        return f"{self.vendor} / {' + '.join(self.events)}"


CANDIDATES = (
    Candidate("Symantec State of Spam", "spam_percentage_of_messages", ("spamit",), "2009-05", "2011-02",
              "starts after the spring-2009 change of method (level break), ends before Rustock (March 2011)"),
    Candidate("MessageLabs/Symantec Intelligence", "global_spam_rate", ("spamit", "rustock"), "2009-01", "2011-11",
              "starts after the conflicting 2008-11 figures; SpamIt and Rustock fitted jointly (one step each)"),
    Candidate("Kaspersky", "spam_share_of_email_traffic", ("grum",), "2010-10", "2013-09",
              "starts after SpamIt; the pre-period contains Rustock (March 2011), absorbed only by the trend"),
    Candidate("MessageLabs/Symantec Intelligence", "global_spam_rate", ("mccolo",), "2007-02", "2009-08",
              "McColo: the vendor's 2007-2008 figures are sparse"),
    Candidate("Symantec State of Spam", "spam_percentage_of_messages", ("mccolo",), "2007-11", "2009-03",
              "McColo: ends before the spring-2009 change of method"),
    Candidate("Kaspersky", "spam_share_of_email_traffic", ("rustock",), "2010-01", "2011-12",
              "Rustock, in Kaspersky's monthly figures"),
    Candidate("Kaspersky", "spam_share_of_email_traffic", ("spamit",), "2010-01", "2011-02",
              "SpamIt, in Kaspersky's monthly figures, ending before Rustock"),
)


def window_series(candidate: Candidate) -> pd.Series:
    """The candidate's monthly series (``freq="MS"``), months without a figure NaN; conflicts keep the first row."""
    series = data.vendor_series(candidate.vendor, candidate.metric, conflict="keep-first")
    index = pd.date_range(candidate.start, candidate.end, freq="MS", name="period")
    out = series.reindex(index)
    out.attrs = {**series.attrs, "title": f"{candidate.vendor}: {candidate.metric}"}
    return out


def fit_candidates(candidates: tuple[Candidate, ...] = CANDIDATES, *, alpha: float = 0.05
                   ) -> tuple[dict[str, ITSResult], DisplayTable]:
    """Fit every candidate; returns the fits by name and one table row per candidate and event.

    The table gives the observed months before the first event and from each event on, the level change in
    percentage points with its interval, and, for candidates that could not be fitted, the reason.
    """
    fits: dict[str, ITSResult] = {}
    rows = []
    for cand in candidates:
        y = window_series(cand)
        evs = [events.get(e) for e in cand.events]
        base = {"vendor": cand.vendor, "metric": cand.metric, "window": f"{cand.start} to {cand.end}",
                "months observed": int(y.notna().sum()), "months in window": len(y)}
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", SpamitsWarning)
                result = fit(y, evs if len(evs) > 1 else evs[0], alpha=alpha, **FIT_OPTIONS)
        except ModelSpecError as exc:
            before = int(y[y.index < pd.Timestamp(evs[0].date).to_period("M").start_time].notna().sum())
            rows.append({**base, "event": ", ".join(cand.events), "observed before": before,
                         "observed from event": None, "status": "not fitted", "notes": str(exc)})
            continue
        fits[cand.name] = result
        notes = "; ".join(sorted({str(w.message).split(";")[0] for w in caught}))
        rows.extend(_effect_rows(base, y, result, notes))
    frame = pd.DataFrame(rows)
    for column in ("observed before", "observed from event"):
        frame[column] = frame[column].astype("Int64")
    return fits, DisplayTable(frame, caption=(
        "Monthly ITS of vendors' published spam shares (real figures, data/vendor_figures.csv): gaussian-logit, "
        "step, no seasonality, AR(1) errors; pp = percentage points; one vendor and metric per row"))


def _effect_rows(base: dict, y: pd.Series, result: ITSResult, notes: str) -> list[dict]:
    effects = result.effects
    starts = {e: pd.Timestamp(events.get(e).date).to_period("M").start_time for e in result.events}
    ordered = sorted(result.events, key=lambda e: starts[e])
    rows = []
    for i, event in enumerate(ordered):
        row = effects[(effects["event"] == event) & (effects["term"] == "level")].iloc[0]
        end = starts[ordered[i + 1]] if i + 1 < len(ordered) else y.index[-1] + pd.offsets.MonthBegin(1)
        rows.append({**base, "event": event,
                     "observed before": int(y[y.index < starts[ordered[0]]].notna().sum()),
                     "observed from event": int(y[(y.index >= starts[event]) & (y.index < end)].notna().sum()),
                     "status": "fitted", "level change (pp)": round(float(row["pp"]), 2),
                     "pp low": round(float(row["pp_low"]), 2), "pp high": round(float(row["pp_high"]), 2),
                     "odds ratio": round(float(row["ratio"]), 3), "p value": round(float(row["p_value"]), 4),
                     "notes": notes})
    return rows


def precision(table: DisplayTable, *, alpha: float = 0.05, power: float = 0.8) -> DisplayTable:
    """For each fitted row: interval width and the smallest level change detectable with ``power``.

    The standard error is read off the interval (width / 2 z), and the minimal detectable change is
    ``(z_{1-alpha/2} + z_{power}) * SE`` in percentage points (the usual normal approximation).
    """
    frame = table.frame
    fitted = frame[frame["status"] == "fitted"].copy()
    z = stats.norm.ppf(1 - alpha / 2)
    width = fitted["pp high"] - fitted["pp low"]
    fitted["interval width (pp)"] = width.round(2)
    fitted["minimal detectable change (pp)"] = ((z + stats.norm.ppf(power)) * width / (2 * z)).round(1)
    keep = ["vendor", "event", "observed before", "observed from event", "level change (pp)",
            "interval width (pp)", "minimal detectable change (pp)"]
    return DisplayTable(fitted[keep].reset_index(drop=True), caption=(
        f"How much the sparse monthly figures can say: {int((1 - alpha) * 100)}% interval widths and the smallest "
        f"level change detectable with {int(power * 100)}% power"))


def precision_statement(table: DisplayTable, precise: DisplayTable) -> str:
    """Plain sentences on what the sparse monthly data can and cannot tell, computed from the tables."""
    frame, p = table.frame, precise.frame
    failed = frame[frame["status"] != "fitted"]
    widths = p["interval width (pp)"].to_numpy(dtype=float)
    mdc = p["minimal detectable change (pp)"].to_numpy(dtype=float)
    n_after = p["observed from event"].to_numpy(dtype=int)
    lines = [
        f"{len(p)} event effects were estimated from {len(set(frame.loc[frame['status'] == 'fitted', 'vendor']))} "
        f"vendors' series, each with {int(p['observed before'].min())} to {int(p['observed before'].max())} observed "
        f"months before the first event and {n_after.min()} to {n_after.max()} from the event on.",
        f"Their intervals are {widths.min():.1f} to {widths.max():.1f} percentage points wide (median "
        f"{np.median(widths):.1f}); a level change smaller than about {mdc.min():.0f} to {mdc.max():.0f} points "
        f"(median {np.median(mdc):.0f}) could not have been told apart from no change with 80% power.",
        f"{len(failed)} candidate series could not be fitted at all ("
        + "; ".join(f"{r['vendor']} around {r['event']}: {r['months observed']} months with a figure in the window, "
                    f"{r['observed before']} before the event" for r in failed.to_dict("records"))
        + "): a fit needs at least 10 observed months, 8 of them before the event.",
        "Most takedown dips in data/events.csv lasted days to weeks; monthly averages with missing months dilute such "
        "dips, so these fits can only detect large, lasting shifts in the share of mail that is spam.",
    ]
    return "\n".join(lines)


def sources_table(candidate: Candidate) -> DisplayTable:
    """The pages the candidate's figures were read from, one row per month with a figure."""
    rows = data.vendor_figures(vendor=candidate.vendor, metric=candidate.metric)
    rows = rows[(rows["period_kind"] == "month") & (rows["period"] >= candidate.start) &
                (rows["period"] <= candidate.end)]
    shown = rows[["period", "value", "unit", "conflict", "source_url"]].reset_index(drop=True)
    return DisplayTable(shown, caption=f"Sources of {candidate.vendor} {candidate.metric}, "
                                       f"{candidate.start} to {candidate.end} (data/vendor_figures.csv)")


def candidates_table(candidates: tuple[Candidate, ...] = CANDIDATES) -> DisplayTable:
    """The candidate series: vendor, metric, window, events and why the window was chosen."""
    rows = [{"vendor": c.vendor, "metric": c.metric, "window": f"{c.start} to {c.end}",
             "events": ", ".join(c.events), "why this window": c.why} for c in candidates]
    return DisplayTable(pd.DataFrame(rows), caption="Candidate series (one vendor and metric each)")


def not_fitted(table: DisplayTable) -> DisplayTable:
    """The rows of :func:`fit_candidates`' table that could not be fitted, with the reason."""
    frame = table.frame
    rows = frame.loc[frame["status"] != "fitted", ["vendor", "event", "window", "months observed",
                                                   "observed before", "notes"]]
    rows = rows.rename(columns={"notes": "why it could not be fitted"})
    return DisplayTable(rows.reset_index(drop=True), caption="Candidates that could not be fitted, and why")


def figure_inputs(candidate: Candidate, result: ITSResult) -> dict:
    """What the figure of one candidate's fit shows (``spamits.plots.fig_vendor_fit`` draws it): the fitted
    ``frame``, the event ``events`` marks, ``title``, ``unit`` and ``source`` (the pages read, for the caption)."""
    pages = len(sources_table(candidate).frame["source_url"].unique())
    marks = [(events.get(e).date, e) for e in candidate.events]
    unit = data.vendor_series(candidate.vendor, candidate.metric, conflict="keep-first").attrs["unit"]
    return {"frame": result.frame, "events": marks,
            "title": f"{candidate.vendor}: {candidate.metric} ({candidate.start} to {candidate.end})",
            "unit": f"spam ({unit})",
            "source": f"{candidate.vendor} monthly figures as published, read from {pages} pages listed below "
                      f"(data/vendor_figures.csv); missing months left missing"}


def results(table: DisplayTable, *, alpha: float) -> dict:
    """JSON-ready summary for the report index (``results.json``); no takedown headline (several events)."""
    frame = table.frame.astype(object).where(table.frame.notna(), None)
    fitted = list(dict.fromkeys(table.frame.loc[table.frame["status"] == "fitted", "event"]))
    return {"run": {**{k: v for k, v in FIT_OPTIONS.items() if v is not None}, "alpha": alpha},
            "event": {"id": "", "date": "", "name": f"{', '.join(fitted)} (vendors' monthly figures)"},
            "data": {"source": "data/vendor_figures.csv", "simulated": False},
            "fits": frame.to_dict("records")}


def summary(table: DisplayTable) -> DisplayTable:
    """The compact view of :func:`fit_candidates`' table: counts of months, status and the level change."""
    keep = ["vendor", "event", "window", "months observed", "observed before", "observed from event", "status",
            "level change (pp)", "pp low", "pp high", "p value"]
    frame = table.frame[keep].astype(object).where(table.frame[keep].notna(), "")
    return DisplayTable(frame, caption=table.caption)


def fit_notes(table: DisplayTable) -> DisplayTable:
    """What the fits warned about (e.g. a pre-period shorter than three years), one row per fitted series."""
    frame = table.frame
    rows = frame.loc[(frame["status"] == "fitted") & frame["notes"].astype(bool), ["vendor", "window", "notes"]]
    return DisplayTable(rows.drop_duplicates().reset_index(drop=True), caption="Warnings raised by the fits")


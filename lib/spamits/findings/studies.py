"""Findings of the simulation study (``notebooks/validation.ipynb``), the vendors' monthly figures
(``notebooks/vendor_figures.ipynb``) and the spam-trap audit (``notebooks/trap_audit.ipynb``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from spamits._display import fmt_number, fmt_pct
from spamits.findings._core import TABLE_COLUMNS, Findings, row

__all__ = ["audit_findings", "validation_findings", "vendor_findings"]


def validation_findings(study: object) -> Findings:
    """Findings of ``validation.simulation_study``: coverage per method, the error model to prefer, half-lives."""
    s = study.settings
    nominal = 100 * study.nominal
    lines = [f"SIMULATED data: every number comes from {s.get('seeds')} simulated series per design cell of known "
             "truth; it says how well the method recovers effects, not what happened to real spam."]
    rows = []
    methods = study.by_method()
    in_band = methods[(methods["coverage"] >= 0.90) & (methods["coverage"] <= 0.97)]
    lines.append(f"Coverage of the {nominal:.0f}% intervals of the {s.get('horizon')}-day relative effect, pooled "
                 "over cells: " + "; ".join(f"{r.method} {fmt_pct(r.coverage, 1, sign=False)} (worst cell "
                                            f"{fmt_pct(r.min_coverage, 0, sign=False)})"
                                            for r in methods.itertuples()) + ".")
    lines.append(f"{len(in_band)} of {len(methods)} methods are within 90–97% pooled"
                 + (f" ({', '.join(in_band['method'])})." if len(in_band) else "."))
    for r in methods.itertuples():
        rows.append(row(f"{r.method}: coverage", r.coverage, unit="fraction of series"))
    rec = study.recommended_errors()
    lines.append("Error model closest to nominal, per family: " + "; ".join(
        f"{r.family}: {r.errors} (mean gap {fmt_number(100 * r.mean_abs_gap, 1)} points over "
        f"{'the models ' + r.compared if ',' in r.compared else 'the only model run, ' + r.compared})"
        for r in rec.itertuples()) + ".")
    decay = study.table[(study.table["design"] == "decay") & study.table["median_half_life"].notna()]
    if len(decay):
        first = decay[decay["method"] == decay["method"].iloc[0]]
        err = (first["median_half_life"] / first["half_life"] - 1).to_numpy(dtype=float)
        worst = first.iloc[int(np.nanargmax(np.abs(err)))]
        lines.append(f"Half-life ({first['method'].iloc[0]}): the median estimate is within 15% of the truth in "
                     f"{int(np.sum(np.abs(err) <= 0.15))} of {len(first)} cells; furthest off: "
                     f"{fmt_pct(float(worst['median_half_life'] / worst['half_life'] - 1))} at phi "
                     f"{worst['phi']:g}, true half-life {worst['half_life']:g} days.")
    lines.append(f"Caveat: with {s.get('seeds')} series per cell a cell's coverage moves in steps of "
                 f"{fmt_number(100 / max(int(s.get('seeds') or 1), 1), 0)} points; the cells share their seeds, so "
                 "methods compare more sharply than the absolute level (full study: docs/simulation_study.md).")
    return Findings(data="SIMULATED", lines=tuple(lines), table=pd.DataFrame(rows))


def vendor_findings(table: object, precise: object) -> Findings:
    """Findings of ``vendor_fits.fit_candidates`` and ``vendor_fits.precision``: level changes, what is detectable."""
    frame, p = table.frame, precise.frame
    fitted = frame[frame["status"] == "fitted"]
    lines = ["REAL data: figures published by security vendors (data/vendor_figures.csv), one vendor and metric per "
             "series, months without a figure left missing; nothing here is simulated."]
    rows = []
    for r in fitted.to_dict("records"):
        est, lo, hi = r["level change (pp)"], r["pp low"], r["pp high"]
        rows.append(row(f"{r['vendor']} at {r['event']}", est, lo, hi, "percentage points"))
        if lo < 0 < hi:
            lines.append(f"{r['vendor']} at {r['event']}: no clear change in the spam share ({_pp(est)}, interval "
                         f"{_pp(lo)} to {_pp(hi)}).")
        else:
            lines.append(f"{r['vendor']} at {r['event']}: the spam share {'fell' if hi < 0 else 'rose'} by "
                         f"{fmt_number(abs(est), 1)} points ({fmt_number(min(abs(lo), abs(hi)), 1)} to "
                         f"{fmt_number(max(abs(lo), abs(hi)), 1)}).")
    mdc = p["minimal detectable change (pp)"].to_numpy(dtype=float)
    if len(mdc):
        lines.append(f"Precision: with 80% power these fits detect only level changes larger than about "
                     f"{mdc.min():.0f} to {mdc.max():.0f} percentage points (median {np.median(mdc):.0f}).")
    failed = frame[frame["status"] != "fitted"]
    if len(failed):
        lines.append(f"{len(failed)} candidate series had too few months with a figure to be fitted.")
    lines.append("Caveat: monthly averages with missing months dilute dips that lasted days to weeks; these "
                 "figures can only show large, lasting shifts in the share of mail that is spam.")
    return Findings(data="REAL", lines=tuple(lines), table=pd.DataFrame(rows))


def _pp(x: float) -> str:
    return f"{fmt_number(x, 1)} pp" if x < 0 else f"+{fmt_number(x, 1)} pp"


def audit_findings(lines: list[str]) -> Findings:
    """The trap audit's sentences (``spamits.audit.findings``, REAL first) as a Findings object."""
    return Findings(data="REAL", lines=tuple(lines), table=pd.DataFrame(columns=TABLE_COLUMNS))

"""Text summary and JSON-ready dict of an ITS result; all number formatting lives here."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from spamits.its._covariance import ERRORS
from spamits.its.families import FAMILY_MODELS

if TYPE_CHECKING:  # a type only: the result imports this module to summarise itself
    from spamits.its._result import ITSResult

SIG = 8  # significant digits kept in to_dict(), so results.json is stable across runs


def fmt(x: float, digits: int = 4) -> str:
    """A number for display: fixed significant digits, 'inf' and 'nan' spelled out."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.{digits}g}"


def _header(result: ITSResult) -> list[tuple[str, str]]:
    p, fam = result, FAMILY_MODELS.get(result.family)
    info = p.cov_info
    err = ERRORS[p.errors] + (f", L={info['lags']}" if "lags" in info else "")
    pairs = [
        ("Family", f"{p.family} ({fam.link} link)"),
        ("Errors", err),
        ("Events", ", ".join(f"{s.label} [{s.effect}] from {s.date.date()}" for s in p.specs
                             if s.label not in p.nuisance)),
        ("Seasonality", str(p.seasonality)),
        ("Observed periods", f"{int(p.observed_mask.sum())} ({result.n_pre} pre, {result.n_post} post; "
                             f"{int((~p.observed_mask).sum())} missing) in {result.unit}"),
        ("Residual AR(1)", fmt(p.process.phi, 3)),
        ("Log-likelihood", fmt(p.loglik, 7)),
    ]
    if p.nuisance:
        pairs.insert(3, ("Nuisance (modelled)", ", ".join(p.nuisance)))
    if fam.has_dispersion:
        pairs.append(("NB dispersion", fmt(p.dispersion, 4)))
    if fam.reports_scale:
        pairs.append(("Scale", fmt(p.scale, 4)))
    if result.simulated:
        pairs.insert(0, ("Data", "SIMULATED"))
    return pairs


def summary(result: ITSResult) -> str:
    """The fixed-width text summary of ``result`` (no dates or times: reproducible)."""
    p = result
    level = int(round(100 * (1 - p.alpha)))
    lines = ["Interrupted time-series fit (spamits)", "=" * 78]
    lines += [f"{k:<22}{v}" for k, v in _header(result)]
    lines += ["-" * 78, f"{'event':<18}{'term':<12}{'estimate':>11}{'ci_low':>11}{'ci_high':>11}{'p':>9}"
              f"{'ratio':>9}"]
    for row in result.effects.itertuples():
        lines.append(f"{row.event:<18}{row.term:<12}{fmt(row.estimate):>11}{fmt(row.ci_low):>11}"
                     f"{fmt(row.ci_high):>11}{fmt(row.p_value, 3):>9}{fmt(row.ratio):>9}")
    imp = result.impact()
    lines += ["-" * 78,
              f"Relative effect, whole post period: {fmt(100 * imp['relative'], 3)}% "
              f"[{fmt(100 * imp['relative_low'], 3)}%, {fmt(100 * imp['relative_high'], 3)}%] ({level}% interval)",
              f"Cumulative effect: {fmt(imp['cumulative'], 4)} [{fmt(imp['cumulative_low'], 4)}, "
              f"{fmt(imp['cumulative_high'], 4)}]",
              ("Level/slope on the logit scale (ratio = odds ratio; pp = percentage points)"
               if FAMILY_MODELS.get(p.family).link == "logit" else "Level/slope on the log scale (ratio = exp)")
              + "; half-life in " + result.unit + ".",
              "Intervals carry parameter uncertainty (decay rates included) and serially correlated noise."]
    lines += [f"Note: {n}" for n in p.notes]
    return "\n".join(lines)


def clean(value: object) -> object:
    """Make a value JSON-safe and stable: rounded floats, None for nan/inf, ISO dates."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        v = float(value)
        return None if not math.isfinite(v) else float(f"{v:.{SIG}g}")
    return value


def to_dict(result: ITSResult) -> dict:
    """``result`` as a JSON-ready dict (``clean``): model, data, effects, impacts, diagnostics and notes."""
    p = result
    diag = result.diagnostics()
    return clean({
        "model": {"family": p.family, "errors": p.errors, "errors_method": ERRORS[p.errors],
                  "covariance": p.cov_info, "seasonality": p.seasonality, "alpha": p.alpha, "unit": result.unit,
                  "n_draws": p.n_draws, "seed": p.seed, "control_mode": p.control_mode, "dispersion": p.dispersion,
                  "counterfactual": p.counterfactual, "interval": p.interval,
                  "events": [{"label": s.label, "date": s.date, "effect": s.effect,
                              **({"nuisance": True} if s.label in p.nuisance else {})} for s in p.specs]},
        "data": {"n": len(p.y), "n_observed": int(p.observed_mask.sum()), "n_pre": result.n_pre,
                 "n_post": result.n_post, "start": p.y.index[0], "end": p.y.index[-1], "simulated": result.simulated},
        "effects": result.effects.to_dict(orient="records"),
        "impact": result.impact(),
        "impact_table": result.impact_table().drop(columns="horizon").to_dict(orient="records"),
        "diagnostics": {k: v for k, v in diag.items() if not isinstance(v, pd.DataFrame)}
        | {"ljung_box": diag["ljung_box"].to_dict(orient="records")},
        "notes": list(p.notes),
    })

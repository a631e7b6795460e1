"""Findings of one takedown's fit (``notebooks/takedown_its.ipynb``): size of the drop, recovery, verdicts."""

from __future__ import annotations

import pandas as pd

from spamits._display import digits_for, fmt_number, fmt_p, fmt_pct
from spamits.findings._core import (
    Findings,
    change_phrase,
    data_sentence,
    half_life_phrase,
    on_date,
    row,
)

__all__ = ["takedown_findings"]

HORIZON = 30
STRONG_AIC = 10.0
"""An AIC difference above this is strong support for the better model (Burnham and Anderson's rule of thumb)."""


def _nan(x: object) -> float:
    return float("nan") if x is None else float(x)


def takedown_findings(result: object, event: object = None, *, comparison: pd.DataFrame | None = None,
                      horizon: int = HORIZON, recovery: float = 0.9, precheck: object = None) -> Findings:
    """Findings of an ITS fit of one event: the drop with its interval, recovery, verdicts and caveats.

    ``result``: an ``ITSResult``; ``event``: the catalog Event (default: the fit's first event id); ``comparison``:
    ``spamits.its.compare`` of the same data, for the effect-shape and error-model verdicts; ``precheck``: the
    ``spamits.its.precheck`` of the same series, whose findings (bursts, a wandering level, an earlier break)
    become caveats.  The data statement
    (SIMULATED or REAL) comes first; an interval that crosses zero is worded "no clear change".
    """
    label = getattr(event, "id", None) or result.events[0]
    if label not in result.events:
        label = result.events[0]
    date = getattr(event, "date", None)
    opening, data = data_sentence(result.simulated, "the series")
    if not result.simulated:
        source = str(result.frame.attrs.get("source") or "a count file")
        opening = f"REAL data: measured counts ({source.rsplit('/', 1)[-1]})."
    lines, rows = [opening], []
    eff = result.effects[result.effects["event"] == label].set_index("term")
    clear = False
    if "level" in eff.index:
        lev = eff.loc["level"]
        est, lo, hi = lev["ratio"] - 1, lev["ratio_low"] - 1, lev["ratio_high"] - 1
        phrase, clear = change_phrase(est, lo, hi)
        rows.append(row("immediate change", est, lo, hi, "fraction", phrase))
        when = f"{on_date(date)} ({label})" if date is not None else f"at {label}"
        sentence = f"{phrase} {when}" if clear else f"{when[0].upper()}{when[1:]} there was {phrase}"
        if "half_life" in eff.index:
            half = eff.loc["half_life"]
            at_bound = "upper" in result.decay_at_bound.get(label, ())
            hl = half_life_phrase(half["estimate"], half["ci_low"], half["ci_high"], result.unit, at_bound=at_bound)
            rows.append(row("half-life", half["estimate"], half["ci_low"], half["ci_high"], result.unit, hl))
            if clear:
                sentence += (" and recovered with " + hl) if hl.startswith("a half-life") else f"; {hl}"
        lines.append(sentence + ".")
    if "slope" in eff.index:
        slope = eff.loc["slope"]
        est, lo, hi = slope["ratio"] - 1, slope["ratio_low"] - 1, slope["ratio_high"] - 1
        digits = max(1, digits_for(lo, hi))
        per = f"per {result.unit.rstrip('s')}"
        if lo < 0 < hi:
            phrase = (f"Trend after the event: no clear change ({fmt_pct(est, digits)} {per}; interval "
                      f"{fmt_pct(lo, digits)} to {fmt_pct(hi, digits)})")
        else:
            a, b = sorted((abs(lo), abs(hi)))
            phrase = (f"Trend after the event: spam {'fell' if hi < 0 else 'rose'} by a further "
                      f"{fmt_pct(abs(est), digits, sign=False)} {per} ({fmt_pct(a, digits, sign=False)} to "
                      f"{fmt_pct(b, digits, sign=False)})")
        lines.append(phrase + ".")
        rows.append(row("trend change", slope["ratio"] - 1, slope["ratio_low"] - 1, slope["ratio_high"] - 1,
                        f"fraction per {result.unit.rstrip('s')}", phrase))
    if clear and "half_life" in eff.index:
        lines.append(_recovery_sentence(result, label, recovery))
    lines.append(_horizon_sentence(result, horizon, rows))
    if comparison is not None and len(comparison):
        lines += _verdicts(comparison, result)
    lines += [f"Caveat: {note}" for note in result.notes]
    lines += [f"Pre-period check: {note}" for note in _precheck_notes(precheck, result)]
    return Findings(data=data, lines=tuple(lines), table=pd.DataFrame(rows))


def _precheck_notes(precheck: object, result: object) -> tuple[str, ...]:
    """The notes of ``precheck``; when the fit modelled a pre-period break (``result.nuisance_dates``), those of
    the same check told so, so the break is reported as modelled instead of as a problem to fix."""
    if precheck is None or not result.nuisance_dates or not precheck.break_found:
        return tuple(getattr(precheck, "notes", ()))
    from spamits.its import precheck as run_precheck

    return run_precheck(result.y, result.y.index[result.first_position], catalog=bool(precheck.break_events),
                        warn_user=False, modelled=result.nuisance_dates).notes


def _recovery_sentence(result: object, label: str, fraction: float) -> str:
    rec = result.recovery_time(fraction, event=label)
    within = f"within {100 * (1 - fraction):.0f}% of the counterfactual"
    if rec["within_window"]:
        low, high = rec["low"], rec["high"]
        bounds = (f" ({fmt_number(low, 0)} to {fmt_number(high, 0)})" if high is not None
                  else f" (at least {fmt_number(low, 0)}; the interval has no upper bound in the window)")
        return f"Spam was back {within} after {fmt_number(rec['estimate'], 0)} {rec['unit']}{bounds}."
    return (f"Spam was not back {within} by the end of the window ({rec['window_periods']} {rec['unit']} from the "
            "event): part of the effect may have lasted.")


def _horizon_sentence(result: object, horizon: int, rows: list) -> str:
    """The relative effect over the first ``horizon`` periods (as ``results.json``'s headline ``relative_30``)."""
    table = result.impact_table(horizons=(horizon,))
    first = table[table["window"].str.startswith("first")]
    window = first.iloc[0] if len(first) else table.iloc[-1]
    est, lo, hi = (float(window[c]) for c in ("relative", "relative_low", "relative_high"))
    what = f"Over the {window['window']}" if len(first) else "Over the whole post period"
    rows.append(row(f"relative effect, {window['window']}", est, lo, hi, "fraction"))
    phrase, clear = change_phrase(est, lo, hi)
    if not clear:
        return f"{what} there was {phrase} against the counterfactual."
    side = "below" if hi < 0 else "above"
    a, b = sorted((abs(lo), abs(hi)))
    return (f"{what} spam was {100 * abs(est):.0f}% ({100 * a:.0f}% to {100 * b:.0f}%) {side} what the model "
            "expects without the event.")


def _verdicts(table: pd.DataFrame, result: object) -> list[str]:
    """Effect shape (AIC within the result's error model) and error model (residual autocorrelation)."""
    out = []
    same = table[table["errors"] == result.errors]
    same = same if len(same) else table[table["errors"] == table["errors"].iloc[0]]
    shapes = same.sort_values("aic").drop_duplicates("effects")
    if len(shapes) > 1:
        best, second = shapes.iloc[0], shapes.iloc[1]
        gap = float(second["aic"] - best["aic"])
        name, other = best["model"].split(" / ")[0], second["model"].split(" / ")[0]
        out.append(f"Effect shape: the data prefer '{name}' to '{other}' (AIC {fmt_number(gap, 1)} lower; "
                   + ("a difference above 10 is strong support)." if gap > STRONG_AIC
                      else "a difference this small is weak support: read both).")
                   )
    bg = table["breusch_godfrey_p"].astype(float)
    if (bg < result.alpha).any():
        ar1 = float(table.loc[table["model"] == shapes.iloc[0]["model"], "residual_ar1"].iloc[0])
        text = (f"Error model: the residuals are autocorrelated (Breusch-Godfrey p {fmt_p(bg.min())}, residual "
                f"AR(1) about {ar1:.2f}), so model-based ('iid') intervals would be too narrow")
        text += (f"; the intervals here use '{result.errors}', which allows for it." if result.errors != "iid"
                 else "; the intervals here are 'iid' and too narrow: prefer 'ar1'.")
        out.append(text)
    else:
        out.append("Error model: no residual autocorrelation detected (Breusch-Godfrey); the error models give "
                   "similar intervals.")
    return out

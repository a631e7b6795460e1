"""``compare``: one tidy table over several ITS fits, for choosing effect shapes and error models."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from spamits._labels import mark_simulated
from spamits.errors import ModelSpecError
from spamits.its._events import EventRef
from spamits.its._result import ITSResult


def compare(fits: Mapping[str, ITSResult] | Sequence[ITSResult], *, horizon: int = 30,
            event: str | None = None) -> pd.DataFrame:
    """One row per fit: specification, information criteria, residual checks and headline effects.

    ``fits``: a mapping name -> result (or a list, named ``fit 1``, ``fit 2``...).  ``delta_aic`` is the AIC
    minus the smallest AIC among fits of the same family and error model on the same data (likelihoods of
    different families or series are not comparable; ``errors="ar1"`` evaluates the family likelihood at its
    GLS estimates, below the maximum the other error models share, so shapes are compared within an error
    model).  The headline columns are for ``event`` (default:
    each fit's first event): its immediate change, half-life, and ``relative_<horizon>``, the relative effect
    of that event alone over the first ``horizon`` periods from its date, with its interval.
    """
    named = dict(fits) if isinstance(fits, Mapping) else {f"fit {i}": f for i, f in enumerate(fits, 1)}
    if not named:
        raise ModelSpecError("compare: give at least one fit")
    bad = [k for k, v in named.items() if not isinstance(v, ITSResult)]
    if bad:
        raise ModelSpecError(f"compare: {bad} are not ITSResult objects (results of spamits.its.fit)")
    rows = [_row(name, fit, horizon, event) for name, fit in named.items()]
    table = pd.DataFrame(rows)
    key = table["family"] + "|" + table["errors"] + "|" + table["data_key"]
    table["delta_aic"] = table["aic"] - table.groupby(key)["aic"].transform("min")
    table = table.drop(columns="data_key")
    if any(fit.simulated for fit in named.values()):
        mark_simulated(table)
    return table


def _row(name: str, fit: ITSResult, horizon: int, event: str | None) -> dict:
    diag = fit.diagnostics()
    effects = fit.effects
    label = event if event is not None else fit.events[0]
    level = effects[(effects["event"] == label) & (effects["term"] == "level")]
    half = effects[(effects["event"] == label) & (effects["term"] == "half_life")]
    spec = next((s for s in fit.specs if s.label == label), None)
    if spec is None:
        raise ModelSpecError(f"compare: event {label!r} is not in fit {name!r} (its events: {fit.events})")
    index = fit.frame.index
    end = index[min(spec.position + horizon - 1, len(index) - 1)]
    rel = fit.impact(index[spec.position], end, events=[label])
    y = fit.frame["observed"]
    return {
        "model": name,
        "family": fit.family,
        "errors": fit.errors,
        "effects": "; ".join(f"{s.label}: {s.effect}" for s in fit.specs),
        "n_params": diag["n_params"],
        "loglik": diag["loglik"],
        "aic": diag["aic"],
        "bic": diag["bic"],
        "residual_ar1": diag["residual_ar1"],
        "ljung_box_p": float(diag["ljung_box"]["p_value"].iloc[0]),
        "breusch_godfrey_p": float(diag["breusch_godfrey"]["p_value"].iloc[-1]),
        "mape_pre": diag["mape_pre"],
        "immediate_change": float(level["ratio"].iloc[0] - 1) if len(level) else np.nan,
        "half_life": float(half["estimate"].iloc[0]) if len(half) else np.nan,
        f"relative_{horizon}": rel["relative"],
        f"relative_{horizon}_low": rel["relative_low"],
        f"relative_{horizon}_high": rel["relative_high"],
        "data_key": f"{y.index[0]}|{y.index[-1]}|{float(np.nansum(y.to_numpy())):.6g}",
    }


def fit_specs(y: pd.Series, events: list, *, effects: Mapping[str, str | Sequence[str]],
              errors: Sequence[str] = ("ar1", "ar1-sandwich", "hac", "iid"),
              **fit_kwargs: object) -> dict[str, ITSResult]:
    """Fit every effect specification × error model; keys are ``"<effect name> / <errors>"``.

    ``effects`` maps a name to what ``fit`` takes as ``effect`` (one shape, or one per event); other keywords
    go to :func:`spamits.its.fit`.  The point estimates of one effect specification are the same for
    ``ar1-sandwich``, ``hac`` and ``iid`` (independence estimates; only the intervals differ); ``ar1``
    re-estimates them by feasible GLS.  With ``pre_break="auto"`` (the default) the first specification decides
    whether a pre-period break is modelled (``spamits.its.prebreak``), and every other one models the same
    nuisance events (or none), so their likelihoods (and AIC) stay comparable.
    """
    from spamits.its._api import fit
    from spamits.its.model import ITSModel

    specs = [(SpecLabel(name, err), shape, err) for name, shape in effects.items() for err in errors]
    if not specs:
        return {}
    first_label, shape, err = specs[0]
    first = fit(y, events, effect=shape, errors=err, **fit_kwargs)
    nuisance = [EventRef(label, date, date) for label, date in zip(first.nuisance, first.nuisance_dates,
                                                                   strict=True)]
    kwargs = {**fit_kwargs, "pre_break": "none"}  # the first fit decided
    return {first_label: first, **{label: ITSModel(y, events, effect=shape, errors=err, nuisance=nuisance,
                                                   **kwargs).fit() for label, shape, err in specs[1:]}}


class SpecLabel(str):
    """The key of one :func:`fit_specs` fit, ``"<effect name> / <errors>"``, that also carries its parts as
    fields (``effect_name``, ``errors``), so :func:`verdict` never splits the text."""

    effect_name: str
    errors: str

    def __new__(cls, effect_name: str, errors: str) -> SpecLabel:
        label = super().__new__(cls, f"{effect_name} / {errors}")
        label.effect_name, label.errors = str(effect_name), str(errors)
        return label


def _shape_name(model: object) -> str:
    """The effect specification's name of a ``compare`` row: the ``effect_name`` field of a ``fit_specs`` key,
    else the whole model name."""
    return getattr(model, "effect_name", str(model))


def verdict(table: pd.DataFrame, *, alpha: float = 0.05) -> str:
    """A plain-language reading of a ``compare`` table: which effect shape the data support (AIC, among the fits
    with the error model of the first row) and whether the residuals are autocorrelated (Breusch-Godfrey),
    hence which error model to trust."""
    first = table["errors"].iloc[0]  # shapes are compared within one error model (the first in the table)
    same = table[table["errors"] == first]
    best = same.loc[same["aic"].idxmin()]
    shapes = same.drop_duplicates("effects").sort_values("aic")
    lines = [f"Effect shape: the data support '{_shape_name(best['model'])}' ({best['effects']}); "
             + ", ".join(f"'{_shape_name(r.model)}' has AIC {r.aic - best['aic']:.1f} higher"
                         for r in shapes.iloc[1:].itertuples())
             + (" (a difference above 10 is strong support)." if len(shapes) > 1 else ".")]
    autocorrelated = bool((table["breusch_godfrey_p"] < alpha).any())
    if autocorrelated:
        lines.append(f"Residuals are autocorrelated (Breusch-Godfrey p < {alpha}; residual AR(1) about "
                     f"{best['residual_ar1']:.2f}): model-based ('iid') intervals are too narrow; use 'ar1' "
                     "(feasible GLS for that correlation) or 'ar1-sandwich'; 'hac' truncates the "
                     "autocorrelation and tends to be narrower.")
    else:
        lines.append(f"No residual autocorrelation detected (Breusch-Godfrey p >= {alpha}); the error models "
                     "give similar intervals.")
    return "\n".join(lines)

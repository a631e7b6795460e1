"""``compare``: one tidy table over several ITS fits, for choosing effect shapes and error models."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from spamits.errors import ModelSpecError
from spamits.its._result import ITSResult


def compare(fits: Mapping[str, ITSResult] | Sequence[ITSResult], *, horizon: int = 30) -> pd.DataFrame:
    """One row per fit: specification, information criteria, residual checks and headline effects.

    ``fits``: a mapping name -> result (or a list, named ``fit 1``, ``fit 2``...).  ``delta_aic`` is the AIC
    minus the smallest AIC among fits of the same family on the same data (likelihoods of different families
    or series are not comparable, so it is NaN across them).  ``relative_<horizon>`` is the relative effect of
    all events over the first ``horizon`` periods after the first event, with its interval.
    """
    named = dict(fits) if isinstance(fits, Mapping) else {f"fit {i}": f for i, f in enumerate(fits, 1)}
    if not named:
        raise ModelSpecError("compare: give at least one fit")
    bad = [k for k, v in named.items() if not isinstance(v, ITSResult)]
    if bad:
        raise ModelSpecError(f"compare: {bad} are not ITSResult objects (results of spamits.its.fit)")
    rows = [_row(name, fit, horizon) for name, fit in named.items()]
    table = pd.DataFrame(rows)
    key = table["family"] + "|" + table["data_key"]
    table["delta_aic"] = table["aic"] - table.groupby(key)["aic"].transform("min")
    table = table.drop(columns="data_key")
    if any(fit.simulated for fit in named.values()):
        table.columns.name = "SIMULATED"
    return table


def _row(name: str, fit: ITSResult, horizon: int) -> dict:
    diag = fit.diagnostics()
    effects = fit.effects
    first = fit.events[0]
    level = effects[(effects["event"] == first) & (effects["term"] == "level")]
    half = effects[(effects["event"] == first) & (effects["term"] == "half_life")]
    table = fit.impact_table(horizons=(horizon,))
    window = table[table["window"].str.startswith("first")]
    rel = window.iloc[0] if len(window) else None
    y = fit.frame["observed"]
    return {
        "model": name,
        "family": fit.family,
        "errors": fit.errors,
        "effects": "; ".join(f"{s.label}: {s.effect}" for s in fit._p.specs),
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
        f"relative_{horizon}": rel["relative"] if rel is not None else np.nan,
        f"relative_{horizon}_low": rel["relative_low"] if rel is not None else np.nan,
        f"relative_{horizon}_high": rel["relative_high"] if rel is not None else np.nan,
        "data_key": f"{y.index[0]}|{y.index[-1]}|{float(np.nansum(y.to_numpy())):.6g}",
    }

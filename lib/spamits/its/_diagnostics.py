"""Residual diagnostics of an ITS fit: autocorrelation, Ljung-Box, over-dispersion, pre-period fit, AIC/BIC."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from spamits._labels import mark_simulated
from spamits.errors import ModelSpecError
from spamits.its._design import NATURAL_PERIOD
from spamits.its.families import FAMILY_MODELS, pearson

if TYPE_CHECKING:  # a type only: the result imports this module for its diagnostics
    from spamits.its._result import ITSResult


def pearson_residuals(result: ITSResult) -> pd.Series:
    """Pearson residuals (m,) on the observed periods (on the log or logit scale for the Gaussian families)."""
    obs = result.observed_mask
    eta = (result.design_matrix.to_numpy() @ result.params.to_numpy() + result.offset)[obs]
    y = result.y.to_numpy()[obs]
    fam = FAMILY_MODELS.get(result.family)
    resid = fam.transform(y) - eta if fam.gaussian else pearson(y, np.exp(eta), result.dispersion)
    return pd.Series(resid, index=result.y.index[obs], name="pearson_residual")


def diagnostics(result: ITSResult, lags: int | None = None) -> dict:
    """The residual checks of ``result`` (see ``ITSResult.diagnostics``)."""
    from statsmodels.stats.diagnostic import acorr_ljungbox
    from statsmodels.tsa.stattools import acf, pacf

    resid = pearson_residuals(result)
    period = NATURAL_PERIOD[result.freq]
    if lags is not None and (isinstance(lags, bool) or not isinstance(lags, int | np.integer)
                             or not 1 <= lags < len(resid) // 2):
        raise ModelSpecError(f"diagnostics: lags={lags!r} must be an int from 1 to {len(resid) // 2 - 1} (half the "
                             "observed periods), or None for the default")
    nlags = lags or min(2 * period, len(resid) // 4)
    table = pd.DataFrame({"lag": np.arange(1, nlags + 1),
                          "acf": acf(resid.to_numpy(), nlags=nlags, fft=True)[1:],
                          "pacf": pacf(resid.to_numpy(), nlags=nlags, method="ywm")[1:]})
    lb_lags = sorted({min(period, nlags), nlags})
    lb = acorr_ljungbox(resid.to_numpy(), lags=lb_lags)
    ljung = pd.DataFrame({"lag": lb_lags, "statistic": lb["lb_stat"].to_numpy(),
                          "p_value": lb["lb_pvalue"].to_numpy()})
    bg = breusch_godfrey(resid.to_numpy(), np.flatnonzero(result.observed_mask),
                         result.design_matrix.to_numpy()[result.observed_mask],
                         sorted({1, min(period, nlags)}))
    n = len(resid)
    k = len(result.params) + FAMILY_MODELS.get(result.family).n_extra_params
    frame = result.frame
    pre = slice(0, result.first_position)
    y_pre, fit_pre = frame["observed"].iloc[pre], frame["fitted"].iloc[pre]
    ok = y_pre.notna() & (y_pre > 0)
    mape = float(np.mean(np.abs(y_pre[ok] - fit_pre[ok]) / y_pre[ok]))
    if result.simulated:
        for frame in (table, ljung, bg):
            mark_simulated(frame)
    return {
        "acf": table,
        "ljung_box": ljung,
        "breusch_godfrey": bg,
        "dispersion": float(np.sum(resid.to_numpy() ** 2) / max(n - k, 1)),
        "residual_ar1": result.process.phi,
        "residual_rho1": result.process.rho1,
        "mape_pre": mape,
        "loglik": result.loglik,
        "aic": -2 * result.loglik + 2 * k,
        "bic": -2 * result.loglik + np.log(n) * k,
        "n_obs": n,
        "n_params": int(k),
    }


def breusch_godfrey(resid: np.ndarray, pos: np.ndarray, X: np.ndarray, lags: list[int]) -> pd.DataFrame:
    """Breusch-Godfrey LM tests: regress the residuals on the design and their own lags (by time position,
    missing lags as 0); ``n·R²`` is χ² with ``lag`` degrees of freedom under no autocorrelation."""
    from scipy import stats

    full = np.zeros(int(pos[-1] - pos[0]) + 1)
    full[pos - pos[0]] = resid
    rows = []
    for lag in lags:
        lagged = np.column_stack([np.concatenate([np.zeros(h), full[:-h]])[pos - pos[0]] for h in range(1, lag + 1)])
        Z = np.column_stack([X, lagged])
        fitted = Z @ np.linalg.lstsq(Z, resid, rcond=None)[0]
        r2 = 1 - np.sum((resid - fitted) ** 2) / np.sum((resid - resid.mean()) ** 2)
        stat = len(resid) * r2
        rows.append({"lag": lag, "statistic": float(stat), "p_value": float(stats.chi2.sf(stat, lag))})
    return pd.DataFrame(rows)

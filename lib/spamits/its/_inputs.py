"""The inputs of an ITS fit, checked and put on the model's scale: the series, shares, offsets and controls.

Shared by ``spamits.its.fit`` and the batched scans of ``spamits.robust``, so that both reject the same bad
input with the same message.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from spamits.errors import ModelSpecError

CONTROL_MODES = ("covariate", "offset")


def check_y(y: object) -> pd.Series:
    """``y`` as a float Series on a regular DatetimeIndex (frequency inferred if unset), NaN where missing.

    Raises ModelSpecError naming what is wrong: not a Series, no DatetimeIndex, an irregular index,
    non-numeric, negative or infinite values (with the first bad date), or fewer than 10 observed periods.
    """
    if isinstance(y, pd.DataFrame):
        raise ModelSpecError("y: got a DataFrame; pass one column, e.g. frame['observed']")
    if not isinstance(y, pd.Series):
        raise ModelSpecError(f"y: expected a pandas Series with a DatetimeIndex, got {type(y).__name__}")
    if not isinstance(y.index, pd.DatetimeIndex):
        raise ModelSpecError(f"y: the index must be a DatetimeIndex, got {type(y.index).__name__}")
    if y.index.freq is None:
        inferred = pd.infer_freq(y.index) if len(y) >= 3 else None
        if inferred is None:
            raise ModelSpecError("y: the index is not regular (no frequency); load the series with "
                                 "spamits.data.load, which puts gaps on a regular index as missing values")
        y = y.asfreq(inferred)
    values = pd.to_numeric(y, errors="coerce").astype(float)
    if values.isna().sum() > y.isna().sum():
        raise ModelSpecError("y: has non-numeric values; clean the series with spamits.data.load")
    finite = values.dropna()
    if (finite < 0).any() or not np.isfinite(finite).all():
        bad = finite[(finite < 0) | ~np.isfinite(finite)].index[0]
        raise ModelSpecError(f"y: counts must be finite and >= 0; first bad value on {bad.date()}")
    if len(finite) < 10:
        raise ModelSpecError(f"y: only {len(finite)} observed periods; an ITS fit needs many more")
    out = values.copy()
    out.attrs = dict(y.attrs)
    return out


def shares(y: pd.Series, family: str) -> tuple[pd.Series, float]:
    """For gaussian-logit: shares in (0, 1) as they are, percentages (some value > 1, all < 100) divided by 100.

    Returns the series to model and the factor that turns modelled shares back into the series' unit.
    """
    if family != "gaussian-logit":
        return y, 1.0
    finite = y.dropna()
    if (finite > 1).any() and (finite < 100).all():
        out = y / 100.0
        out.attrs = dict(y.attrs)
        return out, 100.0
    return y, 1.0


def check_alpha(alpha: float) -> None:
    """Raise ModelSpecError unless ``alpha`` (1 - confidence level) is in (0, 1)."""
    if not 0 < alpha < 1:
        raise ModelSpecError(f"alpha={alpha}: must be between 0 and 1 (0.05 gives 95% intervals)")


def log_offset(values: object, index: pd.DatetimeIndex, name: str) -> np.ndarray:
    """Log of an exposure (n,) aligned to ``index`` (zeros when ``values`` is None); ``name`` is the argument
    named in the ModelSpecError raised for a wrong length or a value that is not finite and > 0."""
    if values is None:
        return np.zeros(len(index))
    arr = values.reindex(index).to_numpy(dtype=float) if isinstance(values, pd.Series) else np.asarray(
        values, dtype=float)
    if arr.shape != (len(index),):
        raise ModelSpecError(f"{name}: needs one value per period of y ({len(index)}), got shape {arr.shape}")
    if np.any(~np.isfinite(arr)) or np.any(arr <= 0):
        raise ModelSpecError(f"{name}: every value must be finite and > 0 (it enters as a log)")
    return np.log(arr)


def add_control(base: pd.DataFrame, off: np.ndarray, control: object, mode: str,
                index: pd.DatetimeIndex) -> tuple[pd.DataFrame, np.ndarray, dict[str, np.ndarray]]:
    """Controls as log covariates or as a log offset; also returns each control's log values by name."""
    if control is None:
        return base, off, {}
    if mode not in CONTROL_MODES:
        raise ModelSpecError(f"control_mode={mode!r}: must be one of {CONTROL_MODES}")
    frame = control.to_frame() if isinstance(control, pd.Series) else control
    if not isinstance(frame, pd.DataFrame):
        raise ModelSpecError("control: pass a Series or DataFrame indexed like y")
    logs = {str(col): log_offset(frame[col], index, f"control[{col!r}]") for col in frame.columns}
    if mode == "offset":
        if frame.shape[1] != 1:
            raise ModelSpecError("control_mode='offset' takes exactly one control series")
        return base, off + next(iter(logs.values())), logs
    base = base.copy()
    for name, values in logs.items():
        base[f"control({name})"] = values
    return base, off, logs


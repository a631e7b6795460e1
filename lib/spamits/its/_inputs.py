"""The inputs of an ITS fit, checked and put on the model's scale: the series, shares, offsets and controls.

Shared by ``spamits.its.fit`` and the batched scans of ``spamits.robust``, so that both reject the same bad
input with the same message.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from spamits.errors import ModelSpecError
from spamits.its.families import FAMILY_MODELS
from spamits.its.terms import Control

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
    if y.index.tz is not None:
        raise ModelSpecError(f"y: the index is time-zone aware ({y.index.tz}); spamits works on local dates "
                             "without a zone: drop it with y.tz_localize(None) (keeps the local dates) or "
                             "y.tz_convert('UTC').tz_localize(None) (UTC dates)")
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
    if not (finite != 0).any():
        raise ModelSpecError("y: every observed value is 0; there is no volume to model (check the source, "
                             "e.g. the column or the counting period)")
    out = values.copy()
    out.attrs = dict(y.attrs)
    return out


def shares(y: pd.Series, family: str) -> tuple[pd.Series, float]:
    """For gaussian-logit: shares in (0, 1) as they are, percentages (some value > 1, all < 100) divided by 100.

    Returns the series to model and the factor that turns modelled shares back into the series' unit.
    """
    if FAMILY_MODELS.get(family).link != "logit":
        return y, 1.0
    finite = y.dropna()
    if (finite > 1).any() and (finite < 100).all():
        out = y / 100.0
        out.attrs = dict(y.attrs)
        return out, 100.0
    return y, 1.0


def check_alpha(alpha: object, what: str = "alpha") -> float:
    """``alpha`` (1 - confidence level) as a float; ModelSpecError unless it is a number in (0, 1)."""
    if isinstance(alpha, bool) or not isinstance(alpha, int | float | np.integer | np.floating):
        raise ModelSpecError(f"{what}={alpha!r}: must be a number between 0 and 1, e.g. 0.05 for 95% intervals "
                             f"(got {type(alpha).__name__})")
    if not 0 < alpha < 1:
        raise ModelSpecError(f"{what}={alpha}: must be between 0 and 1 (0.05 gives 95% intervals)")
    return float(alpha)


def check_int(value: object, what: str, minimum: int, hint: str = "") -> int:
    """``value`` as an int; ModelSpecError naming ``what`` unless it is an int (not a bool) >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ModelSpecError(f"{what}={value!r}: must be an int >= {minimum}{hint}")
    return int(value)


def _aligned(values: pd.Series, index: pd.DatetimeIndex, name: str) -> pd.Series:
    """``values`` on ``index``; ModelSpecError when its index is not dates or does not cover ``index``."""
    if not isinstance(values.index, pd.DatetimeIndex):
        raise ModelSpecError(f"{name}: a Series needs a DatetimeIndex like y's, got {type(values.index).__name__}")
    if values.index.tz is not None:
        raise ModelSpecError(f"{name}: the index is time-zone aware ({values.index.tz}); drop the zone with "
                             ".tz_localize(None) as for y")
    missing = index.difference(values.index)
    if len(missing):
        raise ModelSpecError(f"{name}: misaligned with y: {len(missing)} of y's {len(index)} dates are not in its "
                             f"index (first {missing[0].date()}; it covers {values.index.min().date()} to "
                             f"{values.index.max().date()}); give one value per date of y, on the same dates")
    return values.reindex(index)


def log_offset(values: object, index: pd.DatetimeIndex, name: str) -> np.ndarray:
    """Log of an exposure (n,) aligned to ``index`` (zeros when ``values`` is None); ``name`` is the argument
    named in the ModelSpecError raised for a wrong length or a value that is not finite and > 0."""
    if values is None:
        return np.zeros(len(index))
    if isinstance(values, pd.Series):
        arr = _aligned(values, index, name).to_numpy(dtype=float)
    else:
        try:
            arr = np.asarray(values, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ModelSpecError(f"{name}: needs numbers, one per period of y; got {type(values).__name__}") from exc
    if arr.shape != (len(index),):
        raise ModelSpecError(f"{name}: needs one value per period of y ({len(index)}), got shape {arr.shape}")
    if np.any(~np.isfinite(arr)) or np.any(arr <= 0):
        bad = int(np.flatnonzero(~np.isfinite(arr) | (arr <= 0))[0])
        raise ModelSpecError(f"{name}: every value must be finite and > 0 (it enters as a log); the first bad "
                             f"value is {arr[bad]} on {index[bad].date()}")
    return np.log(arr)


def add_control(off: np.ndarray, control: object, mode: str,
                index: pd.DatetimeIndex) -> tuple[list[Control], np.ndarray, dict[str, np.ndarray]]:
    """Controls as log covariates (``Control`` design terms) or as a log offset (added to ``off`` (n,)).

    Returns the control terms (none in offset mode), the log offset and each control's log values by name.
    """
    if control is None:
        return [], off, {}
    if mode not in CONTROL_MODES:
        raise ModelSpecError(f"control_mode={mode!r}: must be one of {CONTROL_MODES}")
    frame = control.to_frame() if isinstance(control, pd.Series) else control
    if not isinstance(frame, pd.DataFrame):
        raise ModelSpecError("control: pass a Series or DataFrame indexed like y")
    logs = {str(col): log_offset(frame[col], index, f"control[{col!r}]") for col in frame.columns}
    if mode == "offset":
        if frame.shape[1] != 1:
            raise ModelSpecError("control_mode='offset' takes exactly one control series")
        return [], off + next(iter(logs.values())), logs
    return [Control(name, pd.Series(values, index=index)) for name, values in logs.items()], off, logs

"""The error models of an ITS fit, as small objects in one registry (``ERROR_MODELS``), in the style of
linearmodels' covariance estimators: a ``name``, a readable ``str()`` and what the fit needs of each.

* ``cov_type``: the covariance computation of ``spamits.its._covariance`` behind it (``iid``, ``hac`` or
  ``ar1``, the AR(1)+white-noise sandwich);
* ``gls``: the coefficients are re-estimated by feasible GLS (``spamits.its._gls``) on whitened data;
* ``batched``: the error model the batched scans of ``spamits.robust`` run instead (feasible GLS is not
  batched, so ``ar1`` runs as ``ar1-sandwich`` there).
"""

from __future__ import annotations

from dataclasses import dataclass

from spamits.its._covariance import ERRORS as _TEXT
from spamits.its.families import Registry

DEFAULT_ERRORS = "ar1"


@dataclass(frozen=True)
class ErrorModel:
    """One error model: ``name`` (as ``fit(errors=...)`` takes it), ``description``, ``cov_type`` (the
    covariance computation), ``gls`` (feasible GLS estimates) and ``batched`` (its batched stand-in)."""

    name: str
    description: str
    cov_type: str
    gls: bool = False
    batched: str = ""

    def __str__(self) -> str:
        return self.description


ERROR_MODELS = Registry("errors", (
    ErrorModel("ar1", _TEXT["ar1"], cov_type="ar1", gls=True, batched="ar1-sandwich"),
    ErrorModel("ar1-sandwich", _TEXT["ar1-sandwich"], cov_type="ar1", batched="ar1-sandwich"),
    ErrorModel("hac", _TEXT["hac"], cov_type="hac",
               batched="hac"),
    ErrorModel("iid", _TEXT["iid"], cov_type="iid",
               batched="iid"),
))

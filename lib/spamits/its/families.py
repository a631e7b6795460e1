"""The likelihood families of an ITS fit, as small objects in one registry (``FAMILY_MODELS``).

Each :class:`Family` has a ``name``, a readable ``str()``, and what a fit needs of it: the value check of the
series (``check_values``), the Fisher weights and residuals at a fit (``weights``) and the likelihood-ratio
statistic of batched fits (``likelihood_ratio``).  The estimation itself is in ``spamits.its._estimate``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from spamits.errors import ModelSpecError
from spamits.its import _estimate as est
from spamits.its.batch import BatchFit


@dataclass(frozen=True)
class Family:
    """One likelihood family: ``name`` (as ``fit(family=...)`` takes it), ``link`` (``"log"`` or ``"logit"``),
    ``gaussian`` (least squares on the link scale) and ``has_dispersion`` (the NB2 dispersion is estimated)."""

    name: str
    description: str
    link: str = "log"
    gaussian: bool = False
    has_dispersion: bool = False

    def __str__(self) -> str:
        return f"{self.name}: {self.description}"

    def check_values(self, y: np.ndarray) -> None:
        """ModelSpecError when the observed values ``y`` (m,) cannot be modelled by this family."""
        est.check_family(self.name, y)

    def weights(self, y: np.ndarray, eta: np.ndarray, dispersion: float) -> tuple[np.ndarray, ...]:
        """Fisher weights, Pearson residuals and log-scale residuals (each (m,)) of the observed rows at the
        linear predictor ``eta`` (m,), with the NB2 ``dispersion`` (0 for the other families)."""
        if self.gaussian:
            r = est.transform(self.name, y) - eta
            return np.ones_like(y), r, r
        mu = np.exp(eta)
        var = mu * (1 + dispersion * mu)
        w = mu**2 / var
        return w, (y - mu) / np.sqrt(var), np.log((y + 0.5) / (mu + 0.5))

    def loglik_batch(self, fit: BatchFit, y: np.ndarray) -> np.ndarray:
        """Log-likelihood (D,) of batched count fits (Poisson, or NB2 at each fit's dispersion)."""
        mu = np.exp(fit.eta)
        if self.has_dispersion:
            a = np.maximum(fit.nb_alpha, 1e-12)[:, None]
            inv = 1 / a
            return np.sum(special.gammaln(y + inv) - special.gammaln(inv) - special.gammaln(y + 1)
                          + inv * np.log(inv / (inv + mu)) + y * np.log(mu / (inv + mu)), axis=1)
        return np.sum(y * np.log(mu) - mu - special.gammaln(y + 1), axis=1)

    def likelihood_ratio(self, fit: BatchFit, null: BatchFit, y: np.ndarray) -> np.ndarray:
        """``2·(loglik_fit - loglik_null)`` (D,); Gaussian families ``m·log(RSS_null/RSS_fit)``; quasi-Poisson
        divides the Poisson statistic by each fit's dispersion."""
        if self.gaussian:
            rss, rss0 = np.sum(fit.pearson**2, axis=1), np.sum(null.pearson**2)
            return len(y) * np.log(rss0 / rss)
        lr = 2 * (self.loglik_batch(fit, y) - self.loglik_batch(null, y)[0])
        return lr / fit.scale if self.name == "quasipoisson" else lr


class Registry(dict):
    """Named objects (families or error models); ``get`` raises ModelSpecError listing the valid names."""

    def __init__(self, what: str, items: tuple) -> None:
        super().__init__((item.name, item) for item in items)
        self.what = what

    def get(self, name: object) -> object:  # type: ignore[override]
        """The entry called ``name``; ModelSpecError naming the argument and the allowed values otherwise."""
        if not isinstance(name, str) or name not in self:
            raise ModelSpecError(f"{self.what}={name!r}: must be one of {', '.join(map(repr, self))}")
        return self[name]


FAMILY_MODELS = Registry("family", (
    Family("gaussian-log", "least squares on log y; counterfactual mean exp(eta + sigma^2/2)", gaussian=True),
    Family("gaussian-logit", "least squares on logit y for shares (percentages divided by 100); odds ratios",
           link="logit", gaussian=True),
    Family("poisson", "Poisson GLM, log link"),
    Family("quasipoisson", "Poisson GLM, covariance scaled by the Pearson dispersion"),
    Family("negbin", "NB2 GLM, Var = mu + dispersion mu^2, dispersion by the Pearson moment equation",
           has_dispersion=True),
))

"""The likelihood families of an ITS fit, as small objects in one registry (``FAMILY_MODELS``).

Each :class:`Family` has a ``name``, a readable ``str()``, and what a fit needs of it, so the estimation code
(``spamits.its._estimate``, ``_gls``, ``_profile``, ``batch``) asks the family instead of testing its name:
the link (``transform``, ``inverse_link``), the value check of the series (``check_values``), the NB2
dispersion it uses (``nb``), the Fisher weights and residuals at a fit (``weights``), the log-likelihood
(``loglik``; the NB2 one is :func:`nb_loglik`, the Pearson residuals :func:`pearson`, each written once) and
the likelihood-ratio statistic of batched fits (``likelihood_ratio``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from spamits.errors import ModelSpecError


def nb_sd(mu: np.ndarray, dispersion: np.ndarray | float) -> np.ndarray:
    """Standard deviation ``sqrt(mu·(1 + dispersion·mu))`` of NB2 counts with mean ``mu`` (dispersion 0:
    Poisson); ``dispersion`` broadcasts against ``mu``."""
    return np.sqrt(mu * (1 + dispersion * mu))


def pearson(y: np.ndarray, mu: np.ndarray, dispersion: np.ndarray | float) -> np.ndarray:
    """Pearson residuals ``(y - mu) / nb_sd(mu, dispersion)`` of counts (the one formula every fit uses)."""
    return (y - mu) / nb_sd(mu, dispersion)


def nb_loglik(y: np.ndarray, mu: np.ndarray, dispersion: np.ndarray | float) -> np.ndarray:
    """NB2 log-likelihood summed over the last axis of ``mu`` (..., m) for counts ``y`` (m,), at ``dispersion``
    (> 0; a scalar or broadcasting as (..., 1)): ``Var = mu + dispersion·mu²``."""
    r = 1.0 / dispersion
    return np.sum(special.gammaln(y + r) - special.gammaln(r) - special.gammaln(y + 1)
                  + r * np.log(r / (r + mu)) + y * np.log(mu / (r + mu)), axis=-1)


def poisson_loglik(y: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Poisson log-likelihood summed over the last axis of ``mu`` (..., m) for counts ``y`` (m,)."""
    return np.sum(y * np.log(mu) - mu - special.gammaln(y + 1), axis=-1)


@dataclass(frozen=True)
class Family:
    """One likelihood family: ``name`` (as ``fit(family=...)`` takes it), ``link`` (``"log"`` or ``"logit"``),
    ``gaussian`` (least squares on the link scale), ``has_dispersion`` (the NB2 dispersion is estimated),
    ``pearson_scale`` (the covariance is scaled by the Pearson dispersion: quasi-Poisson) and ``reports_scale``
    (the summary shows the scale: σ² of gaussian-log, the Pearson dispersion of quasi-Poisson)."""

    name: str
    description: str
    link: str = "log"
    gaussian: bool = False
    has_dispersion: bool = False
    pearson_scale: bool = False
    reports_scale: bool = False

    def __str__(self) -> str:
        return f"{self.name}: {self.description}"

    @property
    def n_extra_params(self) -> int:
        """Parameters beyond the coefficients in AIC/BIC: 1 for the NB2 dispersion and the Gaussian variance."""
        return int(self.has_dispersion or self.gaussian)

    def nb(self, dispersion: float) -> float:
        """The NB2 dispersion the likelihood uses: ``dispersion`` for negbin, 0 (Poisson) for the others."""
        return dispersion if self.has_dispersion else 0.0

    def transform(self, y: np.ndarray) -> np.ndarray:
        """The working response of a Gaussian family: ``log y`` or ``logit y`` (shares)."""
        return np.log(y / (1 - y)) if self.link == "logit" else np.log(y)

    def inverse_link(self, eta: np.ndarray) -> np.ndarray:
        """exp for the log-link families, expit for the logit link."""
        if self.link == "logit":
            return 1.0 / (1.0 + np.exp(-eta))
        return np.exp(eta)

    def response(self, eta: np.ndarray, gamma0: float, noise: np.ndarray | None = None,
                 share_scale: float = 1.0) -> np.ndarray:
        """The linear predictor ``eta`` (plus link-scale ``noise`` for draws) in the series' unit, with ``gamma0``
        the variance of the link-scale residuals.

        Count families: ``exp(η)`` is the mean and draws use mean-one noise ``exp(v - γ0/2)``; gaussian-log:
        ``exp(η + γ0/2)`` (log-normal mean) and draws ``exp(η + v)``; logit link: ``expit(η)`` and draws
        ``expit(η + v)``, times ``share_scale`` (100 for a series in percent).
        """
        half = gamma0 / 2
        if self.link == "logit":
            z = eta if noise is None else eta + noise
            return share_scale / (1.0 + np.exp(-z))
        if self.gaussian:
            return np.exp(eta + half if noise is None else eta + noise)
        return np.exp(eta if noise is None else eta + noise - half)

    def check_values(self, y: np.ndarray) -> None:
        """ModelSpecError when the observed values ``y`` (m,) cannot be modelled by this family."""
        if self.gaussian and self.link == "log" and np.any(y <= 0):
            raise ModelSpecError(f"family={self.name!r} needs y > 0 on every day (it models log y); the series has "
                                 f"{int(np.sum(y <= 0))} zero or negative values: use 'negbin' or 'quasipoisson'")
        if self.link == "logit" and np.any((y <= 0) | (y >= 1)):
            raise ModelSpecError(f"family={self.name!r} needs shares strictly between 0 and 1 (or percentages "
                                 "strictly between 0 and 100); the series has values at or beyond the bounds")

    def weights(self, y: np.ndarray, eta: np.ndarray, dispersion: float) -> tuple[np.ndarray, ...]:
        """Fisher weights, Pearson residuals and log-scale residuals (each (m,)) of the observed rows at the
        linear predictor ``eta`` (m,), with the NB2 ``dispersion`` (0 for the other families)."""
        if self.gaussian:
            r = self.transform(y) - eta
            return np.ones_like(y), r, r
        mu = np.exp(eta)
        return mu**2 / (mu * (1 + dispersion * mu)), pearson(y, mu, dispersion), np.log((y + 0.5) / (mu + 0.5))

    def loglik(self, y: np.ndarray, mu: np.ndarray, dispersion: np.ndarray | float) -> np.ndarray:
        """Count log-likelihood (summed over the last axis of ``mu``): NB2 at ``dispersion`` (> 0) for negbin,
        Poisson otherwise."""
        return nb_loglik(y, mu, dispersion) if self.has_dispersion else poisson_loglik(y, mu)

    def likelihood_ratio(self, fit: object, null: object, y: np.ndarray) -> np.ndarray:
        """``2·(loglik_fit - loglik_null)`` (D,) of batched fits (``spamits.its.batch.BatchFit``); Gaussian
        families ``m·log(RSS_null/RSS_fit)``; quasi-Poisson divides the Poisson statistic by each fit's scale."""
        if self.gaussian:
            rss, rss0 = np.sum(fit.pearson**2, axis=1), np.sum(null.pearson**2)
            return len(y) * np.log(rss0 / rss)

        def loglik(b: object) -> np.ndarray:
            return self.loglik(y, np.exp(b.eta), np.maximum(b.dispersion, 1e-12)[:, None])

        lr = 2 * (loglik(fit) - loglik(null)[0])
        return lr / fit.scale if self.pearson_scale else lr


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
    Family("gaussian-log", "least squares on log y; counterfactual mean exp(eta + sigma^2/2)", gaussian=True,
           reports_scale=True),
    Family("gaussian-logit", "least squares on logit y for shares (percentages divided by 100); odds ratios",
           link="logit", gaussian=True),
    Family("poisson", "Poisson GLM, log link"),
    Family("quasipoisson", "Poisson GLM, covariance scaled by the Pearson dispersion", pearson_scale=True,
           reports_scale=True),
    Family("negbin", "NB2 GLM, Var = mu + dispersion mu^2, dispersion by the Pearson moment equation",
           has_dispersion=True),
))

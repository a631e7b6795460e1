"""Interrupted time-series models of spam volume: ``fit`` returns an :class:`ITSResult`.

See :func:`fit` for the model; ``ERRORS`` lists the error models, ``FAMILIES`` the likelihoods and ``EFFECTS``
the effect shapes.  This package never imports plotly, papermill or nbconvert and does no file I/O.
"""

from spamits.its._compare import compare, fit_specs, verdict
from spamits.its._covariance import ERRORS
from spamits.its._design import EFFECTS
from spamits.its._estimate import FAMILIES
from spamits.its._fit import DEFAULT_ERRORS, fit
from spamits.its._result import ITSResult

__all__ = ["DEFAULT_ERRORS", "EFFECTS", "ERRORS", "FAMILIES", "ITSResult", "compare", "fit", "fit_specs", "verdict"]

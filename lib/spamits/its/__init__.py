"""Interrupted time-series models of spam volume: ``fit`` returns an :class:`ITSResult`.

See :func:`fit` for the model and :class:`ITSModel` for the checked model object behind it (its ``fit`` and the
batched fits of the robustness scans); ``ERRORS`` lists the error models, ``FAMILIES`` the likelihoods,
``COUNTERFACTUALS`` the counterfactual noises, ``INTERVALS`` the ways ``impact`` makes its intervals,
``PRE_BREAKS`` what the fit does with a break in the pre-period and
``EFFECTS`` the effect shapes (``ERROR_MODELS`` and ``FAMILY_MODELS``: their registries).  The design is made
of term objects (``spamits.its.terms``: ``Constant``,
``Trend``, ``DayOfWeek``, ``HourOfDay``, ``Fourier``, ``Control`` and the event terms ``Level``, ``Slope``,
``Decay``) assembled by a ``Design``.  This package never imports plotly, papermill or nbconvert and does no
file I/O.
"""

from spamits.its._api import fit
from spamits.its._compare import compare, fit_specs, verdict
from spamits.its._conditional import COUNTERFACTUALS, DEFAULT_COUNTERFACTUAL
from spamits.its._design import EFFECTS, NATURAL_PERIOD
from spamits.its._events import EventRef, as_event
from spamits.its._result import ITSResult
from spamits.its._summary import clean
from spamits.its.calibrate import DEFAULT_INTERVAL, INTERVALS
from spamits.its.errormodels import DEFAULT_ERRORS, ERROR_MODELS
from spamits.its.families import FAMILY_MODELS
from spamits.its.model import ITSModel
from spamits.its.prebreak import DEFAULT_PRE_BREAK, PRE_BREAKS
from spamits.its.precheck import PreCheck, precheck
from spamits.its.terms import (
    Constant,
    Control,
    DayOfWeek,
    Decay,
    Design,
    DeterministicTerm,
    Fourier,
    HourOfDay,
    Level,
    Slope,
    Trend,
)

ERRORS = {name: str(model) for name, model in ERROR_MODELS.items()}
FAMILIES = tuple(FAMILY_MODELS)

__all__ = ["COUNTERFACTUALS", "DEFAULT_COUNTERFACTUAL", "DEFAULT_ERRORS", "DEFAULT_INTERVAL", "DEFAULT_PRE_BREAK",
           "EFFECTS", "ERRORS", "ERROR_MODELS", "FAMILIES", "FAMILY_MODELS", "INTERVALS", "Constant", "Control",
           "DayOfWeek", "Decay", "Design", "DeterministicTerm", "EventRef", "Fourier", "HourOfDay", "ITSModel",
           "ITSResult", "Level", "NATURAL_PERIOD", "PRE_BREAKS", "PreCheck", "Slope", "Trend", "as_event", "clean",
           "compare", "fit", "fit_specs", "precheck", "verdict"]

"""Exceptions and warnings raised by spamits.

Every spamits exception subclasses both :class:`SpamitsError` and the builtin it narrows, so callers can
catch either.  Warnings all derive from :class:`SpamitsWarning`.  This module imports nothing from spamits.
"""

from __future__ import annotations

import warnings

__all__ = [
    "DataFileNotFoundError",
    "DataGapWarning",
    "DataValidationError",
    "FitDivergedError",
    "ModelFitWarning",
    "ModelSpecError",
    "ReportError",
    "SpamitsError",
    "SpamitsWarning",
    "UnknownEventError",
    "warn",
]


class SpamitsError(Exception):
    """Base class of every error raised by spamits."""


class DataValidationError(SpamitsError, ValueError):
    """A data file or series is malformed; the message names the file, row and problem."""


class DataFileNotFoundError(DataValidationError, FileNotFoundError):
    """A data file (the event catalog, vendor figures...) is missing; the message names it and what to do."""


class UnknownEventError(SpamitsError, KeyError):
    """An event id is not in the catalog."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class ModelSpecError(SpamitsError, ValueError):
    """An argument of a model call is invalid; the message names the argument and the allowed values."""


class FitDivergedError(ModelSpecError):
    """An effect estimate ran off to infinity: the data cannot bound it (the message says why and what to use).
    ``separation`` is true when the first post periods hold a zero count and none is missing."""

    separation: bool = False


class ReportError(SpamitsError, RuntimeError):
    """A report run failed."""


class SpamitsWarning(UserWarning):
    """Base class of every warning raised by spamits."""


class DataGapWarning(SpamitsWarning):
    """A series has missing periods; they are reported and left missing, never filled."""


class ModelFitWarning(SpamitsWarning):
    """A fit succeeded but something about it deserves attention (short pre-period, boundary estimate...)."""


def warn(message: str, category: type[SpamitsWarning] = SpamitsWarning, stacklevel: int = 3) -> None:
    """Issue a spamits warning pointing at the caller's caller (the user's line)."""
    warnings.warn(message, category, stacklevel=stacklevel)

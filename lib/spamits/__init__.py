"""spamits: interrupted time-series analysis of spam volume around spam-infrastructure takedowns.

Submodules: ``events`` (takedown catalog), ``data`` (loading, validation, simulation), ``its`` (models),
``plots`` (plotly figure builders), ``report`` (papermill/nbconvert runner), ``cli``.
``its``, ``plots`` and ``report`` are imported lazily, so that the statistics never pull in plotly or papermill
and counting spam-trap archives (``spamits.ingest``) never pulls in statsmodels.
"""

from __future__ import annotations

import importlib
from typing import Any

from spamits import data, errors, events

__version__ = "0.1.0"

__all__ = ["__version__", "data", "errors", "events", "its", "plots", "report"]

_LAZY = {"its", "plots", "report"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return importlib.import_module(f"spamits.{name}")
    raise AttributeError(f"module 'spamits' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)

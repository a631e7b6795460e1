"""Where spamits finds its shipped data, independent of the current working directory.

Notebooks run from ``notebooks/`` (JupyterLab, nbval) or from a report folder (papermill), so paths are
resolved from the package location, never from the working directory.  ``SPAMITS_DATA_DIR`` overrides the
data folder (for an installed, non-editable package or for tests).
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parents[1]


def data_dir() -> Path:
    """The folder holding ``events.csv``, ``vendor_figures.csv`` and friends."""
    override = os.environ.get("SPAMITS_DATA_DIR")
    return Path(override).resolve() if override else PROJECT_ROOT / "data"


def data_file(name: str) -> Path:
    """Absolute path of a shipped data file, e.g. ``data_file("events.csv")``."""
    return data_dir() / name

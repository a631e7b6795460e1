"""Where spamits finds its shipped data, independent of the current working directory.

Notebooks run from ``notebooks/`` (JupyterLab, nbval) or from a report folder (papermill), so paths are
resolved from the package location, never from the working directory.  ``SPAMITS_DATA_DIR`` overrides the
data folder (for an installed, non-editable package or for tests); a value that is not a readable folder is a
:class:`~spamits.errors.DataValidationError` naming the variable and the path.
"""

from __future__ import annotations

import os
from pathlib import Path

from spamits.errors import DataFileNotFoundError, DataValidationError

__all__ = ["DATA_DIR_ENV", "PACKAGE_DIR", "PROJECT_ROOT", "data_dir", "data_file", "missing_file_message"]

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parents[1]
DATA_DIR_ENV = "SPAMITS_DATA_DIR"


def data_dir() -> Path:
    """The folder holding ``events.csv``, ``vendor_figures.csv`` and friends (absolute).

    ``$SPAMITS_DATA_DIR`` when set (it must name an existing, readable folder, else
    :class:`~spamits.errors.DataValidationError`), else ``data/`` of the project.
    """
    override = os.environ.get(DATA_DIR_ENV)
    if not override:
        return PROJECT_ROOT / "data"
    path = Path(override).expanduser().resolve()
    fix = f"Set {DATA_DIR_ENV} to the folder holding events.csv, or unset it to use {PROJECT_ROOT / 'data'}."
    if not path.exists():
        raise DataValidationError(f"{DATA_DIR_ENV}={override!r}: {path} does not exist. {fix}")
    if not path.is_dir():
        raise DataValidationError(f"{DATA_DIR_ENV}={override!r}: {path} is a file, not a folder. {fix}")
    if not os.access(path, os.R_OK | os.X_OK):
        raise DataValidationError(f"{DATA_DIR_ENV}={override!r}: the folder {path} cannot be read (permission "
                                  f"denied). Make it readable, or {fix[0].lower()}{fix[1:]}")
    return path


def data_file(name: str, *, must_exist: bool = False) -> Path:
    """Absolute path of a data file, e.g. ``data_file("events.csv")``.

    ``must_exist=True``: raise :class:`~spamits.errors.DataFileNotFoundError` (a ``DataValidationError`` and a
    ``FileNotFoundError``) naming the file, the folder and, when set, ``SPAMITS_DATA_DIR``, if it is missing.
    """
    path = data_dir() / name
    if must_exist and not path.is_file():
        raise DataFileNotFoundError(missing_file_message(path))
    return path


def missing_file_message(path: Path) -> str:
    """Why a shipped data file at ``path`` is missing and what to do, naming ``SPAMITS_DATA_DIR`` when it is set."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return (f"{path.name} not found in {path.parent} (from {DATA_DIR_ENV}={override!r}). Point "
                f"{DATA_DIR_ENV} at the folder holding {path.name}, or unset it to use the project's data/.")
    return f"{path.name} not found: {path}. Restore it from the repository, or set {DATA_DIR_ENV} to a folder " \
           f"holding it."

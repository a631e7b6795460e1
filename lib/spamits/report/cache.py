"""Content hashes that decide whether a report run must be executed again (``spamits report`` cache).

A run's inputs are its notebook file, its parameters, the package code (``lib/spamits/**/*.py`` and the
templates), the data files it can read (the data folder's files and ``data/derived/``, a ``requires:`` file, a
parameter naming an existing file such as a CSV series), the versions of the libraries that shape its
outputs, and the report settings (kernel, plotly renderer, static images).  :func:`cache_inputs` lists one
SHA-256 per input; :func:`cache_key` hashes that list.  The report runner stores both in the run's
``run_metadata.json`` and skips a run whose stored key equals the current one (:func:`run_cache_inputs`,
:func:`stored_cache_key`).

Not covered: files a notebook reads that are named neither by a parameter nor under the data folder, and the
network.  ``spamits report --force`` re-runs everything.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from spamits.paths import PACKAGE_DIR, PROJECT_ROOT, data_dir
from spamits.report.records import (
    CELL_TIMEOUT,
    KERNEL_NAME,
    METADATA_FILE,
    REPORT_RENDERER,
    Run,
    report_files,
    required_path,
)

CACHE_FORMAT = 1
"""Bumped when the meaning of the key changes, so every stored key is stale."""
TRACKED_DISTRIBUTIONS = ("numpy", "pandas", "scipy", "statsmodels", "plotly", "kaleido", "papermill", "nbconvert",
                         "nbformat", "ipykernel", "jinja2")
"""Libraries whose version can change a run's outputs (numbers, figure JSON, images or HTML)."""
_CHUNK = 1 << 20


def file_digest(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def tree_digest(root: Path, patterns: Iterable[str]) -> str:
    """Hex SHA-256 over the relative paths and contents of the files under ``root`` matching ``patterns``."""
    digest = hashlib.sha256()
    files = sorted({p for pattern in patterns for p in root.glob(pattern) if p.is_file()})
    for path in files:
        if "__pycache__" in path.parts:
            continue
        digest.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0")
        digest.update(file_digest(path).encode("ascii") + b"\n")
    return digest.hexdigest()


def package_digest() -> str:
    """Hash of the package code: ``lib/spamits/**/*.py`` and everything under ``templates/``."""
    return tree_digest(PACKAGE_DIR, ("**/*.py", "templates/**/*"))


def data_digests() -> dict[str, str]:
    """``{"data/<name>": sha256}`` for the data folder's files (README excepted) and ``data/derived/*``.

    ``data/raw/`` (downloaded archives) is left out: runs read the series derived from it.
    """
    root = data_dir()
    files = [p for p in root.glob("*") if p.is_file() and not p.name.lower().startswith("readme")]
    files += [p for p in (root / "derived").glob("*") if p.is_file()]
    return {f"data/{p.relative_to(root).as_posix()}": file_digest(p) for p in sorted(files)}


def parameter_files(parameters: Mapping[str, Any], notebook_dir: Path) -> dict[str, Path]:
    """Files named by string parameters (absolute, or relative to the project root or the notebook's folder)."""
    found: dict[str, Path] = {}
    for name, value in sorted(parameters.items()):
        if not isinstance(value, str) or not value or len(value) > 4096:
            continue
        path = Path(value)
        candidates = [path] if path.is_absolute() else [PROJECT_ROOT / path, notebook_dir / path]
        for candidate in candidates:
            try:
                if candidate.is_file():
                    found[name] = candidate
                    break
            except OSError:
                continue
    return found


def environment_versions() -> dict[str, str]:
    """Python and tracked library versions (``"-"`` for a library that is not installed)."""
    versions = {"python": platform.python_version()}
    for name in TRACKED_DISTRIBUTIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "-"
    return versions


def cache_inputs(
    notebook: Path,
    parameters: Mapping[str, Any],
    *,
    requires: Path | None = None,
    settings: Mapping[str, Any] | None = None,
    package: str | None = None,
    data: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The inputs of one run, each as a hash or a small JSON value (see the module docstring).

    ``package`` and ``data`` may be passed in when several runs are keyed at once (they are the same for all).
    """
    inputs: dict[str, Any] = {
        "format": CACHE_FORMAT,
        "notebook": file_digest(notebook),
        "parameters": json.loads(json.dumps(dict(parameters), sort_keys=True, default=str)),
        "package": package if package is not None else package_digest(),
        "data": dict(data if data is not None else data_digests()),
        "environment": environment_versions(),
        "settings": dict(settings or {}),
    }
    if requires is not None and requires.is_file():
        inputs["requires"] = file_digest(requires)
    files = parameter_files(parameters, notebook.parent)
    if files:
        inputs["parameter_files"] = {name: file_digest(path) for name, path in files.items()}
    return inputs


def cache_key(inputs: Mapping[str, Any]) -> str:
    """Hex SHA-256 of the canonical JSON of :func:`cache_inputs`."""
    text = json.dumps(inputs, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def run_cache_inputs(run: Run, static_images: bool, shared: Mapping[str, Any] | None = None, *,
                     self_contained: bool = False) -> dict[str, Any]:
    """The content hashes that key ``run`` (:func:`cache_inputs` with the report settings).

    ``shared``: ``{"package": ..., "data": ...}`` computed once for several runs (else computed here).
    ``self_contained``: pages embed plotly.js (recorded only when set, so other keys stay as they were).
    """
    shared = shared or {}
    settings = {"kernel": KERNEL_NAME, "renderer": REPORT_RENDERER, "static_images": static_images,
                "timeout": CELL_TIMEOUT}
    if self_contained:
        settings["self_contained"] = True
    requires = required_path(run.requires) if run.requires else None
    return cache_inputs(run.notebook, run.parameters, requires=requires, settings=settings,
                        package=shared.get("package"), data=shared.get("data"))


def stored_cache_key(run: Run, out: Path) -> str | None:
    """The cache key recorded with the good report of ``run`` in ``out``, or None (no complete report, or
    unreadable)."""
    folder = out / run.name
    if not all((folder / name).is_file() for name in report_files(run.name)):
        return None
    try:
        key = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8")).get("cache_key")
    except (OSError, ValueError, AttributeError):
        return None
    return key if isinstance(key, str) else None

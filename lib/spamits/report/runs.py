"""The runs file (``notebooks/runs.yaml``): read and validate it into :class:`~spamits.report.records.Run`
objects (:func:`load_runs`)."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

import yaml

from spamits.errors import ReportError
from spamits.report.generate import GENERATE_KEY, add_real_series, generate_entry
from spamits.report.parameters import check_run_parameters
from spamits.report.records import DEFAULT_NOTEBOOK, Run, required_path

__all__ = ["RUN_KEYS", "load_runs"]

log = logging.getLogger(__name__)

RUN_KEYS = ("name", "notebook", "parameters", "requires")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def load_runs(path: str | os.PathLike[str]) -> list[Run]:
    """Read and validate a runs file (YAML list of ``{name, notebook, parameters}``).

    ``notebook`` defaults to ``takedown_its.ipynb`` and is resolved relative to the runs file's folder.
    ``requires`` (optional) names a data file (``data/...`` resolves under :func:`spamits.paths.data_dir`, other
    relative paths under the project root); an entry whose file does not exist is validated, then left out.
    An entry ``- generate: untroubled`` stands for the runs of the derived spam-trap counts, in its place
    (:func:`spamits.report.untroubled_runs`; none while those files do not exist), and gives the
    ``compare-takedowns`` run the parameter ``real_series`` (unless the runs file sets it).
    Raises :class:`ReportError` naming the file and entry for a missing file, bad YAML, unknown keys, a bad or
    duplicate name, a missing notebook, or a parameter the notebook's ``parameters`` cell does not define.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"{path}: runs file not found") from None
    except yaml.YAMLError as exc:
        raise ReportError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, list) or not data:
        raise ReportError(f"{path}: expected a non-empty YAML list of runs (- name: ..., parameters: ...)")
    runs: list[Run] = []
    seen: set[str] = set()
    known: dict[Path, Any] = {}
    real_series: dict[str, str] = {}
    for number, entry in enumerate(data, start=1):
        if isinstance(entry, dict) and GENERATE_KEY in entry:
            generated, real = generate_entry(path, number, entry, known)
            real_series.update(real)
        else:
            generated = [_parse_entry(path, number, entry, known)]
        for run in generated:
            if run.name in seen:
                raise ReportError(f"{run.origin}: duplicate run name {run.name!r}; each name must be unique")
            seen.add(run.name)
            if run.requires is not None and not required_path(run.requires).is_file():
                log.info("%s: skipped: it requires %s, which does not exist", run.origin,
                         required_path(run.requires))
                continue
            runs.append(run)
    add_real_series(runs, real_series, known)
    return runs


def _parse_entry(path: Path, number: int, entry: Any, known: dict[Path, Any]) -> Run:
    where = f"{path} entry {number}"
    if not isinstance(entry, dict):
        raise ReportError(f"{where}: expected a mapping with keys {', '.join(RUN_KEYS)}, got {entry!r}")
    name = entry.get("name")
    if isinstance(name, str):
        where = f"{where} ({name!r})"
    unknown = sorted(set(map(str, entry)) - set(RUN_KEYS))
    if unknown:
        raise ReportError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed keys: {', '.join(RUN_KEYS)}")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ReportError(
            f"{where}: name {name!r} is missing or invalid; use lower-case letters, digits, '-' and '_' "
            "(it names the report folder)"
        )
    notebook = entry.get("notebook", DEFAULT_NOTEBOOK)
    if not isinstance(notebook, str) or not notebook:
        raise ReportError(f"{where}: notebook must be a file name relative to {path.parent}, got {notebook!r}")
    nb_path = (path.parent / notebook).resolve()
    if not nb_path.is_file():
        raise ReportError(f"{where}: notebook {notebook!r} not found (looked for {nb_path})")
    parameters = entry.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise ReportError(f"{where}: parameters must be a mapping of name: value, got {parameters!r}")
    check_run_parameters(where, nb_path, parameters, known)
    requires = entry.get("requires")
    if requires is not None and (not isinstance(requires, str) or not requires.strip()):
        raise ReportError(f"{where}: requires must be the path of a data file, got {requires!r}")
    return Run(name=name, notebook=nb_path, parameters=dict(parameters), origin=where, requires=requires)

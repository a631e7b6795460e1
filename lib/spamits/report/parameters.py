"""A notebook's ``parameters`` cell: the names it defines, their default values, and checking given parameters
against them (a misspelt name is an error that suggests the closest defined one).

Read with :mod:`ast` from the notebook's JSON (the names papermill's ``inspect_notebook`` reports for a Python
notebook), so checking needs neither nbformat nor papermill.
"""

from __future__ import annotations

import ast
import difflib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from spamits.errors import ReportError

__all__ = [
    "NOT_A_LITERAL", "RUNNER_PARAMETERS", "check_names", "check_run_parameters", "closest", "notebook_parameters",
]

RUNNER_PARAMETERS = ("results_path",)
"""Parameters the report runner sets itself; a runs file may not."""
NOT_A_LITERAL: Any = object()
"""The default of a parameter whose value in the cell is an expression rather than a literal."""


def notebook_parameters(nb_path: Path) -> dict[str, Any] | None:
    """``{name: default}`` for every name assigned in the notebook's ``parameters`` cell, in cell order, or
    None when the notebook has no cell tagged ``parameters``.

    A default that is not a Python literal (e.g. ``Path(...)``) is :data:`NOT_A_LITERAL`.  Raises
    :class:`ReportError` naming the file when it cannot be read or the cell is not valid Python.
    """
    try:
        nb = json.loads(Path(nb_path).read_text(encoding="utf-8"))
        cells = [c for c in nb.get("cells", []) if "parameters" in (c.get("metadata") or {}).get("tags", [])]
    except (OSError, ValueError, AttributeError) as exc:
        raise ReportError(f"{nb_path}: cannot read the notebook: {exc}") from None
    if not cells:
        return None
    source = cells[0].get("source", "")
    source = "".join(source) if isinstance(source, list) else str(source)
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ReportError(f"{nb_path}: the parameters cell is not valid Python: {exc}") from None
    defaults: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign):
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            for name in (n.id for n in ast.walk(target) if isinstance(n, ast.Name)):
                defaults[name] = _literal(value) if isinstance(target, ast.Name) else NOT_A_LITERAL
    return defaults


def _literal(node: ast.expr | None) -> Any:
    if node is None:
        return NOT_A_LITERAL
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return NOT_A_LITERAL


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like ``name`` (:func:`difflib.get_close_matches`, cutoff 0.6), or None."""
    matches = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def check_names(where: str, nb_path: Path, given: Iterable[str], declared: Mapping[str, Any] | Iterable[str]) -> None:
    """Raise :class:`ReportError` when a name in ``given`` is not among ``declared`` (the parameters cell's).

    The message starts with ``where``, names every unknown parameter (with the closest defined name for each
    that has one) and lists what the cell defines.
    """
    declared = set(declared)
    unknown = sorted(set(given) - declared)
    if not unknown:
        return
    hints = [f"{name!r} -> did you mean {match!r}?" for name in unknown if (match := closest(name, declared))]
    hint = f" ({'; '.join(hints)})" if hints else ""
    raise ReportError(
        f"{where}: unknown parameter(s) {', '.join(unknown)} for {nb_path.name}; "
        f"its parameters cell defines: {', '.join(sorted(declared))}{hint}"
    )


def check_run_parameters(where: str, nb_path: Path, parameters: Mapping[Any, Any],
                         known: dict[Path, dict[str, Any] | None]) -> None:
    """Check the parameters of a runs-file entry: identifiers, none set by the runner, all defined by the
    notebook's ``parameters`` cell (not checked when it has none).  ``known`` caches each notebook's cell."""
    for key in parameters:
        if not isinstance(key, str) or not key.isidentifier():
            raise ReportError(f"{where}: parameter name {key!r} is not a valid Python identifier")
        if key in RUNNER_PARAMETERS:
            raise ReportError(f"{where}: parameter {key!r} is set by the report runner; remove it")
    if nb_path not in known:
        known[nb_path] = notebook_parameters(nb_path)
    declared = known[nb_path]
    if declared is not None:
        check_names(where, nb_path, parameters, declared)

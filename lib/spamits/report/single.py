"""Run one notebook with papermill after checking its parameters by name (``spamits run``).

Plain ``papermill -p NAME VALUE`` injects any name, so a misspelt one (``-p efect step``) is silently ignored and
the notebook runs with its default.  :func:`parse_parameters` checks every name against the notebook's
``parameters`` cell (an unknown one is an error that suggests the closest defined name) and converts each
value to the type of that parameter's default; :func:`run_notebook` checks again and runs papermill.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from spamits.errors import ReportError
from spamits.report.interrupts import deferred_interrupts, stop_children
from spamits.report.parameters import check_names, notebook_parameters
from spamits.report.records import KERNEL_ARGUMENTS, KERNEL_NAME

__all__ = ["declared_parameters", "default_output", "parse_parameters", "parse_value", "run_notebook"]

log = logging.getLogger(__name__)

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def declared_parameters(notebook: str | os.PathLike[str]) -> dict[str, Any]:
    """``{name: default}`` of the notebook's ``parameters`` cell.  Raises :class:`ReportError` when the file
    does not exist or is not a notebook, or has no cell tagged ``parameters``."""
    path = Path(notebook)
    if not path.is_file():
        raise ReportError(f"{path}: notebook not found")
    declared = notebook_parameters(path)
    if declared is None:
        raise ReportError(f"{path}: no cell is tagged 'parameters', so no parameter can be set or checked")
    return declared


def parse_value(name: str, text: str, default: Any) -> Any:
    """Convert the text of ``-p NAME VALUE`` to the type of NAME's default in the parameters cell.

    A ``str`` default keeps the text as it is (``-p series 42`` is the text "42"); ``bool``: true/false,
    yes/no, on/off, 1/0; ``int``: a whole number; ``float``: a number; any other default (``None``, a list, a
    dict, an expression) takes YAML (``-p joint_events '[]'``, ``-p real_series '{mccolo: untroubled}'``).
    ``default=None`` therefore parses ``text`` as YAML (``-y``).
    Raises :class:`ReportError` naming the parameter, its type and the value.
    """
    if isinstance(default, str):
        return text
    if isinstance(default, bool):
        word = text.strip().lower()
        if word in _TRUE | _FALSE:
            return word in _TRUE
        return _bad(name, text, default, "true or false")
    if isinstance(default, int):
        try:
            return int(text)
        except ValueError:
            return _bad(name, text, default, "a whole number")
    if isinstance(default, float):
        try:
            return float(text)
        except ValueError:
            return _bad(name, text, default, "a number")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ReportError(f"{name} {text!r}: not valid YAML ({exc}); {name} takes YAML, e.g. '[]' or "
                          "'{key: value}'") from None


def _bad(name: str, text: str, default: Any, wanted: str) -> Any:
    raise ReportError(f"-p {name} {text!r}: {name} is a {type(default).__name__} in the parameters cell (default "
                      f"{default!r}); give {wanted}")


def parse_parameters(notebook: str | os.PathLike[str], pairs: Sequence[tuple[str, str]],
                     yaml_pairs: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    """Check the names of ``pairs`` (``-p NAME VALUE``) and ``yaml_pairs`` (``-y NAME YAML``) against the
    notebook's parameters cell and convert each value: ``pairs`` to the type of the default
    (:func:`parse_value`), ``yaml_pairs`` as YAML whatever the default (``-y seasonality 3``, ``-y seasonality
    null``).  A name given twice keeps its last value.  Raises :class:`ReportError` for an unknown name
    (suggesting the closest defined one) or a bad value."""
    path = Path(notebook)
    declared = declared_parameters(path)
    check_names(str(path), path, [name for name, _ in [*pairs, *yaml_pairs]], declared)
    values = {name: parse_value(name, text, declared[name]) for name, text in pairs}
    for name, text in yaml_pairs:
        values[name] = parse_value(name, text, None)
    return values


def default_output(notebook: str | os.PathLike[str]) -> Path:
    """Where ``spamits run`` writes the executed notebook without ``-o``: ``<stem>.out.ipynb`` in the current
    folder."""
    return Path.cwd() / f"{Path(notebook).stem}.out.ipynb"


def run_notebook(
    notebook: str | os.PathLike[str],
    parameters: Mapping[str, Any] | None = None,
    *,
    output: str | os.PathLike[str] | None = None,
    kernel: str = KERNEL_NAME,
) -> Path:
    """Execute ``notebook`` with ``parameters`` (already typed; every name checked against its parameters cell)
    into ``output`` (default :func:`default_output`), the kernel working in ``output``'s folder, so files the
    notebook writes (``results.json``) land beside it.  Returns the output path.

    Raises :class:`ReportError` for an unknown parameter name, an output that would overwrite the notebook, or a
    failing cell (the message names the cell and the error; the output notebook shows the traceback).
    KeyboardInterrupt ends the kernel before it is re-raised.
    """
    import papermill

    from spamits.report.kernels import kernel_manager_class

    path = Path(notebook)
    parameters = dict(parameters or {})
    check_names(str(path), path, parameters, declared_parameters(path))
    out = Path(output) if output is not None else default_output(path)
    if out.resolve() == path.resolve():
        raise ReportError(f"{out}: the output would overwrite the notebook itself; choose another file with -o")
    if not out.parent.is_dir():
        raise ReportError(f"{out}: the output folder {out.parent} does not exist; create it or choose another -o")
    log.info("running %s into %s with %s", path, out, parameters or "its default parameters")
    try:
        papermill.execute_notebook(
            str(path), str(out), parameters=parameters, kernel_name=kernel, progress_bar=False, log_output=False,
            cwd=str(out.parent.resolve()), extra_arguments=list(KERNEL_ARGUMENTS),
            kernel_manager_class=kernel_manager_class(),
        )
    except papermill.PapermillExecutionError as exc:
        raise ReportError(f"{path}: notebook cell In [{exc.exec_count}] failed: {exc.ename}: {exc.evalue} "
                          f"(the traceback is in {out})") from exc
    except KeyboardInterrupt:
        with deferred_interrupts():
            stop_children()
        raise
    return out

"""Tests of the public API surface: ``spamits.__all__``, lazy heavy imports, and import direction."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import spamits
import spamits.errors

HEAVY = ("plotly", "papermill", "nbconvert")


def test_all_is_pinned():
    assert spamits.__all__ == ["__version__", "data", "errors", "events", "its", "plots", "report"]
    assert dir(spamits) == sorted(spamits.__all__)
    assert spamits.plots.__name__ == "spamits.plots"  # lazy attribute


def test_its_contract_names_are_exported():
    assert {"fit", "ITSResult"} <= set(spamits.its.__all__)
    assert callable(spamits.its.fit)


def _loaded_after(code: str) -> list[str]:
    probe = (f"import sys\n{code}\n"
             f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return ast.literal_eval(out.stdout.strip().splitlines()[-1])


def test_statistics_do_not_import_plotly_papermill_or_nbconvert():
    code = ("import warnings\nwarnings.simplefilter('error')\nimport spamits.its\n"
            "from spamits.data import simulate\n"
            "df = simulate('mccolo')\n"
            "r = spamits.its.fit(df['observed'], '2008-11-11', effect='decay', n_draws=100)\n"
            "r.impact(); r.summary(); r.to_dict()")
    assert _loaded_after(code) == []


def test_errors_imports_nothing_from_spamits():
    path = Path(spamits.errors.__file__)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}:{node.lineno}: relative import"
            assert not (node.module or "").startswith("spamits"), f"{path.name}:{node.lineno}"
        elif isinstance(node, ast.Import):
            assert not any(a.name.startswith("spamits") for a in node.names), f"{path.name}:{node.lineno}"


def test_errors_module_loads_on_its_own():
    code = (f"import importlib.util, sys\n"
            f"spec = importlib.util.spec_from_file_location('errors_alone', {str(spamits.errors.__file__)!r})\n"
            f"mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)\n"
            f"assert issubclass(mod.ModelSpecError, ValueError)\n"
            f"print(sorted(m for m in sys.modules if m.startswith('spamits')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

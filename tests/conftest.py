"""Test-session settings shared by every test module: the order in which modules are handed to the workers.

``make test`` runs pytest-xdist with ``--dist loadscope --no-loadscope-reorder``: every module goes whole to one
worker, in collection order.  The modules below build reports or run whole notebooks and take most of the time
(serial ``--durations``: report builds about 75 s, the project-notebook report 50 s, the archive-to-report runs
33 s, JupyterLab 17 s, the notebook of the trap audit 11 s); collected first, they start at once on the two
workers and the many short modules fill the gaps, instead of two long modules starting last.  Order only: every
test runs either way.
"""

from __future__ import annotations

import pytest

LONG_MODULES = ("test_report_build.py", "test_report_real.py", "test_ingest_e2e.py", "test_jupyterlab.py",
                "test_its.py", "test_audit.py")
"""Modules collected first, longest first (a module that is not here keeps its place after them)."""


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return LONG_MODULES.index(name) if name in LONG_MODULES else len(LONG_MODULES)

    items[:] = sorted(items, key=rank)  # stable: the order inside a module and among the others is kept

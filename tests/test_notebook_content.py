"""The committed notebooks read as reports (issue 14): each ends with a Findings section whose output is the
Findings box, every plotly figure has a static image beside it (a code host shows it), and no cell shows a raw
dict, list or tuple."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spamits.findings import FINDINGS_CLASS

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
PLOTLY = "application/vnd.plotly.v1+json"


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _text(value: object) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def test_the_six_notebooks_are_checked():
    assert {p.stem for p in NOTEBOOKS} >= {"takedown_its", "robustness", "compare_takedowns", "validation",
                                           "vendor_figures", "trap_audit"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_ends_with_its_findings(path):
    cells = _cells(path)
    headings = [i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
                and _text(c["source"]).lstrip().startswith("## ")]
    assert headings, f"{path.name}: no sections"
    last = headings[-1]
    assert _text(cells[last]["source"]).lstrip().startswith("## Findings"), f"{path.name}: last section is not Findings"
    outputs = [o for c in cells[last:] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    boxes = [o for o in outputs if FINDINGS_CLASS in _text(o.get("data", {}).get("text/markdown", ""))]
    assert len(boxes) == 1, f"{path.name}: the Findings section must show one Findings output"
    first = _text(boxes[0]["data"]["text/markdown"]).split("**", 2)[1]
    assert first.startswith(("SIMULATED", "REAL")), f"{path.name}: the findings must say SIMULATED or REAL first"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_figure_has_a_static_image_beside_it(path):
    figures = [o for c in _cells(path) if c["cell_type"] == "code" for o in c.get("outputs", [])
               if PLOTLY in o.get("data", {})]
    assert figures, f"{path.name}: no figure"
    missing = [i for i, o in enumerate(figures) if "image/png" not in o["data"]]
    assert not missing, f"{path.name}: figures {missing} have no image/png beside the plotly JSON"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_cell_shows_a_raw_dict_list_or_tuple(path):
    raw = [(c.get("id"), _text(o["data"]["text/plain"])[:60]) for c in _cells(path) if c["cell_type"] == "code"
           for o in c.get("outputs", []) if "text/plain" in o.get("data", {})
           and _text(o["data"]["text/plain"]).lstrip().startswith(("{", "[", "("))]
    assert not raw, f"{path.name}: raw Python reprs shown: {raw}"

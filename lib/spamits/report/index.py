"""``reports/index.html``: one row per run with its key numbers and links, and the cross-takedown figure.

Written by :func:`build_index` (re-exported by :mod:`spamits.report`) from the outcomes of a build; the page is
self-contained (inline CSS, images as ``data:`` URIs, no script, no external resource), its bytes depend only
on the outcomes and the reports on disk (no build time), and all text is HTML-escaped (Jinja autoescape).  It
links each run's pages and PDF, and shows the package version and how to cite it (:func:`citation`, the same
title and version as ``CITATION.cff``).
"""

from __future__ import annotations

import base64
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2

from spamits import __version__
from spamits._atomic import write_atomic
from spamits.errors import SpamitsError
from spamits.paths import PACKAGE_DIR
from spamits.report.records import CROSS_TAKEDOWN_RUN, PDF_SUFFIX

__all__ = ["CITATION_AUTHOR", "CITATION_TITLE", "build_index", "citation", "cross_takedown_figure",
           "write_text_atomic"]

TEMPLATES_DIR = PACKAGE_DIR / "templates"
INDEX_TEMPLATE = "report_index.html.j2"
PLOTLY_MIME = "application/vnd.plotly.v1+json"
PNG_MIME = "image/png"
CITATION_TITLE = "spamits: interrupted time-series analysis of spam volume around spam-infrastructure takedowns"
"""Title of the software in ``CITATION.cff`` (tests/test_citation.py keeps the two equal)."""
CITATION_AUTHOR = "spamits contributors"


def build_index(out_dir: str | os.PathLike[str], outcomes: Sequence[Any]) -> Path:
    """Write ``<out_dir>/index.html`` atomically from :class:`spamits.report.RunOutcome` objects.

    One row per run (links to the reviewer page, the full page with code and, after a failure, the failed
    notebook), and the figure of the ``compare-takedowns`` run when it has a good report.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    rows = [_index_row(outcome, out) for outcome in outcomes]
    counts = {status: sum(row["status"] == status for row in rows) for status in ("ok", "failed", "not run")}
    figure = cross_takedown_figure(out, outcomes)
    html = env.get_template(INDEX_TEMPLATE).render(rows=rows, counts=counts, version=__version__, figure=figure,
                                                   citation=citation())
    target = out / "index.html"
    write_text_atomic(target, html)
    return target


def citation(version: str = __version__) -> dict[str, str]:
    """How to cite the software (as ``CITATION.cff`` says): ``{"text", "bibtex", "version"}``."""
    text = f"{CITATION_AUTHOR}. {CITATION_TITLE}. Version {version}. Software, MIT licence."
    bibtex = "\n".join([
        f"@software{{spamits_{version.replace('.', '_')},",
        f"  author  = {{{{{CITATION_AUTHOR}}}}},",
        f"  title   = {{{CITATION_TITLE}}},",
        f"  version = {{{version}}},",
        "  license = {MIT},",
        "}",
    ])
    return {"text": text, "bibtex": bibtex, "version": version}


def write_text_atomic(target: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically (mode 0644)."""
    write_atomic(target, text.encode("utf-8"))


def cross_takedown_figure(out: Path, outcomes: Sequence[Any]) -> dict[str, str] | None:
    """``{"png", "title", "href"}`` of the first figure of the good ``compare-takedowns`` report, else None.

    ``png`` is the base64 static image (empty when the report has none: the page then links to the report).
    """
    outcome = next((o for o in outcomes if o.run.name == CROSS_TAKEDOWN_RUN), None)
    if outcome is None or outcome.status != "ok" or outcome.report is None:
        return None
    notebook = Path(outcome.report).with_suffix(".ipynb")
    try:
        nb = json.loads(notebook.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            data = output.get("data") or {}
            if PLOTLY_MIME in data:
                title = ((data[PLOTLY_MIME].get("layout") or {}).get("title") or {})
                text = title.get("text", "") if isinstance(title, dict) else str(title)
                png = data.get(PNG_MIME) or _figure_file_png(notebook.parent)
                return {"png": "".join(png) if isinstance(png, list) else str(png), "title": str(text),
                        "href": _relative(Path(outcome.report), out) or ""}
    return None


def _figure_file_png(folder: Path) -> str:
    """Base64 of the report's first figure file (``figures/figure-01.png``, where a report that shares its
    images keeps them instead of in the notebook), or ``""`` when there is none."""
    try:
        return base64.b64encode((folder / "figures" / "figure-01.png").read_bytes()).decode("ascii")
    except OSError:
        return ""


def _index_row(outcome: Any, out: Path) -> dict[str, Any]:
    """Display strings for one index row (the template only lays them out)."""
    run = outcome.run
    res = (outcome.results or {}) if outcome.status == "ok" else {}  # a failed run shows no old numbers
    params = {**run.parameters, **(res.get("run") or {})}
    event = res.get("event") or {}
    data = res.get("data") or {}
    head = res.get("headline") or {}
    event_id = str(event.get("id") or params.get("event_id") or "")
    catalog = _catalog_event(event_id) if not event else None
    return {
        "name": run.name,
        "href": _relative(outcome.report, out),
        "full_href": _relative(outcome.full_report, out),
        "pdf_href": _pdf_href(outcome, out),
        "failed_href": _relative(outcome.failed_report, out),
        "event_id": event_id,
        "event_name": str(event.get("name") or (catalog.name if catalog else "")),
        "event_date": str(event.get("date") or (catalog.date.strftime("%Y-%m-%d") if catalog else "")),
        "series": str(params.get("series") or data.get("source") or ""),
        "simulated": bool(data.get("simulated")),
        "model": " / ".join(str(params[k]) for k in ("family", "effect", "errors") if params.get(k) is not None),
        "immediate": _with_ci(head, "immediate_change", _percent),
        "relative_30": _with_ci(head, "relative_30", _percent),
        "half_life": _with_ci(head, "half_life", _days),
        "status": outcome.status,
        "error": _short(outcome.error),
    }


def _pdf_href(outcome: Any, out: Path) -> str | None:
    """The good report's ``<name>.pdf`` beside its reviewer page, when it exists."""
    if outcome.report is None:
        return None
    pdf = Path(outcome.report).with_suffix(PDF_SUFFIX)
    return _relative(pdf, out) if pdf.is_file() else None


def _short(error: str | None, limit: int = 240) -> str:
    """The first line of an error message, cut to ``limit`` characters (the full text is in error.txt)."""
    lines = (error or "").strip().splitlines()
    first = lines[0] if lines else ""
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "\u2026"


def _relative(path: Path | None, out: Path) -> str | None:
    if path is None:
        return None
    try:
        return Path(path).resolve().relative_to(out.resolve()).as_posix()
    except ValueError:
        return Path(path).resolve().as_uri()


def _catalog_event(event_id: str) -> Any:
    """The catalog Event of an id, or None when it is not in the catalog (e.g. the run that failed on it)."""
    if not event_id:
        return None
    try:
        from spamits import events

        return events.get(event_id)
    except (SpamitsError, LookupError, OSError):
        return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _percent(value: float) -> str:
    return f"{value * 100:+.1f}%".replace("-", "\u2212") if math.isfinite(value) else "\u2014"


def _days(value: float) -> str:
    return f"{value:.1f} d" if math.isfinite(value) else "\u221e"


def _with_ci(head: Mapping[str, Any], key: str, fmt: Any) -> dict[str, str]:
    """``{"value": ..., "ci": ...}`` display strings for an estimate and its ``_low``/``_high`` bounds."""
    value, low, high = (_number(head.get(k)) for k in (key, f"{key}_low", f"{key}_high"))
    return {
        "value": "\u2014" if value is None else fmt(value),
        "ci": "" if low is None or high is None else f"[{fmt(low)}, {fmt(high)}]",
    }

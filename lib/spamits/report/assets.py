"""The one copy of plotly.js that every page of a ``reports/`` folder shares, and how a page loads it.

A report page needs plotly.js (about 5 MB) to draw its figures.  By default a build writes it once, to
``<out>/_static/plotly-<plotly.js version>.min.js`` (copied from the installed plotly package), and every page
loads it by a relative ``<script src>`` (``../_static/...`` from ``<out>/<run>/``): the pages stay offline
(nothing is fetched from the network) and small.  ``self_contained=True`` (``spamits report
--self-contained``) embeds plotly.js in each page instead, for a page mailed on its own.

The executed notebooks carry no plotly.js at all, and each figure once, as ``application/vnd.plotly.v1+json``
(plus its PNG): JupyterLab draws it with its own plotly extension, and the pages make the figure's HTML from
it (:func:`spamits.report.notebook.with_figure_html`).
"""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path

from spamits._atomic import write_atomic
from spamits.errors import ReportError

__all__ = ["PLOTLYJS_MARKER_RE", "STATIC_DIR", "ensure_shared_plotlyjs", "plotlyjs_file_name", "plotlyjs_script",
           "plotlyjs_source", "plotlyjs_version", "shared_plotlyjs_href"]

STATIC_DIR = "_static"
"""Folder of ``reports/`` holding files the pages share (not a run name: run names start with a letter)."""
PLOTLYJS_MARKER_RE = re.compile(r"\* plotly\.js v\d+\.\d+\.\d+")
"""The banner comment at the top of plotly.js: a file holding it embeds plotly.js."""
_WINDOW_CONFIG = "window.PlotlyConfig = {MathJaxConfig: 'local'};"


def plotlyjs_source() -> Path:
    """``plotly.min.js`` of the installed plotly package.  Raises :class:`ReportError` when it is missing."""
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise ReportError(f"{path}: plotly.js not found in the installed plotly package; reinstall plotly")
    return path


@functools.cache
def plotlyjs_version() -> str:
    """Version of the plotly.js bundled with the installed plotly package (e.g. ``4.1.1``)."""
    from plotly.offline import get_plotlyjs_version

    return str(get_plotlyjs_version())


def plotlyjs_file_name() -> str:
    """``plotly-<version>.min.js``: the version in the name, so a page never loads another version's copy."""
    return f"plotly-{plotlyjs_version()}.min.js"


def shared_plotlyjs_href(depth: int = 1) -> str:
    """The relative URL of the shared copy from a page ``depth`` folders below ``reports/``."""
    return "../" * depth + f"{STATIC_DIR}/{plotlyjs_file_name()}"


def ensure_shared_plotlyjs(out: str | Path) -> Path:
    """Write ``<out>/_static/plotly-<version>.min.js`` (atomically) unless an identical copy is there; return it.

    Safe to call from several processes at once (each write is a rename of a complete file).
    """
    source = plotlyjs_source()
    target = Path(out) / STATIC_DIR / plotlyjs_file_name()
    data = source.read_bytes()
    if target.is_file() and target.stat().st_size == len(data) and _digest(target.read_bytes()) == _digest(data):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, data)
    return target


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def plotlyjs_script(src: str | None) -> str:
    """The ``<head>`` HTML that loads plotly.js: ``<script src=src>``, or plotly.js inline when ``src`` is None.

    Loaded synchronously in ``<head>``, so it is there before the figures' inline scripts call ``Plotly``.
    """
    config = f'<script type="text/javascript">{_WINDOW_CONFIG}</script>\n'
    if src is not None:
        return config + f'<script type="text/javascript" charset="utf-8" src="{_attribute(src)}"></script>\n'
    code = plotlyjs_source().read_text(encoding="utf-8").replace("</script", "<\\/script")
    return config + f'<script type="text/javascript" charset="utf-8">{code}</script>\n'


def _attribute(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")

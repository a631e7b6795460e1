"""What the report runner does to an executed notebook: reproducible bytes, static figure images, HTML pages.

- :func:`split_run_metadata` takes every date, duration and temporary path that papermill and nbclient write
  into a notebook out of it (they go to the run's ``run_metadata.json``), so two builds of the same inputs give
  the same ``.ipynb`` bytes.
- :func:`add_static_images` adds an ``image/png`` of each plotly figure to the figure's own output bundle
  (kaleido with a local Chromium), so the figure shows where JavaScript does not run (a code host's notebook
  preview, a mail client, ``<noscript>``).  The interactive figure stays first choice of the HTML pages.
- :func:`notebook_to_html` converts a notebook to the reviewer page (outputs only) or the full page (with code),
  with the offline ``spamits_report`` template.

With :mod:`spamits.report.execute`, the only spamits modules that import nbconvert, kaleido or papermill
(all imported where needed, so that a build whose runs are all unchanged starts fast).
"""

from __future__ import annotations

import atexit
import base64
import json
import logging
import os
import re
import threading
from collections.abc import Iterator, Sequence
from multiprocessing import util
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spamits.paths import PACKAGE_DIR
from spamits.report.assets import plotlyjs_script

if TYPE_CHECKING:  # nbformat and nbconvert take seconds to import: only where a notebook is handled
    import nbformat

log = logging.getLogger(__name__)

TEMPLATES_DIR = PACKAGE_DIR / "templates"
HTML_TEMPLATE = "spamits_report"
PLOTLY_MIME = "application/vnd.plotly.v1+json"
PNG_MIME = "image/png"
HTML_MIME = "text/html"
STATIC_WIDTH = 960
"""Width in CSS pixels of the static images (height: the figure's own, 460 for spamits.plots figures)."""
STATIC_HEIGHT = 460
VOLATILE_PAPERMILL_KEYS = ("start_time", "end_time", "duration", "exception", "output_path")
"""Notebook-level papermill metadata that changes from build to build (moved to run_metadata.json)."""
VOLATILE_CELL_KEYS = ("papermill", "execution")
"""Cell metadata written by papermill (times, status) and nbclient (iopub timestamps)."""
HIDDEN_CELL_TAGS = {"parameters", "injected-parameters"}
"""Cells left out of the reviewer page (its header shows the parameters as a table instead)."""

_image_lock = threading.Lock()
_server: dict[str, Any] = {"running": False, "finalizer": None}
STOP_TIMEOUT = 30.0  # seconds to wait for kaleido's browser to close before leaving it to process exit


# ----------------------------------------------------------------------------------------------- metadata


def split_run_metadata(nb: nbformat.NotebookNode, project_root: Path | None = None) -> dict[str, Any]:
    """Remove build-dependent metadata from ``nb`` (in place) and return it.

    Returned: ``{"papermill": {start_time, end_time, duration, exception, output_path}, "cells": [{index, id,
    papermill: {...}, execution: {...}}, ...]}``.  What stays in the notebook is the same in every build:
    papermill's parameters, default parameters, version and input path (relative to ``project_root`` when
    inside it).
    """
    papermill_meta = nb.metadata.get("papermill", {})
    moved = {key: papermill_meta.pop(key) for key in VOLATILE_PAPERMILL_KEYS if key in papermill_meta}
    input_path = papermill_meta.get("input_path")
    if input_path and project_root is not None:
        try:
            papermill_meta["input_path"] = Path(input_path).resolve().relative_to(project_root).as_posix()
        except ValueError:
            pass
    cells = []
    for index, cell in enumerate(nb.cells):
        volatile = {key: cell.metadata.pop(key) for key in VOLATILE_CELL_KEYS if key in cell.metadata}
        if volatile:
            cells.append({"index": index, "id": cell.get("id"), **volatile})
    return {"papermill": moved, "cells": cells}


def stable_cell_ids(nb: nbformat.NotebookNode, source: Path) -> None:
    """Give the cells papermill added (injected parameters, error banners) ids that are the same every build.

    papermill makes those cells with random ids; cells that come from ``source`` keep theirs (or become
    ``cell-<index>`` when the source notebook has no ids, as nbformat then makes random ones too).
    """
    try:
        raw = json.loads(source.read_text(encoding="utf-8"))
        known = {cell.get("id") for cell in raw.get("cells", [])} - {None}
    except (OSError, ValueError, AttributeError):
        known = set()
    used: set[str] = set()
    for index, cell in enumerate(nb.cells):
        cell_id = cell.get("id")
        if cell_id not in known or cell_id in used:
            tags = cell.get("metadata", {}).get("tags", [])
            cell_id = "injected-parameters" if "injected-parameters" in tags else f"cell-{index}"
            while cell_id in used or (cell_id in known and cell_id != cell.get("id")):
                cell_id = f"spamits-{cell_id}"
            cell["id"] = cell_id
        used.add(cell_id)


# ----------------------------------------------------------------------------------------------- images


def chromium_path() -> str | None:
    """The Chrome/Chromium kaleido would use (``BROWSER_PATH``, then the usual names), or None."""
    try:
        from choreographer.browsers.chromium import Chromium

        return Chromium.find_browser(skip_local=False)
    except Exception:  # noqa: BLE001 - any failure to look means: no browser found
        return None


def figure_outputs(nb: nbformat.NotebookNode) -> Iterator[nbformat.NotebookNode]:
    """Every display output of ``nb`` that holds a plotly figure (``application/vnd.plotly.v1+json``)."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") in ("display_data", "execute_result") and PLOTLY_MIME in output.get(
                "data", {}
            ):
                yield output


def add_static_images(nb: nbformat.NotebookNode) -> int:
    """Add a PNG (base64, ``image/png``) beside each plotly figure of ``nb``; return how many were added.

    Rendered by kaleido in a headless Chromium started once per process and reused (stopped at process exit
    or by :func:`stop_image_server`); no MathJax and the plotly.js of the installed plotly, so nothing is
    fetched from the network.  The same figure JSON gives the same PNG bytes.  Raises RuntimeError (with how to
    install a browser) when no Chromium is found.
    """
    outputs = list(figure_outputs(nb))
    if not outputs:
        return 0
    with _image_lock:
        _start_server_locked()
        for output in outputs:
            png = _figure_png(output.data[PLOTLY_MIME])
            output.data[PNG_MIME] = base64.b64encode(png).decode("ascii")
    return len(outputs)


def drop_figure_html(nb: nbformat.NotebookNode) -> int:
    """Remove the ``text/html`` of each plotly figure output of ``nb`` (in place); return how many.

    That HTML repeats the figure's JSON (the ``.ipynb`` would carry each figure twice); JupyterLab draws the
    plotly mimetype, and :func:`notebook_to_html` makes the HTML again from the JSON (:func:`with_figure_html`).
    """
    dropped = 0
    for output in figure_outputs(nb):
        if output.data.pop(HTML_MIME, None) is not None:
            dropped += 1
    return dropped


def with_figure_html(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``nb`` itself, or a copy whose plotly figure outputs without ``text/html`` have it again: the figure's
    HTML without plotly.js (renderer ``spamits_html_shared``; div ids ``spamits-fig-1``, ... in order, as the
    report kernels number them), so that the same notebook always gives the same page."""
    if all(HTML_MIME in output.data for output in figure_outputs(nb)):
        return nb
    import copy

    from spamits.plots.style import DeterministicNotebookRenderer

    renderer = DeterministicNotebookRenderer(embed_plotlyjs=False)
    pages_nb = copy.deepcopy(nb)
    for output in figure_outputs(pages_nb):
        html = renderer.to_mimebundle(dict(output.data[PLOTLY_MIME]))[HTML_MIME]
        output.data.setdefault(HTML_MIME, html)
    return pages_nb


def without_static_images(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` without the ``image/png`` of its plotly figure outputs (:func:`add_static_images`): the
    ``.ipynb`` of a report whose pages hold the PNGs as files of ``figures/`` (JupyterLab draws the figure JSON)."""
    import copy

    lean = copy.deepcopy(nb)
    for output in figure_outputs(lean):
        output.data.pop(PNG_MIME, None)
    return lean


FIGURES_DIR = "figures"
"""Folder of a report holding its figures' PNGs as files, shared by its two pages (:func:`figure_image_files`)."""
PNG_HREF_KEY = "spamits_png"
"""Output metadata key: the relative URL of the figure's PNG file, shown by the template in place of the PNG."""


def figure_image_files(nb: nbformat.NotebookNode, folder: Path) -> nbformat.NotebookNode:
    """A copy of ``nb`` for the HTML pages whose figure PNGs are files ``folder/figures/figure-NN.png``.

    In the copy each figure output has its PNG replaced by the metadata ``spamits_png`` (the file's relative
    URL), so the two pages of a run show the same file where JavaScript does not run instead of each carrying
    the PNG in base64 (``nb`` itself is not changed; the report's ``.ipynb`` is written without them,
    :func:`without_static_images`).  No folder when no figure has a PNG.
    """
    import copy

    from spamits._atomic import write_atomic

    pages_nb = copy.deepcopy(nb)
    for number, output in enumerate((o for o in figure_outputs(pages_nb) if PNG_MIME in o.data), 1):
        png = output.data.pop(PNG_MIME)
        href = f"{FIGURES_DIR}/figure-{number:02d}.png"
        (folder / FIGURES_DIR).mkdir(exist_ok=True)
        write_atomic(folder / href, base64.b64decode("".join(png) if isinstance(png, list) else png))
        output.setdefault("metadata", {})[PNG_HREF_KEY] = href
    return pages_nb


def _figure_png(figure: dict[str, Any]) -> bytes:
    import kaleido

    layout = figure.get("layout") or {}
    spec = {"data": figure.get("data") or [], "layout": layout}
    opts = {"format": "png", "width": layout.get("width") or STATIC_WIDTH,
            "height": layout.get("height") or STATIC_HEIGHT, "scale": 1}
    return kaleido.calc_fig_sync(spec, opts=opts)


def start_image_server() -> None:
    """Start this process's kaleido browser now, in the background (it takes seconds: start it before the
    notebook runs so that it is ready for the figures).  Does nothing when it is running; RuntimeError without
    a Chromium."""
    with _image_lock:
        _start_server_locked()


def _start_server_locked() -> None:
    if _server["running"]:
        return
    path = chromium_path()
    if path is None:
        raise RuntimeError(
            "static figure images need Chrome or Chromium, and none was found: run `make browser` "
            "(Debian: apt-get install chromium) or set BROWSER_PATH to a Chrome/Chromium executable"
        )
    import kaleido

    log.debug("starting kaleido with %s", path)
    kaleido.start_sync_server(mathjax=False, silence_warnings=True)
    _server["running"] = True
    # kaleido registered its own unbounded close with atexit just now; this one, registered after it, runs first
    atexit.unregister(stop_image_server)
    atexit.register(stop_image_server)
    if _server["finalizer"] is None:  # also runs in multiprocessing workers, which skip atexit
        _server["finalizer"] = util.Finalize(None, stop_image_server, exitpriority=10)


def stop_image_server(timeout: float = STOP_TIMEOUT) -> None:
    """Stop this process's kaleido browser, if one was started (safe to call any time).

    Waits at most ``timeout`` seconds: kaleido's close (choreographer 1.4) can wait forever for the browser at
    process exit, which once hung a report worker and with it the whole build.  After the timeout the browser
    is left to the end of this process (Chromium exits when its debugging pipe to this process closes), and
    kaleido's own exit handler is told the server is closed so that it does not wait again.
    """
    with _image_lock:
        if not _server["running"]:
            return
        import kaleido

        closer = threading.Thread(target=kaleido.stop_sync_server, kwargs={"silence_warnings": True},
                                  name="kaleido-close", daemon=True)
        closer.start()
        closer.join(timeout)
        _server["running"] = False
        if closer.is_alive():
            log.warning("kaleido's browser did not close within %.0f s; it will end with this process", timeout)
            server = kaleido._sync_server.GlobalKaleidoServer()  # noqa: SLF001 - no public way to mark it closed
            server._initialized = False  # noqa: SLF001


# ----------------------------------------------------------------------------------------------- HTML


def notebook_to_html(
    nb: str | os.PathLike[str] | nbformat.NotebookNode,
    *,
    title: str | None = None,
    full: bool = False,
    links: Sequence[tuple[str, str]] = (),
    plotlyjs_src: str | None = None,
) -> str:
    """Convert an executed notebook (path or node) to an offline HTML page.

    ``full=False``: the reviewer page, outputs and Markdown only, without the ``parameters`` and
    ``injected-parameters`` cells (the page header shows papermill's parameters as a table).  ``full=True``: every
    cell with its code.  ``links``: ``(text, relative URL)`` pairs shown at the top (e.g. the other page).
    A notebook with plotly figures gets plotly.js in the page's ``<head>``: loaded from ``plotlyjs_src`` (a
    relative URL of the shared copy, :func:`spamits.report.assets.shared_plotlyjs_href`), or embedded when it
    is None (a page that works on its own).
    """
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    if not isinstance(nb, nbformat.NotebookNode):
        path = Path(nb)
        title = title or path.stem
        nb = nbformat.read(path, as_version=4)
    exporter = HTMLExporter(template_name=HTML_TEMPLATE, extra_template_basedirs=[str(TEMPLATES_DIR)])
    if not full:
        exporter.exclude_input = True
        exporter.exclude_input_prompt = True
        exporter.exclude_output_prompt = True
        exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags=HIDDEN_CELL_TAGS), enabled=True)
    nb = with_figure_html(nb)
    plotlyjs = plotlyjs_script(plotlyjs_src) if any(True for _ in figure_outputs(nb)) else ""
    resources = {"metadata": {"name": title or "notebook"}, "spamits_links": list(links), "spamits_plotlyjs": plotlyjs}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body


_EXTERNAL_RE = re.compile(
    r"""<(?:script|link|img|iframe)\b[^>]*?\b(?:src|href)\s*=\s*["']?\s*((?:https?:)?//[^"'\s>]+)""",
    re.IGNORECASE,
)


def external_resources(html: str) -> list[str]:
    """URLs of scripts, stylesheets, images or frames that an HTML page would fetch from the network."""
    return sorted(set(_EXTERNAL_RE.findall(html)))

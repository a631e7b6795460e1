"""A static PNG beside every interactive figure, so a notebook's figures show where JavaScript does not run.

The renderer ``spamits_png`` (registered on import) adds an ``image/png`` of the figure, drawn by kaleido in a
local headless Chromium, to the figure's output bundle.  The default renderer of :mod:`spamits.plots.style`,
``plotly_mimetype+spamits_png``, thus gives each figure output both the plotly JSON (JupyterLab draws it
interactively) and a PNG (a code host's notebook preview, nbconvert without JavaScript).  nbval does not compare
``image/png`` outputs (unless run with ``--nbdime``), so the committed notebooks stay strictly checked.

Without a Chromium the renderer adds nothing (and says nothing: no warning lands in a notebook's output); the
figure is then interactive only.  kaleido's browser starts once per process (about 3 s) and is stopped at exit.
"""

from __future__ import annotations

import atexit
import base64
import logging
import threading
from typing import Any

from plotly.io._base_renderers import MimetypeRenderer

__all__ = ["STATIC_HEIGHT", "STATIC_WIDTH", "StaticImageRenderer", "figure_png"]

log = logging.getLogger(__name__)

STATIC_WIDTH = 960
"""Width in CSS pixels of the static images (height: the figure's own, 460 for spamits figures)."""
STATIC_HEIGHT = 460
_lock = threading.Lock()
_state: dict[str, Any] = {"running": False, "unavailable": False}


def _chromium() -> str | None:
    try:
        from choreographer.browsers.chromium import Chromium

        return Chromium.find_browser(skip_local=False)
    except Exception:  # noqa: BLE001 - any failure to look means: no browser found
        return None


def _start_locked() -> bool:
    if _state["running"]:
        return True
    if _state["unavailable"] or _chromium() is None:
        _state["unavailable"] = True
        return False
    import kaleido

    kaleido.start_sync_server(mathjax=False, silence_warnings=True)
    _state["running"] = True
    atexit.register(_stop)
    return True


def _stop() -> None:
    with _lock:
        if _state["running"]:
            import kaleido

            closer = threading.Thread(target=kaleido.stop_sync_server, kwargs={"silence_warnings": True},
                                      daemon=True)
            closer.start()
            closer.join(10)
            _state["running"] = False
            if closer.is_alive():  # choreographer's close can hang at exit: leave the browser to the process end,
                server = kaleido._sync_server.GlobalKaleidoServer()  # noqa: SLF001 - and keep kaleido's own exit
                server._initialized = False  # noqa: SLF001 - handler from waiting again (as report.notebook does)


def figure_png(figure: dict[str, Any]) -> bytes | None:
    """PNG bytes of a plotly figure dict (``fig.to_dict()``), or None when no Chromium is available.

    The image is ``layout.width`` (default 960) by ``layout.height`` (default 460) CSS pixels at scale 1, with the
    installed plotly.js and no MathJax: nothing is fetched from the network.
    """
    with _lock:
        if not _start_locked():
            return None
        import kaleido

        layout = figure.get("layout") or {}
        spec = {"data": figure.get("data") or [], "layout": layout}
        opts = {"format": "png", "width": layout.get("width") or STATIC_WIDTH,
                "height": layout.get("height") or STATIC_HEIGHT, "scale": 1}
        try:
            return kaleido.calc_fig_sync(spec, opts=opts)
        except Exception as exc:  # noqa: BLE001 - a figure without its image is still a figure
            log.info("no static image of the figure: %s", exc)
            return None


class StaticImageRenderer(MimetypeRenderer):
    """Plotly renderer whose bundle is the figure as ``image/png`` (base64); empty without a Chromium."""

    def to_mimebundle(self, fig_dict: dict) -> dict:
        png = figure_png(fig_dict)
        return {"image/png": base64.b64encode(png).decode("ascii")} if png else {}

"""Figures of the spam-trap audit, kept importable here (``from spamits import audit_plots``).

The code lives in :mod:`spamits.plots.trap`; this module only re-exports it.
"""

from __future__ import annotations

from spamits.plots.trap import REAL, fig_daily, fig_dating, fig_hourly, fig_lag, fig_recipients

__all__ = ["REAL", "fig_daily", "fig_dating", "fig_hourly", "fig_lag", "fig_recipients"]

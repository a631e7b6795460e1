"""Plotly figure builders: ``fig_*(table_or_result, ...) -> go.Figure``.

Builders read only tidy tables (a result's ``frame`` and ``effects``, diagnostics and check tables); they never
fit, write files or call ``show()``.  Every figure has units on its axes, the data source in a caption, and says
SIMULATED in its title and legend when the data are simulated (REAL for the trap audit's counts).  Plotted
numbers are rounded and written as plain lists, so a figure's JSON is identical from run to run.

One module per notebook family: :mod:`~spamits.plots.style` (layout, colours, captions and the ``spamits_html`` and
``spamits_html_shared`` renderers, registered on import; see there), :mod:`~spamits.plots.takedown` (series,
counterfactual, ACF, effect path), :mod:`~spamits.plots.robustness` (placebo, sweeps, break scan),
:mod:`~spamits.plots.compare` (forest plot, groups), :mod:`~spamits.plots.validation` (simulation study),
:mod:`~spamits.plots.vendor` (vendor figures) and :mod:`~spamits.plots.trap` (the spam-trap audit, also re-exported
by :mod:`spamits.audit_plots`).
"""

from __future__ import annotations

from spamits.plots.compare import fig_forest, fig_groups
from spamits.plots.robustness import fig_break_scan, fig_placebo, fig_sweep
from spamits.plots.style import COLORS, LAYOUT, RENDERER_ENV, SIMULATED, DeterministicNotebookRenderer
from spamits.plots.takedown import fig_acf, fig_counterfactual, fig_effect_path, fig_series
from spamits.plots.trap import fig_daily, fig_dating, fig_hourly, fig_lag, fig_recipients
from spamits.plots.validation import fig_coverage, fig_half_life, fig_stress_coverage
from spamits.plots.vendor import fig_level_changes, fig_sparse_its, fig_vendor_fit

__all__ = [
    "COLORS",
    "LAYOUT",
    "RENDERER_ENV",
    "SIMULATED",
    "DeterministicNotebookRenderer",
    "fig_acf",
    "fig_break_scan",
    "fig_counterfactual",
    "fig_coverage",
    "fig_daily",
    "fig_dating",
    "fig_effect_path",
    "fig_forest",
    "fig_groups",
    "fig_half_life",
    "fig_hourly",
    "fig_lag",
    "fig_level_changes",
    "fig_placebo",
    "fig_recipients",
    "fig_series",
    "fig_sparse_its",
    "fig_stress_coverage",
    "fig_sweep",
    "fig_vendor_fit",
]

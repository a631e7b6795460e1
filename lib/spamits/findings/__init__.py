"""What each notebook found, in plain sentences computed from its results (issue 14, "Reviewer-grade reports").

Every builder returns a :class:`Findings` (``table`` and Markdown ``text``, like CausalPy's ``EffectSummary``),
shown as Markdown at the end of a notebook under ``## Findings``; the reviewer page copies it into a key-results
box at the top.  The first sentence says whether the data are SIMULATED or REAL; numbers carry their intervals;
an interval that crosses zero reads "no clear change".

Builders: :func:`takedown_findings` (one fit), :func:`robustness_findings` (placebo, sweeps, break date),
:func:`across_findings` (the cross-takedown table), :func:`validation_findings` (simulation study),
:func:`vendor_findings` (vendors' monthly figures), :func:`audit_findings` (the spam-trap audit).

:mod:`spamits.findings.tables` shows the notebooks' tables for people (captions, units, intervals).

This layer reads results of ``its``, ``robust``, ``validation``, ``vendor_fits`` and ``audit``; only plots,
report and cli are above it.
"""

from __future__ import annotations

from spamits.findings._core import FINDINGS_CLASS, Findings
from spamits.findings.robustness import across_findings, robustness_findings
from spamits.findings.studies import audit_findings, validation_findings, vendor_findings
from spamits.findings.takedown import takedown_findings

__all__ = ["FINDINGS_CLASS", "Findings", "across_findings", "audit_findings", "robustness_findings",
           "takedown_findings", "validation_findings", "vendor_findings"]

"""Former home of the simulator, kept so that ``from spamits._simulate import simulate`` still works.

The code lives in :mod:`spamits.data.simulation`; this module only re-exports it.
"""

from __future__ import annotations

from spamits.data.simulation import (
    SCENARIOS,
    SIMULATED_LABEL,
    Scenario,
    scenario,
    simulate,
    true_relative_effect,
)

__all__ = ["SCENARIOS", "SIMULATED_LABEL", "Scenario", "scenario", "simulate", "true_relative_effect"]

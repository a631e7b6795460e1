"""The ``results.json`` of a notebook run: headline numbers, full fit, data and run provenance.

The file holds no run dates or times, so two runs of the same inputs give the same bytes.  It is written
atomically (temporary file, then rename).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from spamits._atomic import write_atomic
from spamits.its import ITSResult, clean

__all__ = ["build", "clean", "headline", "write_json"]


def headline(result: ITSResult, event_label: str, horizon: int = 30) -> dict:
    """Immediate change, relative effect over the first ``horizon`` periods, and half-life, with intervals.

    Changes are fractions (-0.65 = 65% fewer messages); the half-life is in the series' periods.
    """
    eff = result.effects[result.effects["event"] == event_label].set_index("term")
    out: dict = {}
    if "level" in eff.index:
        row = eff.loc["level"]
        out.update(immediate_change=row["ratio"] - 1, immediate_change_low=row["ratio_low"] - 1,
                   immediate_change_high=row["ratio_high"] - 1)
    else:
        out.update(immediate_change=None, immediate_change_low=None, immediate_change_high=None)
    table = result.impact_table(horizons=(horizon,))
    first = table[table["horizon"].eq(horizon).fillna(False).astype(bool)]
    if len(first):
        row = first.iloc[0]
        out.update({f"relative_{horizon}": row["relative"], f"relative_{horizon}_low": row["relative_low"],
                    f"relative_{horizon}_high": row["relative_high"]})
    else:
        out.update({f"relative_{horizon}": None, f"relative_{horizon}_low": None, f"relative_{horizon}_high": None})
    if "half_life" in eff.index:
        row = eff.loc["half_life"]
        out.update(half_life=row["estimate"], half_life_low=row["ci_low"], half_life_high=row["ci_high"])
    else:
        out.update(half_life=None, half_life_low=None, half_life_high=None)
    out["unit"] = result.unit
    out["data"] = "SIMULATED" if result.simulated else "real"
    return clean(out)


def build(*, run: dict, event: object, y: pd.Series, result: ITSResult) -> dict:
    """Everything a report or a test needs from one run, JSON-ready."""
    from spamits import __version__

    event_info = {"id": getattr(event, "id", str(event)), "name": getattr(event, "name", str(event)),
                  "date": getattr(event, "date", None), "date_lo": getattr(event, "date_lo", None),
                  "date_hi": getattr(event, "date_hi", None), "mechanism": getattr(event, "mechanism", None)}
    data_info = {"source": y.attrs.get("source"), "simulated": bool(y.attrs.get("simulated", False)),
                 "sha256": y.attrs.get("sha256"), "n": len(y), "start": y.index[0], "end": y.index[-1],
                 "unit": y.attrs.get("unit")}
    label = result.events[0]
    fitted = result.to_dict()
    fitted["data"] = {**fitted["data"], **data_info}  # keep the series' source, sha256 and unit
    return clean({"spamits_version": __version__, "run": run, "event": event_info,
                  "headline": headline(result, label), **fitted})


def write_json(path: str | os.PathLike, obj: dict) -> Path:
    """Write ``obj`` as sorted, indented JSON to ``path`` atomically; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(obj, indent=2, sort_keys=True, allow_nan=False) + "\n"
    write_atomic(path, text.encode("utf-8"))
    return path

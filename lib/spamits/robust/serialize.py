"""JSON-ready summary of robustness results (for ``results.json``)."""

from __future__ import annotations

import pandas as pd

from spamits.its import clean
from spamits.robust.breaks import BreakResult
from spamits.robust.placebo import PlaceboResult


def to_dict(*, placebo: PlaceboResult | None = None, scan: BreakResult | None = None,
            date_table: pd.DataFrame | None = None, window_table: pd.DataFrame | None = None,
            catalog_date: object = None) -> dict:
    """JSON-ready summary of robustness results (for ``results.json``): numbers only, rounded, no run times."""
    out: dict = {}
    if placebo is not None:
        out["placebo"] = {"observed": placebo.observed, "p_value": placebo.p_value, "n_dates": placebo.n,
                          "first_date": placebo.dates[0], "last_date": placebo.dates[-1], "term": placebo.term,
                          "spec": placebo.spec, "estimates": placebo.table["estimate"].tolist()}
    if scan is not None:
        out["break_scan"] = {"date": scan.date, "date_low": scan.date_low, "date_high": scan.date_high,
                             "statistic": scan.statistic, "wald": scan.wald, "inflation": scan.inflation,
                             "spec": scan.spec, "catalog_date": None if catalog_date is None else
                             pd.Timestamp(catalog_date)}
    for key, table in (("date_sweep", date_table), ("window_sweep", window_table)):
        if table is not None:
            out[key] = table.to_dict(orient="records")
    return clean(out)

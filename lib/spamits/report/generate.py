"""The runs made from the derived untroubled.org spam-trap counts (a runs-file entry ``- generate: untroubled``).

:func:`untroubled_runs` makes them; :func:`generate_entry` checks such an entry; :func:`add_real_series` gives
the ``compare-takedowns`` run the real series they fit.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from spamits.errors import ReportError
from spamits.ingest.derive import OUTPUTS
from spamits.report.parameters import check_run_parameters
from spamits.report.records import CROSS_TAKEDOWN_RUN, DEFAULT_NOTEBOOK, Run, required_path

__all__ = ["GENERATE_KEY", "add_real_series", "generate_entry", "untroubled_runs"]

log = logging.getLogger(__name__)

GENERATE_KEY = "generate"
"""An entry ``- generate: untroubled`` stands for the runs made from the derived spam-trap counts (see
:func:`untroubled_runs`)."""
UNTROUBLED_DAILY = f"data/derived/{OUTPUTS['day']}"
UNTROUBLED_HOURLY = f"data/derived/{OUTPUTS['hour']}"
TRAP_AUDIT_RUN = "trap-audit"
TRAP_AUDIT_NOTEBOOK = "trap_audit.ipynb"
EFFECT_BY_KIND = {"takedown": "decay", "pause": "step", "surge": "decay"}
"""Effect shape of an ``untroubled-<event>`` run by the event's kind: a takedown's drop fades as the botnets come
back; a pause (either end) is a step; a surge is a rise that fades (a decay with a positive level)."""


def generate_entry(path: Path, number: int, entry: dict, known: dict[Path, Any]) -> tuple[list[Run], dict[str, str]]:
    """The runs of entry ``number`` (1-based) of the runs file ``path``, which is ``{generate: untroubled}``,
    each checked against its notebook, and their ``real_series``.  Raises :class:`ReportError` otherwise."""
    where = f"{path} entry {number} ({GENERATE_KEY}: {entry.get(GENERATE_KEY)!r})"
    if set(map(str, entry)) != {GENERATE_KEY} or entry[GENERATE_KEY] != "untroubled":
        raise ReportError(f"{where}: a generate entry is exactly '{GENERATE_KEY}: untroubled' (no other keys)")
    runs, real_series = untroubled_runs(path.parent, origin=where)
    for run in runs:
        check_run_parameters(run.origin, run.notebook, run.parameters, known)
    return runs, real_series


def untroubled_runs(notebooks: Path, origin: str = "generated") -> tuple[list[Run], dict[str, str]]:
    """The runs made from the derived untroubled.org counts, and the ``real_series`` for compare-takedowns.

    - ``trap-audit``: ``trap_audit.ipynb`` on ``data/derived/untroubled_hourly.csv`` if it exists, else on
      ``untroubled_daily.csv``; none without either.
    - ``untroubled-<event id>``: ``takedown_its.ipynb`` on the daily counts (``series: untroubled``) for every catalog
      event whose window they cover (:func:`spamits.audit.event_windows`): ``pre_periods`` = min(90, counted days
      before the event), ``post_periods`` = min(120, counted days from the event on), both at least 28, otherwise
      the event is left out and the reason logged; ``effect`` from the event's kind (:data:`EFFECT_BY_KIND`: decay
      for a takedown, step for a pause, decay for a surge, whose effect is a rise); ``joint_events`` the catalog
      events at least 7 days inside that window; ``hourly_example`` False (the notebook's SIMULATED hourly example
      stays out of a report on real counts).  A pause with an ``end_date`` gives two runs, one per end:
      ``untroubled-<id>`` (the operators stop) and ``untroubled-<id>-end`` (they come back), each window ending at
      the other end (:func:`spamits.audit.run_events`).

    Every run ``requires`` the file it reads, so that file is part of its cache key.  ``notebooks`` is the
    folder of the notebooks (the runs file's).  Raises :class:`ReportError` when the daily counts are invalid.
    """
    from spamits import audit
    from spamits.errors import DataValidationError

    daily_file, hourly_file = required_path(UNTROUBLED_DAILY), required_path(UNTROUBLED_HOURLY)
    audited = UNTROUBLED_HOURLY if hourly_file.is_file() else UNTROUBLED_DAILY if daily_file.is_file() else None
    if audited is None:
        log.info("%s: no derived untroubled counts (%s, %s): no trap-audit or untroubled-<event> runs", origin,
                 daily_file, hourly_file)
        return [], {}
    runs = [Run(TRAP_AUDIT_RUN, (notebooks / TRAP_AUDIT_NOTEBOOK).resolve(), {"counts_path": audited},
                origin=f"{origin} -> {TRAP_AUDIT_RUN}", requires=audited)]
    if not daily_file.is_file():
        log.info("%s: no %s: no untroubled-<event> runs (they fit daily counts)", origin, daily_file)
        return runs, {}
    try:
        daily, _ = audit.load_counts(daily_file)
    except DataValidationError as exc:
        raise ReportError(f"{origin}: {exc}") from exc
    real_series = {}
    for row in audit.event_windows(daily, audit.run_events()).itertuples():
        name = f"untroubled-{row.id}"
        if not row.fits:
            log.info("%s: no run %s: %s", origin, name, row.reason)
            continue
        parameters = {"event_id": row.id, "series": "untroubled", "effect": EFFECT_BY_KIND[row.kind],
                      "pre_periods": int(row.pre_periods), "post_periods": int(row.post_periods),
                      "joint_events": list(row.joint), "hourly_example": False}
        runs.append(Run(name, (notebooks / DEFAULT_NOTEBOOK).resolve(), parameters, origin=f"{origin} -> {name}",
                        requires=UNTROUBLED_DAILY))
        real_series[row.id] = "untroubled"
    for run in runs:
        if not run.notebook.is_file():
            raise ReportError(f"{run.origin}: notebook {run.notebook.name!r} not found (looked for {run.notebook})")
    return runs, real_series


def add_real_series(runs: list[Run], real_series: dict[str, str], known: dict[Path, Any]) -> None:
    """Give the compare-takedowns run the real series of the generated untroubled runs (``real_series``),
    unless the runs file sets it."""
    compare = next((run for run in runs if run.name == CROSS_TAKEDOWN_RUN), None)
    if not real_series or compare is None or "real_series" in compare.parameters:
        return
    compare.parameters["real_series"] = dict(real_series)
    check_run_parameters(compare.origin, compare.notebook, compare.parameters, known)
    compare.requires = compare.requires or UNTROUBLED_DAILY

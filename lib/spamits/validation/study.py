"""Simulation study of the ITS estimators: bias, RMSE and interval coverage on SIMULATED series of known truth.

:func:`simulation_study` draws seeded series from the simulator (``spamits._simulate``, base scenario
``"no-effect"``: 365 days before and 180 days from the event day 2008-11-11, weekly seasonality, a trend,
AR(1) noise on the latent log-rate, negative-binomial counts, and the takedown as binomial thinning of the
counts), fits each with every method (a ``(family, errors)`` pair) and compares the estimates with the truth:

* the **relative effect over the first** ``horizon`` **days** (``impact``) against the realised truth
  ``sum(observed) / sum(simulated counterfactual) - 1`` (``true_relative_effect``), and whether the 95%
  interval covers it;
* the **half-life** of a decaying effect and the **level** (immediate log-change ``log(1 - drop)``) against the
  values the series were simulated with.

Designs, for each AR(1) coefficient ``phi``: ``decay`` (each drop × half-life, fitted with ``effect="decay"``),
``lasting`` (each drop, no recovery, fitted with ``effect="step"``) and ``overlap`` (two events 10 days apart,
a 50% drop with a 14-day half-life and then a lasting 30% drop, fitted jointly with ``effect=["decay",
"step"]``; each event's contribution over ``horizon`` days from its own date is compared with the truth for
that event alone).  With ``cases=`` the same entry point runs the stress cases of issue 13 instead
(:mod:`spamits.validation.stress`).  Everything this module returns is labelled SIMULATED.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context

import numpy as np
import pandas as pd

from spamits._labels import SIMULATED
from spamits._simulate import SCENARIOS, simulate, true_relative_effect
from spamits.errors import ModelSpecError, SpamitsError
from spamits.its import ERRORS, FAMILIES, clean, fit
from spamits.validation.measures import (
    BASE_SCENARIO,
    CELL_KEYS,
    METHOD_KEYS,
    _label,
    _summary,
    aggregate,
    by_method,
    recommended_errors,
)
from spamits.validation.stress import StressResult, stress_study

DEFAULT_METHODS: tuple[tuple[str, str], ...] = (
    ("negbin", "ar1"), ("negbin", "ar1-sandwich"), ("negbin", "hac"), ("negbin", "iid"), ("quasipoisson", "ar1"),
    ("gaussian-log", "ar1"),
)
OVERLAP_GAP = 10  # days between the two overlapping events
OVERLAP = (  # (event key, simulated effect, fitted effect) of the overlapping pair
    ("first", {"drop": 0.5, "shape": "decay", "half_life": 14.0}, "decay"),
    ("second", {"drop": 0.3, "shape": "lasting"}, "step"),
)
RUN_COLUMNS = CELL_KEYS + METHOD_KEYS + [
    "seed", "ok", "estimate", "ci_low", "ci_high", "truth", "covered", "level", "level_low", "level_high",
    "level_true", "level_covered", "half_life_est", "half_life_low", "half_life_high", "half_life_covered",
]


@dataclass(frozen=True)
class Cell:
    """One simulated design: its keys in the tables, simulator overrides and what is fitted."""

    design: str  # "decay", "lasting" or "overlap"
    phi: float
    overrides: dict  # passed to simulate() on top of the base scenario
    targets: tuple[tuple[str, str, float, float], ...]  # (event key, fitted effect, drop, half-life or nan)


@dataclass(frozen=True, eq=False)
class StudyResult:
    """Outcome of :func:`simulation_study`.

    ``runs``: one row per series, event and method (columns ``RUN_COLUMNS``; relative effects and levels as
    fractions and log-changes, half-lives in days).  ``table``: one row per design cell and method (columns
    ``TABLE_COLUMNS``; coverage as a fraction of series).  ``settings``: the arguments of the study.
    """

    runs: pd.DataFrame
    table: pd.DataFrame
    settings: dict = field(default_factory=dict)

    @property
    def nominal(self) -> float:
        return 1.0 - self.settings.get("alpha", 0.05)

    def by_method(self) -> pd.DataFrame:
        """One row per method over the whole grid: pooled and mean/min cell coverage, mean |bias|, RMSE."""
        return _label(by_method(self.table, self.runs))

    def overlap(self) -> pd.DataFrame:
        """The rows of ``table`` for the overlapping pair (each event's contribution, per phi and method)."""
        out = self.table[self.table["design"] == "overlap"].reset_index(drop=True)
        return _label(out)

    def recommended_errors(self) -> pd.DataFrame:
        """Per family, the errors model with coverage closest to nominal (see :func:`recommended_errors`)."""
        return recommended_errors(self)

    def summary(self) -> str:
        """A few lines: coverage range and worst cell per method, half-life error, the errors model to prefer."""
        return _summary(self)

    def to_dict(self) -> dict:
        """JSON-ready dict (NaN as None, floats to 8 significant digits) of settings and aggregate tables."""
        return clean({"data": SIMULATED, "settings": self.settings,
                      "table": self.table.to_dict(orient="records"),
                      "by_method": self.by_method().to_dict(orient="records"),
                      "recommended_errors": self.recommended_errors().to_dict(orient="records")})


def simulation_study(
    *,
    phis: Sequence[float] = (0.0, 0.4, 0.8),
    drops: Sequence[float] = (0.2, 0.5, 0.8),
    half_lives: Sequence[float] = (3.0, 14.0, 60.0),
    lasting: bool = True,
    overlapping: bool = True,
    seeds: int = 20,
    methods: Sequence[Sequence[str]] | Sequence[str] | None = None,
    horizon: int = 30,
    n_draws: int = 1000,
    seasonality: str | int | None = "dow",
    alpha: float = 0.05,
    jobs: int = 1,
    cases: Sequence[str] | None = None,
    first_seed: int = 0,
) -> StudyResult | StressResult:
    """Fit every method to ``seeds`` SIMULATED series of every design cell (or stress case) and tabulate bias
    and coverage.

    Without ``cases``: the design cells below, fitted with ``(family, errors)`` pairs; a :class:`StudyResult`.
    With ``cases`` (names of :data:`spamits.data.stress.STRESS_CASES`, e.g. ``["bursts", "wandering", "ar2",
    "earlier-event", "low-counts", "weekly-change", "hourly", "conforming"]``): the stress cases of issue 13,
    fitted side by side with the named methods of :data:`spamits.validation.stress_methods.METHODS` (default
    ``["default"]``; also ``"calibrated"``, ``"hac"``, ``"mask-outliers"``, ``"local-level"``, ``"pre120"``,
    ``"auto-pre"``); a :class:`~spamits.validation.stress.StressResult` with a case × method ``table`` (95%
    interval of the 30-day relative effect).  The stress cases carry their own designs, so the design
    arguments (``phis`` to ``alpha``) must keep their defaults there.

    Parameters
    ----------
    phis : AR(1) coefficients of the latent log-rate noise (each in (-1, 1)).
    drops : immediate relative drops (fractions in (0, 1)) of the ``decay`` and ``lasting`` designs.
    half_lives : half-lives in days of the ``decay`` design.
    lasting, overlapping : include the ``lasting`` and ``overlap`` designs.
    seeds : series per cell; series ``i`` uses seed ``i`` (the same seeds in every cell).
    methods : ``(family, errors)`` pairs, e.g. ``[("negbin", "ar1")]`` (default :data:`DEFAULT_METHODS`); with
        ``cases``, method names, e.g. ``["default", "calibrated"]``.
    horizon : days over which the relative effect is measured, from each event's date (at most 170).
    n_draws, seasonality, alpha : passed to :func:`spamits.its.fit` (``alpha=0.05``: 95% intervals).
    jobs : worker processes (1: run in this process).  Results do not depend on it.
    cases : names of stress cases; ``None`` runs the design cells.
    first_seed : with ``cases``, series ``i`` of every case uses seed ``first_seed + i`` (design cells always
        use seeds ``0 .. seeds-1``).

    A fit with its impact takes 0.03-0.1 s, so the study costs about ``0.07 s × seeds × cells × methods``
    (cells per phi: ``len(drops) × (len(half_lives) + lasting) + overlapping``) divided by ``jobs``.
    """
    if cases is not None:
        _design_left_alone(phis=phis, drops=drops, half_lives=half_lives, lasting=lasting, overlapping=overlapping,
                           horizon=horizon, n_draws=n_draws, seasonality=seasonality, alpha=alpha)
        return stress_study(cases, ("default",) if methods is None else methods, seeds=seeds, jobs=jobs,
                            first_seed=first_seed)
    if first_seed != 0:
        raise ModelSpecError(f"simulation_study: first_seed={first_seed} applies to cases= only; the design cells "
                             "use seeds 0 .. seeds-1")
    methods = _check_args(phis, drops, half_lives, seeds, DEFAULT_METHODS if methods is None else methods,
                          horizon, jobs)
    cells = _cells(phis, drops, half_lives, lasting, overlapping)
    if not cells:
        raise ModelSpecError("simulation_study: no design cells; give phis and drops, or overlapping=True")
    options = {"methods": methods, "horizon": int(horizon), "n_draws": int(n_draws), "seasonality": seasonality,
               "alpha": float(alpha)}
    tasks = [(cell, seed, options) for cell in cells for seed in range(int(seeds))]
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
            chunks = list(pool.map(_run_task, tasks, chunksize=max(1, len(tasks) // (8 * jobs))))
    else:
        chunks = [_run_task(task) for task in tasks]
    runs = pd.DataFrame([row for chunk in chunks for row in chunk], columns=RUN_COLUMNS)
    settings = {"phis": [float(v) for v in phis], "drops": [float(v) for v in drops],
                "half_lives": [float(v) for v in half_lives], "lasting": bool(lasting),
                "overlapping": bool(overlapping), "seeds": int(seeds), "methods": [list(m) for m in methods],
                "horizon": int(horizon), "n_draws": int(n_draws), "seasonality": seasonality, "alpha": float(alpha),
                "base_scenario": BASE_SCENARIO, "overlap_gap_days": OVERLAP_GAP}
    return StudyResult(runs=_label(runs), table=_label(aggregate(runs)), settings=settings)


# --- arguments and design cells ------------------------------------------------------------------------------


def _plain(value: object) -> object:
    """A design argument comparable with its default (sequences as tuples of floats)."""
    if isinstance(value, (list, tuple)):
        return tuple(float(v) for v in value)
    return value


def _design_left_alone(**given: object) -> None:
    """ModelSpecError naming the design arguments of :func:`simulation_study` given with ``cases=``."""
    defaults = inspect.signature(simulation_study).parameters
    changed = [name for name, value in given.items() if _plain(value) != _plain(defaults[name].default)]
    if changed:
        raise ModelSpecError(f"simulation_study: {', '.join(changed)} describe the design cells and do not apply "
                             "with cases= (each stress case has its own design; spamits.data.stress)")


def _check_args(phis, drops, half_lives, seeds, methods, horizon, jobs) -> tuple[tuple[str, str], ...]:
    for phi in phis:
        if not -1.0 < float(phi) < 1.0:
            raise ModelSpecError(f"simulation_study: phis contains {phi}; AR(1) coefficients must be in (-1, 1)")
    for drop in drops:
        if not 0.0 < float(drop) < 1.0:
            raise ModelSpecError(f"simulation_study: drops contains {drop}; drops are fractions in (0, 1)")
    for hl in half_lives:
        if not float(hl) > 0:
            raise ModelSpecError(f"simulation_study: half_lives contains {hl}; half-lives are days > 0")
    if int(seeds) < 1:
        raise ModelSpecError(f"simulation_study: seeds={seeds}; give the number of series per cell (>= 1)")
    n_post = SCENARIOS[BASE_SCENARIO].n_post
    if not 1 <= int(horizon) <= n_post - OVERLAP_GAP:
        raise ModelSpecError(f"simulation_study: horizon={horizon}; must be between 1 and {n_post - OVERLAP_GAP} "
                             f"days (the simulated post period is {n_post} days)")
    if int(jobs) < 1:
        raise ModelSpecError(f"simulation_study: jobs={jobs}; must be >= 1")
    out = []
    for method in methods:
        pair = tuple(method)
        if isinstance(method, str) or len(pair) != 2 or pair[0] not in FAMILIES or pair[1] not in ERRORS:
            raise ModelSpecError(f"simulation_study: method {method!r} must be a (family, errors) pair with family "
                                 f"in {sorted(FAMILIES)} and errors in {sorted(ERRORS)} (method names such as "
                                 "'default' are for the stress cases: give cases=)")
        out.append((str(pair[0]), str(pair[1])))
    if not out:
        raise ModelSpecError("simulation_study: methods is empty; e.g. methods=[('negbin', 'ar1')]")
    return tuple(out)


def _cells(phis, drops, half_lives, lasting: bool, overlapping: bool) -> list[Cell]:
    cells = []
    nan = float("nan")
    for phi in map(float, phis):
        for drop in map(float, drops):
            for hl in map(float, half_lives):
                cells.append(Cell("decay", phi, {"drop": drop, "shape": "decay", "half_life": hl},
                                  (("main", "decay", drop, hl),)))
        if lasting:
            for drop in map(float, drops):
                cells.append(Cell("lasting", phi, {"drop": drop, "shape": "lasting"}, (("main", "step", drop, nan),)))
        if overlapping:
            cells.append(_overlap_cell(phi))
    return cells


def _overlap_cell(phi: float) -> Cell:
    (_, first, _), (key2, second, _) = OVERLAP
    base_date = pd.Timestamp(SCENARIOS[BASE_SCENARIO].event_date)
    other = {"event_id": key2, "event_date": (base_date + pd.Timedelta(days=OVERLAP_GAP)).date().isoformat(),
             **second}
    targets = tuple((key, eff, float(sim["drop"]), float(sim.get("half_life", math.nan)))
                    for key, sim, eff in OVERLAP)
    return Cell("overlap", phi, {**first, "others": (other,)}, targets)


# --- one series --------------------------------------------------------------------------------------------


def _run_task(task: tuple[Cell, int, dict]) -> list[dict]:
    """Simulate one series of ``cell`` and fit it with every method: one row per (event, method)."""
    cell, seed, options = task
    frame = simulate(BASE_SCENARIO, seed=seed, phi=cell.phi, **cell.overrides)
    n_pre = frame.attrs["settings"]["n_pre"]
    starts = [n_pre + OVERLAP_GAP * i for i in range(len(cell.targets))]
    sim_ids = [frame.attrs["event_id"]] + [o["event_id"] for o in cell.overrides.get("others", ())]
    truths = [true_relative_effect(frame, start - n_pre, options["horizon"], events=[sid] if len(sim_ids) > 1
                                   else None) for start, sid in zip(starts, sim_ids, strict=True)]
    dates = [frame.index[s] for s in starts]
    effects = [t[1] for t in cell.targets]
    rows = []
    for family, errors in options["methods"]:
        try:
            result = fit(frame["observed"], dates if len(dates) > 1 else dates[0], family=family,
                         effect=effects if len(effects) > 1 else effects[0], seasonality=options["seasonality"],
                         errors=errors, alpha=options["alpha"], n_draws=options["n_draws"])
        except (SpamitsError, np.linalg.LinAlgError):
            result = None
        for i, target in enumerate(cell.targets):
            base = _keys(cell, target, family, errors, seed)
            if result is None:
                rows.append({**base, "ok": False, "truth": truths[i]})
                continue
            window = (dates[i], frame.index[starts[i] + options["horizon"] - 1])
            rows.append({**base, **_measure(result, result.events[i], window, truths[i], target)})
    return rows


def _keys(cell: Cell, target: tuple, family: str, errors: str, seed: int) -> dict:
    event, effect, drop, hl = target
    return {"design": cell.design, "event": event, "effect": effect, "phi": cell.phi, "drop": drop,
            "half_life": hl, "method": f"{family}/{errors}", "family": family, "errors": errors, "seed": seed}


def _measure(result, label: str, window: tuple, truth: float, target: tuple) -> dict:
    """Estimates of one event in one fit against the truth."""
    _, _, drop, hl = target
    imp = result.impact(window[0], window[1], events=[label])
    eff = result.effects
    eff = eff[eff["event"] == label].set_index("term")
    level, level_true = eff.loc["level"], math.log1p(-drop)
    out = {"ok": True, "estimate": imp["relative"], "ci_low": imp["relative_low"], "ci_high": imp["relative_high"],
           "truth": truth, "covered": bool(imp["relative_low"] <= truth <= imp["relative_high"]),
           "level": level["estimate"], "level_low": level["ci_low"], "level_high": level["ci_high"],
           "level_true": level_true, "level_covered": bool(level["ci_low"] <= level_true <= level["ci_high"])}
    if "half_life" in eff.index:
        row = eff.loc["half_life"]
        out.update(half_life_est=row["estimate"], half_life_low=row["ci_low"], half_life_high=row["ci_high"],
                   half_life_covered=bool(row["ci_low"] <= hl <= row["ci_high"]))
    return out

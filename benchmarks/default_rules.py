"""Features behind the automatic choices of the defaults (issue 13, phase 7), per SIMULATED stress series.

For each series: the plain fit (no break, conditional and in-sample counterfactual), the pre-period scan's break
and, when there is one, the joint fit with the break as a nuisance event; the level process of each (q > 0: a
wandering level) and whether the joint fit's pre-period residuals hold a second break, the pre-period check's
KPSS/ADF flag, the half-life estimate and interval, and whether each
candidate's 95% interval of the 30-day relative effect covers the truth.  Writes
``benchmarks/results/<tag>_features.csv``; a rule is then read off the table (docs/simulation_study.md).

    .venv/bin/python benchmarks/default_rules.py --seeds 300 --cases wandering earlier-event --jobs 2 --tag rules300
"""

from __future__ import annotations

import argparse
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

from spamits.data.stress import HORIZON_DAYS, STRESS_CASES, simulate_stress
from spamits.errors import SpamitsError
from spamits.its import fit
from spamits.its.prebreak import LABEL, level_wanders
from spamits.its.precheck import precheck, residual_break
from spamits.validation.stress import _series

OUT = Path(__file__).resolve().parent / "results"


def _covered(result: object, y: pd.Series, pos: int, truth: float) -> tuple[bool, float]:
    imp = result.impact(y.index[pos], y.index[pos + HORIZON_DAYS - 1], events=[y.index[pos]])
    return bool(imp["relative_low"] <= truth <= imp["relative_high"]), imp["relative_high"] - imp["relative_low"]


def features(task: tuple[str, int]) -> dict:
    case, seed = task
    frame = simulate_stress(case, seed=seed)
    truth = frame.attrs["truth"]["relative_effect_30d"]
    y, pos = _series(frame)
    out: dict = {"case": case, "seed": seed}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kw = {"family": "negbin", "effect": "decay", "seasonality": "dow", "n_draws": 1000, "pre_break": "none"}
        plain = fit(y, y.index[pos], counterfactual="conditional", **kw)
        eff = plain.effects.set_index("term")
        out.update(hl=eff.loc["half_life", "estimate"], hl_low=eff.loc["half_life", "ci_low"],
                   hl_high=eff.loc["half_life", "ci_high"], plain_q=level_wanders(plain, pos))
        out["plain_cond"], out["plain_cond_width"] = _covered(plain, y, pos, truth)
        insample = fit(y, y.index[pos], counterfactual="in-sample", **kw)
        out["plain_ins"], out["plain_ins_width"] = _covered(insample, y, pos, truth)
        check = precheck(y, y.index[pos], catalog=False, warn_user=False)
        out.update(kpss_wander=check.wandering, break_found=check.break_found, break_f=check.break_f,
                   n_bursts=len(check.bursts))
        if check.break_found:
            try:
                joint = fit(y, [check.break_date, y.index[pos]], counterfactual="conditional", **kw)
            except SpamitsError as exc:  # fit(pre_break="auto") keeps the plain fit then
                out["joint_error"] = type(exc).__name__
                return out
            joint = fit(y, [check.break_date, y.index[pos]], counterfactual="conditional", **kw)
            out["joint_q"] = level_wanders(joint, pos)  # before the takedown, as fit(pre_break="auto") reads it
            resid, positions, _ = joint.residuals
            before = positions < pos
            out["second_break"] = residual_break(resid[before], y.index[positions[before]]) is not None
            out["joint_cond"], _ = _covered(joint, y, pos, truth)
            joint_ins = fit(y, [check.break_date, y.index[pos]], counterfactual="in-sample", **kw)
            out["joint_ins"], _ = _covered(joint_ins, y, pos, truth)
            out["break_label"] = LABEL.format(check.break_date.date())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=300)
    parser.add_argument("--cases", nargs="+", default=list(STRESS_CASES), choices=list(STRESS_CASES))
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--tag", default="rules")
    args = parser.parse_args()
    tasks = [(case, seed) for case in args.cases for seed in range(args.seeds)]
    with ProcessPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(features, tasks, chunksize=8))
    table = pd.DataFrame(rows)
    OUT.mkdir(exist_ok=True)
    table.to_csv(OUT / f"{args.tag}_features.csv", index=False)
    print(table.groupby("case")[["plain_cond", "plain_ins", "break_found", "plain_q", "kpss_wander"]].mean())


if __name__ == "__main__":
    main()

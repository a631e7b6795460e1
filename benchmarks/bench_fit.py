"""Time one ITS fit per effect shape against a plain statsmodels fit of the same series, in one run.

Baseline: ``statsmodels.GLM(y, X, family=NegativeBinomial(alpha))`` on a design with the same baseline terms
and a step (what a user would write by hand, without intervals for the counterfactual).  Every shape is fitted
with the default errors (``ar1``, feasible GLS); the decaying effect also with ``ar1-sandwich``.  ``fit+effects`` is the
fit with its effects table (every interval: level, slope, and for decay the profile-likelihood interval of the
decay rate and half-life); ``fit+effects+impact`` adds the 30-day impact with its simulated interval.
Prints medians and the ratio spamits/baseline; nothing is asserted (tests never assert wall-clock times).

``--hourly``: the hourly decay fit instead, on the SIMULATED hourly stress series (90 days, 2,160 hours,
``spamits.data.stress.simulate_stress("hourly")``), default seasonality (``"auto"``: hour of day + day of
week) and errors; baseline: statsmodels GLM NB on the same hod+dow design with a step at the cut-off hour.

    .venv/bin/python benchmarks/bench_fit.py [--repeat 7] [--days 730] [--hourly]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import statsmodels.api as sm

from spamits import its
from spamits.data import simulate


def _median_times(cases: list[tuple[str, object]], repeat: int) -> dict[str, float]:
    """Median seconds of each case; the cases take turns within every repeat, so a slow spell of the machine
    falls on all of them alike."""
    for _, fn in cases:
        fn()  # warm up (imports, caches)
    times: dict[str, list[float]] = {label: [] for label, _ in cases}
    for _ in range(repeat):
        for label, fn in cases:
            t0 = time.perf_counter()
            fn()
            times[label].append(time.perf_counter() - t0)
    return {label: statistics.median(values) for label, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--days", type=int, default=730, help="series length in days (event in the middle)")
    parser.add_argument("--hourly", action="store_true", help="the hourly decay fit (90 days, 2,160 hours)")
    args = parser.parse_args()
    if args.hourly:
        hourly(args.repeat)
        return
    half = args.days // 2
    frame = simulate("mccolo", seed=0, n_pre=half, n_post=args.days - half)
    y = frame["observed"]
    n = len(y)
    t = np.arange(n)
    dow = np.eye(7)[y.index.day_of_week][:, 1:]
    X = np.column_stack([np.ones(n), t / n, dow, (t >= half).astype(float)])

    def baseline() -> None:
        sm.GLM(y.to_numpy(), X, family=sm.families.NegativeBinomial(alpha=0.03)).fit()

    cases: list[tuple[str, object]] = [("statsmodels GLM NB (baseline)", baseline)]
    for effect, errors in [(effect, its.DEFAULT_ERRORS) for effect in its.EFFECTS] + [("decay", "ar1-sandwich")]:
        def fit_effects(effect: str = effect, errors: str = errors) -> None:
            _ = its.fit(y, "2008-11-11", effect=effect, seasonality="dow", errors=errors).effects

        def fit_impact(effect: str = effect, errors: str = errors) -> None:
            res = its.fit(y, "2008-11-11", effect=effect, seasonality="dow", errors=errors)
            _ = res.effects
            res.impact(y.index[half], y.index[half + 29])

        name = effect if errors == its.DEFAULT_ERRORS else f"{effect} ({errors})"
        cases += [(f"spamits fit+effects {name}", fit_effects), (f"spamits fit+effects+impact {name}", fit_impact)]
    _run_and_print(cases, args.repeat, f"{n} days (SIMULATED mccolo scenario)")


def hourly(repeat: int) -> None:
    """Hourly decay fit on 90 days (2,160 hours) against statsmodels GLM NB on the same design with a step."""
    from spamits.data.stress import simulate_stress

    frame = simulate_stress("hourly", seed=0)
    y = frame["observed"]
    event = "2008-11-11 21:00"
    pos = int(frame.attrs["settings"]["n_pre"])
    n = len(y)
    t = np.arange(n)
    hod = np.eye(24)[y.index.hour][:, 1:]
    dow = np.eye(7)[y.index.day_of_week][:, 1:]
    X = np.column_stack([np.ones(n), t / n, hod, dow, (t >= pos).astype(float)])

    def baseline() -> None:
        sm.GLM(y.to_numpy(), X, family=sm.families.NegativeBinomial(alpha=0.03)).fit()

    def fit_effects() -> None:
        _ = its.fit(y, event, effect="decay").effects

    def fit_impact() -> None:
        res = its.fit(y, event, effect="decay")
        _ = res.effects
        res.impact(y.index[pos], y.index[pos + 719])

    cases = [("statsmodels GLM NB (baseline)", baseline), ("spamits hourly decay fit+effects", fit_effects),
             ("spamits hourly decay fit+effects+impact", fit_impact)]
    _run_and_print(cases, repeat, f"{n} hours (SIMULATED hourly stress case, seed 0)")


def _run_and_print(cases: list, repeat: int, series: str) -> None:
    """Time ``cases`` (median of ``repeat``) and print each as ms and as a ratio to the baseline case."""
    load = os.getloadavg()[0]
    medians = _median_times(cases, repeat)
    base = medians["statsmodels GLM NB (baseline)"]
    print(f"series: {series}, repeat={repeat}")
    print(f"load average at the start and end: {load:.2f}, {os.getloadavg()[0]:.2f}")
    print(f"{'what':<46}{'median ms':>10}{'ratio':>8}")
    for label, spent in medians.items():
        print(f"{label:<46}{1000 * spent:>10.1f}{spent / base:>8.2f}")


if __name__ == "__main__":
    main()

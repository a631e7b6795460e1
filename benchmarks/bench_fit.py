"""Time one ITS fit per effect shape against a plain statsmodels fit of the same series, in one run.

Baseline: ``statsmodels.GLM(y, X, family=NegativeBinomial(alpha))`` on a design with the same baseline terms
and a step (what a user would write by hand, without intervals for the counterfactual).  Every shape is fitted
with the default errors (``ar1``, feasible GLS); the decaying effect also with ``ar1-sandwich``.  ``fit+effects`` is the
fit with its effects table (every interval: level, slope, and for decay the profile-likelihood interval of the
decay rate and half-life); ``fit+effects+impact`` adds the 30-day impact with its simulated interval.
Prints medians and the ratio spamits/baseline; nothing is asserted (tests never assert wall-clock times).

    .venv/bin/python benchmarks/bench_fit.py [--repeat 7] [--days 730]
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


def _median_time(fn, repeat: int) -> float:
    fn()  # warm up (imports, caches)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--days", type=int, default=730, help="series length in days (event in the middle)")
    args = parser.parse_args()
    half = args.days // 2
    frame = simulate("mccolo", seed=0, n_pre=half, n_post=args.days - half)
    y = frame["observed"]
    n = len(y)
    t = np.arange(n)
    dow = np.eye(7)[y.index.day_of_week][:, 1:]
    X = np.column_stack([np.ones(n), t / n, dow, (t >= half).astype(float)])

    def baseline() -> None:
        sm.GLM(y.to_numpy(), X, family=sm.families.NegativeBinomial(alpha=0.03)).fit()

    base = _median_time(baseline, args.repeat)
    print(f"series: {n} days (SIMULATED mccolo scenario), repeat={args.repeat}")
    print(f"load average at the start: {os.getloadavg()[0]:.2f}")
    print(f"{'what':<46}{'median ms':>10}{'ratio':>8}")
    print(f"{'statsmodels GLM NB (baseline)':<46}{1000 * base:>10.1f}{1.0:>8.2f}")
    cases = [(effect, its.DEFAULT_ERRORS) for effect in its.EFFECTS] + [("decay", "ar1-sandwich")]
    for effect, errors in cases:
        def fit_effects(effect: str = effect, errors: str = errors) -> None:
            _ = its.fit(y, "2008-11-11", effect=effect, seasonality="dow", errors=errors).effects

        def fit_impact(effect: str = effect, errors: str = errors) -> None:
            res = its.fit(y, "2008-11-11", effect=effect, seasonality="dow", errors=errors)
            _ = res.effects
            res.impact(y.index[half], y.index[half + 29])

        name = effect if errors == its.DEFAULT_ERRORS else f"{effect} ({errors})"
        for label, fn in (("fit+effects", fit_effects), ("fit+effects+impact", fit_impact)):
            spent = _median_time(fn, args.repeat)
            print(f"{'spamits ' + label + ' ' + name:<46}{1000 * spent:>10.1f}{spent / base:>8.2f}")


if __name__ == "__main__":
    main()

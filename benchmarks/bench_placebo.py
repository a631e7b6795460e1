"""Time the placebo-in-time scan against a loop of ``spamits.its.fit`` calls at the same dates, in one run.

Series: a SIMULATED McColo series of ``--days`` days with the event ``--post`` days before the end (default
730 days, 550 of them before the event).  ``robust.placebo_in_time`` refits every admissible date of the
pre-period together; the baseline is one ``its.fit(y_cut, date, ...)`` plus its effects table per date
(``--stride k`` times every k-th date of the loop and scales the time up, saying so).  The largest difference
between the two tables is printed as a check.  Nothing is asserted (tests never assert wall-clock times).

    .venv/bin/python benchmarks/bench_placebo.py [--days 730] [--post 180] [--stride 1] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from spamits import events, its, robust
from spamits.data import simulate

SPECS = {
    "negbin / step / ar1": {"family": "negbin", "effect": "step", "seasonality": "dow", "errors": "ar1"},
    "gaussian-log / step / hac": {"family": "gaussian-log", "effect": "step", "seasonality": "dow", "errors": "hac"},
}


def _vectorised(y, event, spec, repeat: int) -> tuple[float, robust.PlaceboResult]:
    result = robust.placebo_in_time(y, event, **spec)  # warm up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = robust.placebo_in_time(y, event, **spec)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def _loop(y, result: robust.PlaceboResult, spec: dict, stride: int) -> tuple[float, float]:
    y_cut = y.loc[: result.spec["data_end"]]
    rows = range(0, result.n, stride)
    worst = 0.0
    t0 = time.perf_counter()
    for i in rows:
        fitted = its.fit(y_cut, result.dates[i], **spec).effects.iloc[0]
        worst = max(worst, abs(fitted["estimate"] - result.table["estimate"].iloc[i]),
                    abs(fitted["ci_low"] - result.table["ci_low"].iloc[i]))
    elapsed = time.perf_counter() - t0
    return elapsed * result.n / len(rows), worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--post", type=int, default=180)
    parser.add_argument("--stride", type=int, default=1, help="time every k-th date of the loop (scaled up)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    frame = simulate("mccolo", seed=0, n_pre=args.days - args.post, n_post=args.post)
    y = frame["observed"]
    y.attrs = frame.attrs
    event = events.get("mccolo")
    print(f"SIMULATED series: {len(y)} days, event {event.date.date()} ({args.days - args.post} days before it); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print("| spec | placebo dates | loop of its.fit (s) | vectorised (s) | speed-up | max abs diff |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, spec in SPECS.items():
        fast, result = _vectorised(y, event, spec, args.repeat)
        slow, worst = _loop(y, result, spec, args.stride)
        note = "" if args.stride == 1 else f" (every {args.stride}th date, scaled)"
        print(f"| {name} | {result.n} | {slow:.1f}{note} | {fast:.2f} | {slow / fast:.0f}x | {worst:.1e} |")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

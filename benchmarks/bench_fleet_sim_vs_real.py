"""Sim vs real for every HAProxy balancing policy at 30 % and 60 % of the fleet's capacity.

Three ``mlfleet serve`` replicas behind HAProxy (127.0.0.1), driven by the real load
generator; the serving simulator replays each run configured the same way
(:mod:`mlfleet.serving.fleet.compare`), with batch times either drawn from the run's
pooled batch times ("drawn") or traced replica by replica through the run ("traced":
the machine's pace and the batcher's lateness moment by moment). ``hash`` and
``random2`` route on HAProxy's own consistent-hash ring
(:mod:`mlfleet.serving.lb.haproxy_chash`). Prints one row per (round, policy, load,
mode) and, at the end, how many points agreed (p50 and spread within the tolerance, p99
within it or inside the 95 % prediction interval of
:mod:`mlfleet.serving.fleet.p99_interval`) per policy and load, and the largest and
median errors per mode. Not asserted: the figures go to docs/serving-fleet.md;
tests/serving/fleet/test_fleet_sim_vs_real.py asserts the same criterion on 3-s runs.

    python benchmarks/bench_fleet_sim_vs_real.py [--rounds N] [--duration S] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
from collections import defaultdict
from dataclasses import asdict

import numpy as np

from mlfleet.serving.fleet.compare import (
    PointComparison,
    compare_run,
    measure_capacity_rps,
    spread,
)
from mlfleet.serving.fleet.launcher import Fleet
from mlfleet.serving.fleet.real_run import run_through
from mlfleet.serving.fleet.spec import BALANCES, FleetSpec
from mlfleet.serving.loadgen_spec import LoadSpec

LOADS = (0.3, 0.6)
TOLERANCE = 0.2


def row(c: PointComparison, mode: str, capacity_rps: float) -> str:
    return (f"{c.balance:10s} {c.load_fraction:4.0%} {mode:6s} cap {capacity_rps:4.0f}/s "
            f"n {c.requests:5d} | p50 {c.real_p50_s * 1e3:6.1f} {c.sim_p50_s * 1e3:6.1f} "
            f"({c.p50_error:4.0%}) | p99 {c.real_p99_s * 1e3:6.1f} {c.sim_p99_s * 1e3:6.1f} "
            f"({c.p99_error:4.0%}) in [{c.sim_p99_interval_s[0] * 1e3:.1f}, "
            f"{c.sim_p99_interval_s[1] * 1e3:.1f}] | spread {spread(c.real_shares):.2f} "
            f"{spread(c.sim_shares):.2f} ({c.spread_error:4.0%}) | "
            f"{'agree' if c.agrees(TOLERANCE) else 'DIFFER'}")


def summary(points: list[PointComparison], mode: str) -> str:
    """Largest and median errors over ``points``, and how many p99s only the interval covers."""
    def stats(errors: list[float]) -> str:
        return f"max {max(errors):.0%} median {float(np.median(errors)):.0%}"
    covered = sum(c.p99_error > TOLERANCE and c.p99_agrees(TOLERANCE) for c in points)
    return (f"{mode}: {sum(c.agrees(TOLERANCE) for c in points)}/{len(points)} agree; "
            f"p50 {stats([c.p50_error for c in points])}; "
            f"p99 {stats([c.p99_error for c in points])}, {covered} beyond 20 % inside the "
            f"interval; spread {stats([c.spread_error for c in points])}")


Point = tuple[str, float, PointComparison]
"""(mode, measured capacity req/s, comparison)."""


def one_policy(balance: str, *, duration_s: float, seed: int) -> list[Point]:
    out: list[Point] = []
    with Fleet.start(FleetSpec(replicas=3, balance=balance,
                               server_args=("--device", "cpu"))) as fleet:
        capacity_rps = measure_capacity_rps(fleet)
        for fraction in LOADS:
            spec = LoadSpec(url=fleet.url + "/v1/rank", rate_rps=fraction * capacity_rps,
                            duration_s=duration_s, seed=seed)
            real = run_through(fleet, spec)
            for mode in ("drawn", "traced"):
                c = compare_run(real, balance=balance, load_fraction=fraction,
                                traced=mode == "traced")
                print(row(c, mode, capacity_rps), flush=True)
                out.append((mode, capacity_rps, c))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per point")
    parser.add_argument("--json", default=None, help="write every point here")
    args = parser.parse_args()
    print(f"host: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    points = [p for r in range(args.rounds) for b in BALANCES
              for p in one_policy(b, duration_s=args.duration, seed=100 + r)]
    tally: dict[tuple[str, float, str], list[bool]] = defaultdict(list)
    for mode, _, c in points:
        tally[(c.balance, c.load_fraction, mode)].append(c.agrees(TOLERANCE))
    for (balance, fraction, mode), hits in sorted(tally.items()):
        print(f"{balance:10s} {fraction:4.0%} {mode:6s} agreed {sum(hits)}/{len(hits)}")
    for mode in ("drawn", "traced"):
        print(summary([c for m, _, c in points if m == mode], mode))
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{"mode": m, "capacity_rps": cap, "agrees": c.agrees(TOLERANCE),
                        **asdict(c)} for m, cap, c in points], f, indent=1)


if __name__ == "__main__":
    main()

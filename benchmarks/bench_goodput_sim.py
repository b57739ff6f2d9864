"""The goodput simulation at more seeds than CI affords: Daly's eq. 20 and published
optima, where the simulation parts from Daly (Weibull, bursts, spares, elastic, async),
a simulated effective training time for the Llama 3 405B job, and the kernel's speed.

    python benchmarks/bench_goodput_sim.py [--seeds 1000] [--json]

Prints one block per part; docs/reliability-goodput.md quotes its numbers.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from typing import Any

import numpy as np

from mlfleet.reliability.checkpoint_interval import daly_goodput, daly_interval_s
from mlfleet.reliability.sim.failure_process import Burst, Exponential, FailureProcess, Weibull
from mlfleet.reliability.sim.job import JobSpec
from mlfleet.reliability.sim.optimum import locate_optimum
from mlfleet.reliability.sim.policies import CheckpointPolicy, SparePolicy
from mlfleet.reliability.sim.replications import replicate

H, MIN, DAY = 3600.0, 60.0, 86400.0


def daly_job(mtbf_s: float, interval_s: float, solve_s: float = 500 * H,
             **overrides: Any) -> JobSpec:
    spec = JobSpec(solve_s=solve_s, failures=Exponential(mtbf_s=mtbf_s), restart_s=10 * MIN,
                   checkpoint=CheckpointPolicy(interval_s=interval_s, cost_s=5 * MIN))
    return dataclasses.replace(spec, **overrides)


def eq20(seeds: int) -> list[dict[str, Any]]:
    rows = []
    for mtbf_s, interval_s, solve_s in ((24 * H, 125 * MIN, 500 * H), (6 * H, 60 * MIN, 500 * H),
                                        (15 * MIN, 10 * MIN, 100 * H)):
        study = replicate(daly_job(mtbf_s, interval_s, solve_s), runs=seeds)
        rows.append({"mtbf_h": mtbf_s / H, "interval_min": interval_s / MIN,
                     "ratio": study.daly.ratio, "ci95": study.daly.ratio_ci95})
    return rows


def optima(seeds: int) -> list[dict[str, Any]]:
    rows = []
    for mtbf_s, published, solve_s in ((24 * H, 117, 500 * H), (6 * H, 57, 500 * H),
                                       (15 * MIN, 9.1, 20 * H)):
        guess = daly_interval_s(ckpt_s=5 * MIN, mtbf_s=mtbf_s)
        o = locate_optimum(daly_job(mtbf_s, guess, solve_s),
                           list(np.geomspace(0.7 * guess, 1.4 * guess, 9)), runs=seeds)
        rows.append({"mtbf_h": mtbf_s / H, "published_min": published,
                     "eq37_min": guess / MIN, "simulated_min": o.interval_s / MIN,
                     "low_min": o.low_s / MIN, "high_min": o.high_s / MIN})
    return rows


def departures(seeds: int) -> list[dict[str, Any]]:
    """MTBF 6 h, 500 h, Daly's interval (56.7 min); 8 nodes (64 GPUs) where it matters."""
    m = 6 * H
    tau = daly_interval_s(ckpt_s=5 * MIN, mtbf_s=m)
    cases: list[tuple[str, dict[str, Any]]] = [("exponential", {})]
    processes: list[tuple[str, FailureProcess]] = [
        ("weibull k=0.7", Weibull(mtbf_s=m, shape=0.7)),
        ("weibull k=0.8", Weibull(mtbf_s=m, shape=0.8)),
        ("weibull k=1.5", Weibull(mtbf_s=m, shape=1.5)),
        ("burst (follow 0.3 within 30 min)", Burst(mtbf_s=m, switch_prob=0.1, nodes=4))]
    cases += [(name, {"failures": p}) for name, p in processes]
    six_h = SparePolicy(repair_s=6 * H)  # Little: 6 h / 6 h = 1 node in repair on average
    cases += [
        (f"8 nodes, {n} spares, repair 6 h, {'elastic' if elastic else 'wait'}",
         {"nodes": 8, "spares": dataclasses.replace(six_h, spares=n, elastic=elastic)})
        for n, elastic in ((0, False), (0, True), (1, False), (1, True), (2, False), (4, False))]
    cases += [
        ("async: 10 s snapshot, 5 min write",
         {"checkpoint": CheckpointPolicy(interval_s=daly_interval_s(ckpt_s=10, mtbf_s=m),
                                         cost_s=5 * MIN, mode="async", snapshot_s=10.0)}),
    ]
    rows = []
    for name, overrides in cases:
        study = replicate(daly_job(m, tau, **overrides), runs=seeds)
        rows.append({"case": name, "goodput": study.goodput.mean, "ci95": study.goodput.ci95,
                     "wall_ratio": study.daly.ratio, "ratio_ci95": study.daly.ratio_ci95,
                     "waiting_h": study.time_in_state_s["waiting"] / H})
    return rows


def llama3(seeds: int) -> list[dict[str, Any]]:
    """16,384 H100s, 54 days, 419 unexpected interruptions (Llama 3 paper, Table 5):
    job MTBF = 54 d / 419 = 3.09 h. Checkpoint stall and restart are not published:
    a grid of plausible values, each at its Daly interval."""
    mtbf_s = 54 * DAY / 419
    rows = []
    # 2.84 s: docs/reliability.md's Llama 3 row (5.68 TB sync at 2 TB/s)
    for stall_s, restart_s in ((2.84, 10 * MIN), (2.84, 20 * MIN), (10.0, 5 * MIN), (60.0, 10 * MIN),
                               (60.0, 30 * MIN), (5 * MIN, 10 * MIN), (5 * MIN, 30 * MIN)):
        tau = daly_interval_s(ckpt_s=stall_s, mtbf_s=mtbf_s)
        spec = JobSpec(solve_s=48 * DAY, failures=Exponential(mtbf_s=mtbf_s),
                       restart_s=restart_s,
                       checkpoint=CheckpointPolicy(interval_s=tau, cost_s=stall_s))
        study = replicate(spec, runs=seeds)
        rows.append({"stall_s": stall_s, "restart_min": restart_s / MIN,
                     "interval_min": tau / MIN, "goodput": study.goodput.mean,
                     "ci95": study.goodput.ci95,
                     "daly": daly_goodput(interval_s=tau, ckpt_s=stall_s, restart_s=restart_s,
                                          mtbf_s=mtbf_s),
                     "failures_per_54d": study.failures.mean * 54 * DAY / study.wall_s.mean})
    return rows


def speed() -> dict[str, float]:
    start = time.perf_counter()
    study = replicate(daly_job(6 * H, 60 * MIN), runs=200)
    wall = time.perf_counter() - start
    return {"events": study.events, "wall_s": wall, "events_per_s": study.events / wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    out: dict[str, Any] = {"eq20": eq20(args.seeds), "optima": optima(max(args.seeds // 2, 10)),
           "departures": departures(args.seeds // 4 or 1), "llama3": llama3(args.seeds // 10 or 1),
           "speed": speed()}
    if args.json:
        print(json.dumps(out, indent=2))
        return
    for part, rows in out.items():
        print(f"== {part}")
        for row in rows if isinstance(rows, list) else [rows]:
            print("  " + ", ".join(f"{k}={v:.5g}" if isinstance(v, float) else f"{k}={v}"
                                   for k, v in row.items()))


if __name__ == "__main__":
    main()

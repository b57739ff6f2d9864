"""The Slurm model against a real slurmctld: per-job start times of the mixed workload.

Brings a Slurm lab up (4 hosts x 4 GPUs, accounting), submits the seeded mixed workload
of 52 sleep jobs in real time, reads ``sacct``, and prints the model's prediction next to
each measured start (markdown), with max |error|, the order inversions and the preempted
jobs. Needs root; takes about 4-5 minutes. docs/scheduling-slurm.md quotes its output.

    sudo python benchmarks/bench_slurm_vs_model.py [--seed 27] [--robust] [--json]

``--robust``: the knife-edge-free workload of
:mod:`mlfleet.infra.slurm_lab.robust_workload` (the serial test's, with ``--seed 14``)
instead of the plain random mix.
"""

from __future__ import annotations

import argparse
import json
import time

from mlfleet.infra.slurm_lab import cluster
from mlfleet.infra.slurm_lab.compare import (
    Comparison,
    mixed_config,
    mixed_workload,
    outcomes,
    run_comparison,
)
from mlfleet.infra.slurm_lab.robust_workload import robust_workload, workload_mix


def table(result: Comparison, jobs: dict[str, str]) -> str:
    """The per-job markdown table."""
    lines = ["| job | shape | submit s | predicted start s | sacct start s | error s | "
             "predicted preempted | sacct state |", "|---|---|---|---|---|---|---|---|"]
    for r in result.rows:
        lines.append(f"| {r.name} | {jobs[r.name]} | {r.submit_s:.2f} | "
                     f"{r.predicted_start_s:.2f} | {r.measured_start_s:.1f} | "
                     f"{r.error_s:+.2f} | {'yes' if r.predicted_preempted else ''} | "
                     f"{r.measured_state} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=27)
    parser.add_argument("--robust", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    config = mixed_config()
    jobs = robust_workload(seed=args.seed) if args.robust else mixed_workload(seed=args.seed)
    print(f"workload: {'robust' if args.robust else 'plain'} seed {args.seed}, "
          f"{workload_mix(jobs, config)}", flush=True)
    stable = outcomes(jobs, config)
    started = time.monotonic()
    state = cluster.up(config=config, hosts=config.nodes, accounting=True)
    try:
        result = run_comparison(state, jobs, config)
    finally:
        cluster.teardown(state)
    errors = [r.error_s for r in result.rows]
    summary = {
        "seed": args.seed, "jobs": len(result.rows), "model_outcomes_under_jitter": stable,
        "max_abs_error_s": result.max_abs_error_s,
        "mean_error_s": sum(errors) / len(errors),
        "within_1s": sum(abs(e) <= 1.0 for e in errors),
        "within_2s": sum(abs(e) <= 2.0 for e in errors),
        "order_inversions": result.order_inversions,
        "predicted_preempted": sorted(r.name for r in result.rows if r.predicted_preempted),
        "sacct_preempted": sorted(r.name for r in result.rows
                                  if r.measured_state == "PREEMPTED"),
        "wall_s": time.monotonic() - started,
    }
    if args.json:
        print(json.dumps({"summary": summary, "rows": [r.__dict__ for r in result.rows]}))
        return
    shapes = {j.name: f"{j.nodes}x{j.gpus_per_node} GPU, {j.cpus_per_node} CPU, "
                      f"{j.duration_s:g} s / {j.time_limit_s / 60:g} min, {j.partition}"
              for j in jobs}
    print(table(result, shapes))
    print()
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()

"""Cluster-scheduling simulator speed: the 8 Pollux workloads x 3 policies, and the
full Philly trace (82,247 jobs) replayed under Tiresias.

Each (policy, workload set) and the Philly replay run in a fresh child process, so
its wall time includes loading the profiles and its peak RSS is its own. The peer is
the Pollux artifact's own simulator (``petuum/adaptdl`` osdi21-artifact,
``simulator/simulator.py``), which takes about 16 s for one Tiresias workload on this
machine (figure from the issue; not re-timed here): the ratio printed is ours per
workload / 16 s.

    python benchmarks/bench_cluster_sim.py [--skip-philly] [--json]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from typing import Any

PEER_TIRESIAS_WORKLOAD_S = 16.0
"""The artifact's simulator, one Tiresias workload, on this machine (issue 15)."""
POLICIES = ("tiresias", "optimus", "fifo")


def child(task: str) -> dict[str, Any]:
    """Run one task in this process; wall seconds and peak RSS."""
    from mlfleet.infra.scheduling.pollux_data import WORKLOADS
    from mlfleet.infra.scheduling.run import run_cluster
    from mlfleet.infra.scheduling.workload import load_workload

    start = time.perf_counter()
    extra: dict[str, Any]
    if task == "philly":
        run = run_cluster(load_workload("philly"), policy="tiresias", gpus_per_node=8)
        extra = {"jobs": len(run.result.records), "nodes": run.nodes,
                 "finished": run.result.metrics.finished,
                 "avg_jct_s": run.result.metrics.avg_jct_s,
                 "gpu_utilisation": run.result.metrics.gpu_utilisation,
                 "rounds": run.result.metrics.rounds}
    else:
        avgs = {w: run_cluster(load_workload(w), policy=task).result.metrics.avg_jct_s
                for w in WORKLOADS}
        extra = {"avg_jct_s": avgs}
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"task": task, "wall_s": wall, "peak_rss_mib": peak, **extra}


def spawn(task: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", task], capture_output=True,
                         text=True, check=True)
    doc: dict[str, Any] = json.loads(out.stdout)
    return doc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--skip-philly", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return 0
    rows = [spawn(p) for p in POLICIES]
    if not args.skip_philly:
        rows.append(spawn("philly"))
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for r in rows:
        if r["task"] == "philly":
            print(f"philly replay (tiresias, {r['jobs']} jobs, {r['nodes']} x 8 GPUs, "
                  f"{r['rounds']} rounds): {r['wall_s']:.1f} s wall, peak RSS "
                  f"{r['peak_rss_mib']:.0f} MiB, bound 60 s: {r['wall_s'] / 60:.2f} of it")
        else:
            per = r["wall_s"] / 8
            print(f"{r['task']:9} 8 workloads: {r['wall_s']:.2f} s wall ({per:.2f} s each; "
                  f"{per / PEER_TIRESIAS_WORKLOAD_S:.3f} x the artifact's 16 s), peak RSS "
                  f"{r['peak_rss_mib']:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

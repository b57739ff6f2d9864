"""Calibrate the serving simulator against the real server and compare (fidelity benchmark).

Starts ``mlfleet serve`` in a child process, measures its ranker path (service-time
sweep, capacity, open-loop calibration runs at 15 % and 100 % of capacity for the
slowdown under load and the overhead), runs open-loop Poisson loads at 30/60/90 % of
the measured capacity and 2x overload, and prints real vs simulated p50/p99 latency,
with the CPU other processes used during each run.

    python benchmarks/bench_server.py [--json] [--requests N] [--server-arg=--max-batch=8 ...]
"""

from __future__ import annotations

import argparse
import json

from mlfleet.serving.calibrate import ExperimentSpec, format_result, run_experiment
from mlfleet.serving.server.process import server_process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--requests", type=int, default=2000, help="requests per load point")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet-wait-s", type=float, default=10.0,
                        help="before each timed run, wait up to this long for a quiet host")
    parser.add_argument("--server-arg", action="append", default=[],
                        help="extra `mlfleet serve` option (repeatable), e.g. --server-arg=--max-batch=8")
    args = parser.parse_args()
    with server_process(args.server_arg) as url:
        result = run_experiment(ExperimentSpec(base_url=url, min_requests=args.requests,
                                               seed=args.seed, quiet_wait_s=args.quiet_wait_s))
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, sort_keys=True, default=str))
    else:
        print(format_result(result))


if __name__ == "__main__":
    main()

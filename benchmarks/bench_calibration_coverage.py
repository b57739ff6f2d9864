"""Coverage of the predictive calibration's intervals over repeated experiments.

The predictive path calibrates first (sweep, capacity, open-loop calibration runs at 15 %
and 100 % of capacity, each repeated so the drift between runs is measured), then gives
a 95 % prediction interval of p50 and p99 at 30/60/90 % of capacity
(:mod:`mlfleet.serving.calibrate.interval`). This benchmark repeats the whole experiment
against one real server (``mlfleet serve`` in a child process, 127.0.0.1) and counts how
often each interval covered the measurement. Not asserted anywhere: any interval misses
some of the time; the figures go to docs/validation.md. The trace-driven errors of the
same runs are printed beside them.

    python benchmarks/bench_calibration_coverage.py [--experiments N] [--requests N]
        [--calibration-repeats N] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict

from mlfleet.serving.calibrate import (
    ExperimentResult,
    ExperimentSpec,
    format_result,
    run_experiment,
)
from mlfleet.serving.server.process import server_process


def coverage_table(results: list[ExperimentResult]) -> str:
    """``load: p50 k/n, p99 k/n`` over every experiment's final attempt at each load."""
    hits: dict[float, list[tuple[bool, bool]]] = defaultdict(list)
    for result in results:
        for c in result.final():
            covered = c.covered()
            if covered is not None:
                hits[c.load_fraction].append(covered)
    lines = ["load | p50 covered | p99 covered"]
    for load, rows in sorted(hits.items()):
        n = len(rows)
        lines.append(f"{load:4.0%} | {sum(r[0] for r in rows)}/{n} | {sum(r[1] for r in rows)}/{n}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=4)
    parser.add_argument("--requests", type=int, default=2000, help="requests per load point")
    parser.add_argument("--calibration-repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="write every result here")
    args = parser.parse_args()
    results: list[ExperimentResult] = []
    with server_process() as url:
        for k in range(args.experiments):
            t0 = time.monotonic()
            result = run_experiment(ExperimentSpec(
                base_url=url, min_requests=args.requests, min_duration_s=6.0,
                sweep_concurrency=(1, 2, 4, 8, 16, 32, 48), sweep_duration_s=1.5,
                calibration_requests=600, calibration_repeats=args.calibration_repeats,
                overload_factor=None, replications=8, calibration="predictive",
                seed=args.seed + 10_000 * k))
            results.append(result)
            print(f"--- experiment {k + 1}/{args.experiments} "
                  f"({time.monotonic() - t0:.0f} s)\n{format_result(result)}", flush=True)
    print(coverage_table(results))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump([r.to_dict() for r in results], fh, indent=1, default=str)


if __name__ == "__main__":
    main()

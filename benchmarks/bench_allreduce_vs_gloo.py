"""mlfleet's ring AllReduce on its own socket transport vs torch gloo's built-in all_reduce.

Same machine, same run, loopback, N processes each (4 by default). Per size: the
time of one call (slowest rank, median over repeats, each call started after a
barrier), bus bandwidth (2(n-1)/n · S / t), and the ratio ours / gloo (< 1: ours
is faster). Optionally (``--torch-ring``) the same ring over torch point-to-point,
which separates the algorithm from the transport.

    python benchmarks/bench_allreduce_vs_gloo.py [--ranks 4] [--sizes 4K:16M]
        [--repeats 5] [--torch-ring] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from mlfleet.comm.algorithms.benchmark import CollectiveJob
from mlfleet.comm.launch import launch
from mlfleet.comm.run_cli import parse_sizes, summarise
from mlfleet.units import format_bytes, format_duration, format_rate

JOB = "mlfleet.comm.algorithms.benchmark:measure_collective"


def measure(name: str, *, backend: str, algorithm: str, ranks: int, sizes: tuple[int, ...],
            repeats: int, check: bool) -> dict[str, Any]:
    job = CollectiveJob(collective="allreduce", algorithm=algorithm, sizes_bytes=sizes,
                        repeats=repeats, warmup=1, check=check)
    start = time.perf_counter()
    results = launch(ranks, JOB, args=(job,), backend=backend, timeout_s=120.0)
    rows = summarise(job, results, link=None)
    return {"name": name, "backend": backend, "algorithm": algorithm,
            "wall_s": time.perf_counter() - start,
            "rows": [{k: r[k] for k in ("size_bytes", "time_s", "busbw_bytes_per_s", "correct")}
                     for r in rows]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ranks", type=int, default=4)
    parser.add_argument("--sizes", default="4K:16M", help="START:END doubling, or a comma list")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--torch-ring", action="store_true",
                        help="also run mlfleet's ring over torch point-to-point")
    parser.add_argument("--check", action="store_true", help="verify outputs (slower)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = parse_sizes(args.sizes)
    common = {"ranks": args.ranks, "sizes": sizes, "repeats": args.repeats, "check": args.check}
    runs = [measure("mlfleet ring / socket", backend="socket", algorithm="ring", **common),
            measure("gloo all_reduce", backend="torch", algorithm="builtin", **common)]
    if args.torch_ring:
        runs.append(measure("mlfleet ring / torch p2p", backend="torch", algorithm="ring",
                            **common))
    if args.json:
        print(json.dumps({"ranks": args.ranks, "repeats": args.repeats, "runs": runs}, indent=2))
        return 0
    _print_table(runs, args.ranks, args.repeats)
    return 0


def _print_table(runs: list[dict[str, Any]], ranks: int, repeats: int) -> None:
    ours, gloo = runs[0], runs[1]
    print(f"AllReduce, {ranks} ranks on loopback, median of {repeats} (slowest rank per call)")
    header = f"{'size':>9}"
    for run in runs:
        header += f" | {run['name'][:24]:>24} {'busbw':>10}"
    print(header + f" | {'ours/gloo':>9}")
    for i, row in enumerate(ours["rows"]):
        line = f"{format_bytes(row['size_bytes']):>9}"
        for run in runs:
            r = run["rows"][i]
            line += f" | {format_duration(r['time_s']):>24} {format_rate(r['busbw_bytes_per_s']):>10}"
        print(line + f" | {row['time_s'] / gloo['rows'][i]['time_s']:>9.2f}")
    print("start-up + run wall time: " + ", ".join(
        f"{run['name']} {run['wall_s']:.1f}s" for run in runs))


if __name__ == "__main__":
    sys.exit(main())

"""Startup cost: `import mlfleet` and `mlfleet --help`, against a bare `python -c pass`.

The goal (issue 2) is < 0.3 s for both. Measured in fresh interpreters, median of
repeats, with the bare interpreter start measured in the same run as the floor:

    python benchmarks/bench_startup.py [--repeats 15] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

GOAL_S = 0.3
CASES = {
    "python -c pass (floor)": [sys.executable, "-c", "pass"],
    "import mlfleet": [sys.executable, "-c", "import mlfleet"],
    "mlfleet --help": [sys.executable, "-c",
                       "import sys; from mlfleet.cli import main; sys.exit(main(['--help']))"],
    "mlfleet catalog show H100 --json": [
        sys.executable, "-c",
        "import sys; from mlfleet.cli import main; sys.exit(main(['catalog','show','H100','--json']))"],
}


def median_wall_s(argv: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = {name: median_wall_s(argv, args.repeats) for name, argv in CASES.items()}
    floor = results["python -c pass (floor)"]
    rows = {name: {"median_s": t, "over_floor_s": t - floor, "meets_goal": t < GOAL_S}
            for name, t in results.items()}
    if args.json:
        print(json.dumps({"goal_s": GOAL_S, "results": rows}, indent=2))
    else:
        print(f"{'case':38} {'median':>9} {'over floor':>11}  goal < {GOAL_S}s")
        for name, row in rows.items():
            ok = "ok" if row["meets_goal"] else "MISSED"
            print(f"{name:38} {row['median_s']:8.3f}s {row['over_floor_s']:10.3f}s  {ok}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

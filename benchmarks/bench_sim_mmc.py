"""``mlfleet sim mmc`` against the minimal FIFO M/M/c loop, in-process and as processes.

Run: ``.venv/bin/python benchmarks/bench_sim_mmc.py [requests] [--repeats 5]``. Not a
test. Two comparisons, each the median over ``repeats`` of the paired ratio
(minimal time / ``sim mmc`` time, measured back to back; the goal is >= 0.5x):

* timed work: :func:`mlfleet.serving.sim.mmc.simulate_mmc` (draws, the streaming FIFO
  recursion or, with ``--engine``, the serving engine and its result arrays; batch-means
  intervals) against ``mmc_minimal.run`` (the same draws, the
  minimal loop, the same four statistics without intervals), CPU seconds in this
  process after a warm-up, so imports do not count;
* whole process: ``mlfleet sim mmc -n N --json`` against ``python
  benchmarks/mmc_minimal.py N``, wall seconds of each child process, so interpreter
  start-up and imports count as a user sees them, and the child's CPU seconds
  (``os.wait4``), which other work on a shared machine disturbs less.

Both sides simulate the same requests and the script checks that they report the
same four statistics.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from mlfleet.serving.sim.mmc import PERCENTILE_RELATIVE_ERROR, simulate_mmc
from mmc_minimal import run as minimal_run

SERVERS, UTILIZATION, SEED = 8, 0.9, 1
WARMUP_CALLS = 10
HERE = Path(__file__).resolve().parent
MLFLEET = Path(sys.executable).with_name("mlfleet")


def paired(minimal: Callable[[], float], ours: Callable[[], float],
           repeats: int) -> tuple[float, float, float]:
    """Time both back to back ``repeats`` times: :func:`paired_times`."""
    return paired_times([(minimal(), ours()) for _ in range(repeats)])


def paired_times(times: list[tuple[float, float]]) -> tuple[float, float, float]:
    """(median minimal s, median ours s, median of the paired ratios minimal / ours)."""
    t_min, t_ours = np.array([m for m, _ in times]), np.array([o for _, o in times])
    return float(np.median(t_min)), float(np.median(t_ours)), float(np.median(t_min / t_ours))


def cpu_s(work: Callable[[], object]) -> float:
    began = time.process_time()
    work()
    return time.process_time() - began


def process_s(argv: list[str]) -> tuple[float, float]:
    """(wall s, CPU s) of a child process running ``argv``."""
    began = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"failed ({child.returncode}): {' '.join(argv)}")
    return time.perf_counter() - began, usage.ru_utime + usage.ru_stime


def same_statistics(n: int, *, engine: bool) -> bool:
    """Whether ``sim mmc`` and the minimal loop report the same four statistics: the
    mean and P(wait > 0) to rounding, percentiles within ``sim mmc``'s histogram error."""
    ours = simulate_mmc(servers=SERVERS, utilization=UTILIZATION, requests=n, seed=SEED,
                        engine=engine)
    minimal = minimal_run(n, servers=SERVERS, utilization=UTILIZATION, seed=SEED)
    tolerance = {"mean_wait_s": 1e-12, "p_wait": 1e-12,
                 "p50_wait_s": PERCENTILE_RELATIVE_ERROR, "p99_wait_s": PERCENTILE_RELATIVE_ERROR}
    return all(abs(ours.simulated[k].value - v) <= tolerance[k] * abs(v)
               for k, v in minimal.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("requests", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--engine", action="store_true",
                        help="time sim mmc --engine (through the serving engine on the kernel)")
    args = parser.parse_args()
    n = args.requests
    minimal = partial(minimal_run, servers=SERVERS, utilization=UTILIZATION, seed=SEED)
    ours = partial(simulate_mmc, servers=SERVERS, utilization=UTILIZATION, seed=SEED,
                   engine=args.engine)
    path = ["--engine"] if args.engine else []
    print(f"sim mmc{' --engine' if args.engine else ''} (path: "
          f"{'the serving engine' if args.engine else 'the streaming FIFO recursion'})")
    print(f"M/M/{SERVERS} at rho = {UTILIZATION}, {n:,} requests, seed {SEED}; medians "
          f"of {args.repeats} paired runs\n")
    print(f"host: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start "
          "(other work slows wall-seconds, CPU-seconds much less)")
    for _ in range(WARMUP_CALLS):  # CPython specialises a function after 8 calls
        minimal(2000)
        ours(requests=2000)
    work = paired(lambda: cpu_s(lambda: minimal(n)),
                  lambda: cpu_s(lambda: ours(requests=n)), args.repeats)
    pairs = [(process_s([sys.executable, str(HERE / "mmc_minimal.py"), str(n)]),
              process_s([str(MLFLEET), "sim", "mmc", "-n", str(n), "--json", *path]))
             for _ in range(args.repeats)]
    wall = paired_times([(m[0], o[0]) for m, o in pairs])
    cpu = paired_times([(m[1], o[1]) for m, o in pairs])
    print("| comparison | minimal loop s | `sim mmc` s | `sim mmc` speed (goal >= 0.5x) |\n"
          "|---|---|---|---|")
    for name, (t_min, t_ours, ratio) in (("timed work (CPU s)", work),
                                         ("whole process (wall s)", wall),
                                         ("whole process (CPU s)", cpu)):
        print(f"| {name} | {t_min:.3f} | {t_ours:.3f} | {ratio:.2f}x |")
    print(f"\nsame four statistics: {same_statistics(n, engine=args.engine)}")


if __name__ == "__main__":
    main()

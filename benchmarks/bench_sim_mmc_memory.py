"""Peak memory and Ctrl-C of a long ``mlfleet sim mmc`` run (issue 10, item 2).

Run: ``.venv/bin/python benchmarks/bench_sim_mmc_memory.py [requests]
[--sigint-after-s S]``. Not a test. Without ``--sigint-after-s`` it runs
``mlfleet sim mmc --servers 8 --utilization 0.9 --requests N --seed 1 --json`` as a
child and prints its wall time, its peak resident memory (``ru_maxrss`` from
``os.wait4``) against the 1 GB bound, and whether its mean wait lies inside the
Erlang C confidence interval. With ``--sigint-after-s S`` it sends SIGINT S seconds
into the run and prints how long the child took to exit after it, its exit status
(130 wanted, within 1 s) and its stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

MLFLEET = Path(sys.executable).with_name("mlfleet")
RSS_BOUND_BYTES = 10**9
EXIT_BOUND_S = 1.0


def command(requests: int) -> list[str]:
    return [str(MLFLEET), "sim", "mmc", "--servers", "8", "--utilization", "0.9",
            "--requests", str(requests), "--seed", "1", "--json"]


def full_run(requests: int) -> None:
    """Wall time, peak RSS and the within-CI verdict of one whole run."""
    start = time.perf_counter()
    child = subprocess.Popen(command(requests), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    out, err = child.stdout, child.stderr
    assert out is not None and err is not None
    stdout, stderr = out.read(), err.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall_s = time.perf_counter() - start
    rss_bytes = usage.ru_maxrss * 1024  # kB on Linux
    print(f"requests {requests:_}: exit {os.waitstatus_to_exitcode(status)}, "
          f"wall {wall_s:.1f} s, peak RSS {rss_bytes / 1e6:.0f} MB "
          f"({'<=' if rss_bytes <= RSS_BOUND_BYTES else '>'} 1 GB)")
    if stderr:
        print("stderr:", stderr.decode(errors="replace").strip())
    doc = json.loads(stdout)
    mean = doc["statistics"]["mean_wait_s"]
    print(f"mean wait {mean['simulated']:.6g} ± {mean['ci95_half_width']:.2g} s, "
          f"Erlang C {mean['erlang_c']:.6g} s, within CI: {mean['within_ci']}")
    for name, row in doc["statistics"].items():
        print(f"  {name}: {row['simulated']:.6g} ± {row['ci95_half_width']:.2g} "
              f"(Erlang C {row['erlang_c']:.6g}, within CI {row['within_ci']})")


def interrupted_run(requests: int, after_s: float) -> None:
    """Exit status, exit delay and stderr after SIGINT ``after_s`` into a run."""
    child = subprocess.Popen(command(requests), stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    time.sleep(after_s)
    sent = time.perf_counter()
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=30)
    delay_s = time.perf_counter() - sent
    print(f"SIGINT after {after_s:g} s: exit {child.returncode} after {delay_s:.3f} s "
          f"({'<=' if delay_s <= EXIT_BOUND_S else '>'} {EXIT_BOUND_S:g} s); "
          f"stderr {stderr.decode(errors='replace').strip()!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("requests", type=int, nargs="?", default=100_000_000)
    parser.add_argument("--sigint-after-s", type=float, default=None)
    args = parser.parse_args()
    if args.sigint_after_s is None:
        full_run(args.requests)
    else:
        interrupted_run(args.requests, args.sigint_after_s)


if __name__ == "__main__":
    main()

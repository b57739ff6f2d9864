"""CPU pinning on a real ``mlfleet serve`` beside busy-loop hogs: p99 per case, rounds.

Each round starts a fresh server and runs the four cases of
``mlfleet.infra.isolation.pinning`` (alone, hogs unpinned, server and hogs pinned to
disjoint CPUs, alone pinned) with the same seeded arrivals; the host's load average is
printed beside each round, since other processes on the host are hogs too. Prints the
median over rounds and the ratios p99(hogs, unpinned) / p99(hogs, pinned) and
p99(hogs, pinned) / p99(alone), per round and median.

    python benchmarks/bench_pinning.py [--rounds 3] [--duration 10] [--rate 100] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics

from mlfleet.infra.isolation.pinning import CaseResult, run_pinning


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per case")
    parser.add_argument("--rate", type=float, default=100.0, help="requests per second")
    parser.add_argument("--hogs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rounds: list[dict[str, CaseResult]] = []
    loads: list[float] = []
    for r in range(args.rounds):
        loads.append(os.getloadavg()[0])
        results = run_pinning(rate_per_s=args.rate, duration_s=args.duration, hogs=args.hogs,
                              server_cpus=1, seed=r)
        rounds.append({c.name: c for c in results})
        _print_round(r, loads[-1], rounds[-1])
    summary = _summary(rounds)
    if args.json:
        print(json.dumps({"args": vars(args), "load_avg_1min": loads, "summary": summary,
                          "rounds": [{k: vars(v) for k, v in rd.items()} for rd in rounds]},
                         indent=2, sort_keys=True))
    else:
        for name, values in summary.items():
            print(f"median {name}: {values}")


def _print_round(r: int, load: float, cases: dict[str, CaseResult]) -> None:
    print(f"round {r} (load average {load:.2f} before it):")
    for c in cases.values():
        print(f"  {c.name:14s} server CPUs {c.server_cpus:5s} p50 {c.p50_s * 1e3:7.1f} ms  "
              f"p99 {c.p99_s * 1e3:7.1f} ms  {c.throughput_per_s:6.1f}/s  "
              f"hog CPU {sum(c.hog_cpu_s):5.1f} s")
    u, p, a = (cases[n].p99_s for n in ("hog, unpinned", "hog, pinned", "alone"))
    print(f"  p99 ratios: unpinned/pinned {u / p:.2f}, pinned/alone {p / a:.2f}")


def _summary(rounds: list[dict[str, CaseResult]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for name in rounds[0]:
        out[name] = {"p50_ms": statistics.median(rd[name].p50_s * 1e3 for rd in rounds),
                     "p99_ms": statistics.median(rd[name].p99_s * 1e3 for rd in rounds)}
    out["ratios"] = {
        "p99_unpinned_over_pinned": statistics.median(
            rd["hog, unpinned"].p99_s / rd["hog, pinned"].p99_s for rd in rounds),
        "p99_pinned_over_alone": statistics.median(
            rd["hog, pinned"].p99_s / rd["alone"].p99_s for rd in rounds)}
    return out


if __name__ == "__main__":
    main()

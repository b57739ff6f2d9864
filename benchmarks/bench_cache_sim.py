"""Cache replay speed: mlfleet's policies against the naive list references, same trace, same run.

The brief's target: 10^6 accesses replay in seconds, not minutes. Per policy: accesses per
second of ``mlfleet.storage.cache.replay`` on a Zipf(0.9) trace of 10^6 accesses over 10^5
blocks (cache 1 %), and the naive reference (tests/storage/cache/naive_caches.py) on the
first 20,000 accesses of the same trace, with the speed ratio. The hit sequences are
compared on the common prefix. Also the time of Che's approximation for the same case.

    python benchmarks/bench_cache_sim.py [--accesses 1000000] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "storage" / "cache"))

import naive_caches  # noqa: E402

from mlfleet.storage.cache import policy, replay  # noqa: E402
from mlfleet.storage.cache.che import lru_hit_rate  # noqa: E402
from mlfleet.storage.cache.traces import parse  # noqa: E402

NAIVE_PREFIX = 20_000


def measure(accesses: int) -> dict[str, Any]:
    trace = parse(f"zipf:alpha=0.9,items=1e5,accesses={accesses}", seed=1)
    capacity = trace.distinct_blocks // 100
    rows = []
    for name, naive in (("lru", naive_caches.lru), ("lfu", naive_caches.lfu),
                        ("arc", naive_caches.arc)):
        start = time.perf_counter()
        hits = replay(policy(name, capacity), trace.blocks)
        fast_s = time.perf_counter() - start
        prefix = trace.blocks[:NAIVE_PREFIX].tolist()
        start = time.perf_counter()
        reference = naive(prefix, capacity)
        naive_s = time.perf_counter() - start
        rows.append({"policy": name, "accesses_per_s": accesses / fast_s, "replay_s": fast_s,
                     "naive_accesses_per_s": NAIVE_PREFIX / naive_s,
                     "speedup": (accesses / fast_s) / (NAIVE_PREFIX / naive_s),
                     "same_hits_on_prefix": hits[:NAIVE_PREFIX].tolist() == reference})
    assert trace.popularity is not None
    start = time.perf_counter()
    lru_hit_rate(trace.popularity, capacity)
    return {"accesses": accesses, "cache_blocks": capacity, "rows": rows,
            "che_s": time.perf_counter() - start}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accesses", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.accesses)
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
        return 0
    print(f"{result['accesses']:,} accesses, cache {result['cache_blocks']:,} blocks; "
          f"Che's approximation {result['che_s'] * 1e3:.1f} ms")
    for r in result["rows"]:
        print(f"  {r['policy']}: {r['accesses_per_s']:,.0f} accesses/s ({r['replay_s']:.2f} s), "
              f"naive {r['naive_accesses_per_s']:,.0f}/s, x{r['speedup']:.0f}, "
              f"same hits: {r['same_hits_on_prefix']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

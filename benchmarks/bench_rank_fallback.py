"""What a fallback reply costs and saves: the real server's rank path answered by the
primary ranker, then (same server, same load, an injected fault) by the popularity
fallback, side by side in one run. Prints p50/p99 of each and their ratio.

    python benchmarks/bench_rank_fallback.py [--rate 50] [--duration 4] [--json]
"""

from __future__ import annotations

import argparse
import json
import urllib.request

from mlfleet.serving.loadgen import run_load
from mlfleet.serving.loadgen_spec import LoadSpec
from mlfleet.serving.loadgen_stats import LoadReport, summarize
from mlfleet.serving.server.process import server_process

CHILD = """
import asyncio, sys
from mlfleet.serving.server.cli import _apply_process_settings, serve
from mlfleet.serving.server.config import ServerConfig
from mlfleet.serving.server.resilience_config import RankFallbackConfig
_apply_process_settings(1)
config = ServerConfig(port=int(sys.argv[2]), device="cpu",
                      rank_fallback=RankFallbackConfig(enabled=True))
asyncio.run(serve(config))
"""


def set_fault(base_url: str, mode: str) -> None:
    request = urllib.request.Request(base_url + "/admin/fault", method="POST",
                                     data=json.dumps({"mode": mode}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def measure(base_url: str, *, rate: float, duration: float, seed: int) -> LoadReport:
    spec = LoadSpec(url=base_url + "/v1/rank", rate_rps=rate, duration_s=duration, seed=seed)
    return summarize(run_load(spec).records, spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with server_process(launcher=("-c", CHILD)) as url:
        primary = measure(url, rate=args.rate, duration=args.duration, seed=1)
        set_fault(url, "fail")
        fallback = measure(url, rate=args.rate, duration=args.duration, seed=1)
    rows = {"primary": primary, "popularity fallback": fallback}
    out = {name: {"served_by": r.served_by_counts, "p50_ms": r.e2e.p50_s * 1e3,
                  "p99_ms": r.e2e.p99_s * 1e3, "status": r.status_counts}
           for name, r in rows.items()}
    out["ratio_p50"] = {"fallback/primary": fallback.e2e.p50_s / primary.e2e.p50_s}
    if args.json:
        print(json.dumps(out, indent=2, sort_keys=True))
        return
    for name, r in rows.items():
        print(f"{name:20s} p50 {r.e2e.p50_s * 1e3:7.2f} ms  p99 {r.e2e.p99_s * 1e3:7.2f} ms  "
              f"served_by {r.served_by_counts}  status {r.status_counts}")
    print(f"fallback/primary p50 ratio {fallback.e2e.p50_s / primary.e2e.p50_s:.3f}")


if __name__ == "__main__":
    main()

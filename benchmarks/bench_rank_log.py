"""Cost of per-rank span logs: a real ``mlfleet run train`` with and without ``--log-dir``.

Side by side in the same session, alternating (off, on, off, on, ...) so that a shared
host's load hits both alike: the median step cycle of rank 0 (the supervisor's
``step_cycle_s``: the time between consecutive steps) of each run, and the ratio
with / without. Also the cost of one ``RankLog.span`` call in this process.

    python benchmarks/bench_rank_log.py [--ranks 4] [--steps 200] [--rounds 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ENTRY = "import sys; from mlfleet.cli import main; sys.exit(main())"


def _cycle_s(ranks: int, steps: int, log_dir: Path | None) -> float:
    args = [sys.executable, "-c", ENTRY, "run", "train", "--ranks", str(ranks), "--steps",
            str(steps), "--ckpt-every", str(steps), "--json"]
    if log_dir is not None:
        args += ["--log-dir", str(log_dir)]
    proc = subprocess.run(args, capture_output=True, text=True, check=True, timeout=900)
    return float(json.loads(proc.stdout)["step_cycle_s"])


def _span_cost_s(calls: int = 100_000) -> float:
    from mlfleet.ops.debug.rank_log import RankLog

    with tempfile.TemporaryDirectory() as tmp:
        log = RankLog(Path(tmp), 0, world=1)
        start = time.perf_counter()
        for step in range(calls):
            now = time.perf_counter_ns()
            log.span("forward", step, now, now + 1000, loss=1.25)
        log.close()
        return (time.perf_counter() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", type=int, default=4)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()
    off, on = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(opts.rounds):
            off.append(_cycle_s(opts.ranks, opts.steps, None))
            on.append(_cycle_s(opts.ranks, opts.steps, Path(tmp) / f"logs-{i}"))
    result: dict[str, Any] = {
        "ranks": opts.ranks, "steps": opts.steps, "rounds": opts.rounds,
        "cycle_s_without": off, "cycle_s_with": on,
        "ratio_with_over_without": statistics.median(on) / statistics.median(off),
        "span_call_s": _span_cost_s()}
    if opts.json:
        print(json.dumps(result, indent=2))
        return
    print(f"step cycle without logs {statistics.median(off) * 1e3:.2f} ms, with "
          f"{statistics.median(on) * 1e3:.2f} ms: ratio {result['ratio_with_over_without']:.3f}")
    print(f"one span: {result['span_call_s'] * 1e6:.2f} us (5 spans per step)")


if __name__ == "__main__":
    main()

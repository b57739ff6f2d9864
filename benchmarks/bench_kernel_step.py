"""The serving step's float path: built from kernels vs the legacy roofline line.

Same process, same run, interleaved rounds: µs per ``LlmStepModel.iteration_time_s`` call
(what the discrete-event simulator pays per iteration) for the kernel path (compiled to
plain floats, :mod:`mlfleet.infra.accel.compiled_step`), the legacy roofline, and the
kernel path's numpy array evaluation of one point; prints each and the ratios.

    python benchmarks/bench_kernel_step.py [--calls 3000] [--rounds 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

from mlfleet.serving.models.llm_step import llm_step_model


def per_call_us(fn: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    kernels = llm_step_model(workload="Llama-3-8B", accelerator="H100")
    legacy = llm_step_model(workload="Llama-3-8B", accelerator="H100", compute_efficiency=1.0)
    cases = {
        "kernel float path": lambda: kernels.iteration_time_s(8, 8000.0),
        "legacy float path": lambda: legacy.iteration_time_s(8, 8000.0),
        "kernel array path": lambda: kernels.iteration(decode_seqs=8, decode_context_tokens=8000),
    }
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, fn in cases.items():
            calls = args.calls if "float" in name else max(args.calls // 30, 10)
            samples[name].append(per_call_us(fn, calls))
    median = {name: statistics.median(v) for name, v in samples.items()}
    ratios = {"kernel float / legacy float": median["kernel float path"]
              / median["legacy float path"],
              "kernel array / kernel float": median["kernel array path"]
              / median["kernel float path"]}
    if args.json:
        print(json.dumps({"us_per_call": median, "ratios": ratios}, indent=2))
        return
    for name, us in median.items():
        print(f"{name:20s} {us:9.1f} µs per call (median of {args.rounds} rounds)")
    for name, r in ratios.items():
        print(f"{name:30s} {r:7.1f}x")


if __name__ == "__main__":
    main()

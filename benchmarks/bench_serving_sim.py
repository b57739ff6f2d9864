"""Speed of the serving simulator on a Vidur-comparable configuration.

Run: ``.venv/bin/python benchmarks/bench_serving_sim.py [--repeats 5] [--no-reference]``.
Not a test. Prints simulated requests per wall-second (best of the repeats; CPU time
too, since this machine may be shared) and the ratio to Vidur's 430-840.

The configuration (as Vidur's evaluation, Agrawal et al., "Vidur: A Large-Scale
Simulation Framework for LLM Inference", MLSys 2024, which reports 430-840 simulated
requests per wall-second):

* Llama-2-7B: 32 layers, d_model 4096, 32 heads (multi-head attention), vocab 32000,
  6.74e9 parameters (Touvron et al. 2023, "Llama 2", Table 1 and the released config);
* one A100-80GB (catalog), bf16; roofline step time with the simulator's default
  efficiencies and overhead; KV blocks from 90 % of HBM minus the weights;
* vLLM-style paged scheduler: 16-token blocks, max 256 sequences, 4096 batched tokens,
  preemption by recompute;
* Poisson arrivals at 4 req/s, 4,000 requests, lognormal prompts (median 1,000, sigma
  0.6) and outputs (median 130, sigma 0.8), each clipped so prompt + output <= 4096
  (Llama 2's context).

It also runs the naive iteration-by-iteration reference on the same requests, to show
what coalescing buys and that the two agree.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from mlfleet.infra.roofline import TransformerShape
from mlfleet.serving.sim.arrivals import LogNormal, PoissonArrivals, RequestStream, make_requests
from mlfleet.serving.sim.engine import Engine
from mlfleet.serving.sim.reference import ReferenceConfig, simulate_reference
from mlfleet.serving.sim.replicas.paged import PagedReplica, blocks_for
from mlfleet.serving.sim.steptime import LlmStepTime, roofline_step_time

LLAMA2_7B = TransformerShape(params=6.74e9, n_layers=32, d_model=4096, n_heads=32,
                             seq_len=4096)
"""Llama-2-7B (Touvron et al. 2023, Table 1; config.json of meta-llama/Llama-2-7b-hf)."""
VIDUR_REQUESTS_PER_WALL_S = (430.0, 840.0)
N_REQUESTS, RATE_PER_S, MAX_BATCHED_TOKENS, MAX_SEQS = 4000, 4.0, 4096, 256


def workload(seed: int = 0) -> RequestStream:
    """The 4,000 requests (same seed, same requests)."""
    return make_requests(N_REQUESTS, arrivals=PoissonArrivals(rate_per_s=RATE_PER_S),
                         rng=np.random.default_rng(seed),
                         prompt=LogNormal(median=1000, sigma=0.6, max_tokens=3584),
                         output=LogNormal(median=130, sigma=0.8, max_tokens=512))


def simulate(stream: RequestStream, step: LlmStepTime, blocks: int) -> tuple[float, float,
                                                                              object]:
    """(wall s, CPU s, result) of one engine run, construction and results included."""
    wall, cpu = time.perf_counter(), time.process_time()
    replica = PagedReplica(step_time=step, num_blocks=blocks, max_seqs=MAX_SEQS,
                           max_batched_tokens=MAX_BATCHED_TOKENS)
    result = Engine(requests=stream, replicas=[replica], rng=np.random.default_rng(0)).run()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-reference", action="store_true")
    args = parser.parse_args()
    step = roofline_step_time(workload=LLAMA2_7B, accelerator="A100-80GB")
    blocks = blocks_for(step, hbm_bytes=80e9)
    stream = workload()
    runs = [simulate(stream, step, blocks) for _ in range(args.repeats)]
    wall = min(r[0] for r in runs)
    cpu = min(r[1] for r in runs)
    result = runs[0][2]
    summary = result.summary()  # type: ignore[attr-defined]
    rate = N_REQUESTS / wall
    print("config: Llama-2-7B on 1 x A100-80GB (bf16), vLLM-style paged scheduler "
          f"({blocks} blocks of 16 tokens, max {MAX_SEQS} seqs, {MAX_BATCHED_TOKENS} batched "
          f"tokens), Poisson {RATE_PER_S:g} req/s, {N_REQUESTS} requests, lognormal prompt "
          "median 1000 / output median 130")
    print(f"simulated: TTFT p50 {summary.ttft.p50_s * 1e3:.0f} ms, TPOT p50 "
          f"{summary.tpot.p50_s * 1e3:.1f} ms, e2e p99 {summary.e2e.p99_s:.1f} s, "
          f"preemptions {summary.preemptions}, span {summary.span_s:.0f} s")
    print(f"speed: {rate:,.0f} simulated requests per wall-second (best of {args.repeats}; "
          f"{N_REQUESTS / cpu:,.0f} per CPU-second)")
    low, high = VIDUR_REQUESTS_PER_WALL_S
    print(f"vs Vidur's {low:.0f}-{high:.0f}: {rate / low:.0f}x and {rate / high:.0f}x "
          f"(goal >= 30,000 per wall-second: {'met' if rate >= 30_000 else 'NOT met'})")
    if not args.no_reference:
        _reference(stream, step, blocks, result, wall)


def _reference(stream: RequestStream, step: LlmStepTime, blocks: int, result: object,
               wall: float) -> None:
    cfg = ReferenceConfig(scheduler="paged", num_blocks=blocks, max_seqs=MAX_SEQS,
                          max_batched_tokens=MAX_BATCHED_TOKENS)
    start = time.perf_counter()
    ref = simulate_reference(stream, step_time=step, config=cfg)
    ref_wall = time.perf_counter() - start
    finish = result.finish_s  # type: ignore[attr-defined]
    ok = ~np.isnan(ref.finish_s)
    err = float(np.max(np.abs(finish[ok] / ref.finish_s[ok] - 1.0)))
    print(f"naive iteration-by-iteration reference: {ref.iterations:,} iterations in "
          f"{ref_wall:.2f} s ({N_REQUESTS / ref_wall:,.0f} req/s); coalescing is "
          f"{ref_wall / wall:.0f}x faster; max relative difference in finish times {err:.1e}")


if __name__ == "__main__":
    main()

"""Speed of the serving simulator against Vidur, both run here on the same requests.

Run: ``.venv/bin/python benchmarks/bench_serving_sim.py [--repeats 5]
[--vidur-repeats 3] [--no-reference]``. Not a test. Prints simulated requests per
wall-second (and per CPU-second, since this machine may be shared) as medians over the
repeats, never best-of-N:

* ours, cold: the first engine run in this process (CPython has not yet specialised
  the engine's functions), and warm: the median of the runs after it;
* Vidur 0.0.26 (Agrawal et al., "Vidur: A Large-Scale Simulation Framework for LLM
  Inference", MLSys 2024), run in this process on the same requests, with its metrics
  store off and on. Vidur's own step-time predictor needs profiling data it downloads
  at run time, which this machine cannot do, so our roofline step time stands in for
  it (``vidur_peer.py`` says exactly what is replaced); the comparison is of the two
  simulators' cores, not of their step-time models. Without Vidur installed the script
  says how to install it and runs ours alone.

The configuration (Vidur's evaluation setup):

* Llama-2-7B: 32 layers, d_model 4096, 32 heads (multi-head attention), vocab 32000,
  6.74e9 parameters (Touvron et al. 2023, "Llama 2", Table 1 and the released config);
* one A100-80GB (catalog), bf16; roofline step time with the simulator's default
  efficiencies and overhead; KV blocks from 90 % of HBM minus the weights (Vidur is
  given the same block count);
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
import os
import time
import warnings

import numpy as np

import vidur_peer
from mlfleet.infra.roofline import TransformerShape
from mlfleet.serving.sim.arrivals import LogNormal, PoissonArrivals, RequestStream, make_requests
from mlfleet.serving.sim.engine import Engine
from mlfleet.serving.sim.reference import ReferenceConfig, simulate_reference
from mlfleet.serving.sim.replicas.paged import PagedReplica, blocks_for
from mlfleet.serving.sim.results import SimResult
from mlfleet.serving.sim.steptime import LlmStepTime, roofline_step_time

LLAMA2_7B = TransformerShape(params=6.74e9, n_layers=32, d_model=4096, n_heads=32,
                             seq_len=4096)
"""Llama-2-7B (Touvron et al. 2023, Table 1; config.json of meta-llama/Llama-2-7b-hf)."""
N_REQUESTS, RATE_PER_S, MAX_BATCHED_TOKENS, MAX_SEQS = 4000, 4.0, 4096, 256


def workload(seed: int = 0) -> RequestStream:
    """The 4,000 requests (same seed, same requests)."""
    return make_requests(N_REQUESTS, arrivals=PoissonArrivals(rate_per_s=RATE_PER_S),
                         rng=np.random.default_rng(seed),
                         prompt=LogNormal(median=1000, sigma=0.6, max_tokens=3584),
                         output=LogNormal(median=130, sigma=0.8, max_tokens=512))


def setup() -> tuple[RequestStream, LlmStepTime, int]:
    """The requests, the step time and the KV block count both simulators get."""
    step = roofline_step_time(workload=LLAMA2_7B, accelerator="A100-80GB")
    return workload(), step, blocks_for(step, hbm_bytes=80e9)


def simulate(stream: RequestStream, step: LlmStepTime,
             blocks: int) -> tuple[float, float, SimResult]:
    """(wall s, CPU s, result) of one engine run, construction and results included."""
    wall, cpu = time.perf_counter(), time.process_time()
    replica = PagedReplica(step_time=step, num_blocks=blocks, max_seqs=MAX_SEQS,
                           max_batched_tokens=MAX_BATCHED_TOKENS)
    result = Engine(requests=stream, replicas=[replica], rng=np.random.default_rng(0)).run()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def rates(walls: list[float], cpus: list[float]) -> str:
    """Median simulated requests per wall-second and per CPU-second."""
    return (f"{N_REQUESTS / float(np.median(walls)):,.0f} per wall-s, "
            f"{N_REQUESTS / float(np.median(cpus)):,.0f} per CPU-s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="warm runs of ours")
    parser.add_argument("--vidur-repeats", type=int, default=3,
                        help="Vidur runs with its metrics off, and as many with them on")
    parser.add_argument("--no-reference", action="store_true")
    args = parser.parse_args()
    print(f"host: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start "
          "(other work slows wall-seconds, CPU-seconds much less)")
    stream, step, blocks = setup()
    runs = [simulate(stream, step, blocks) for _ in range(1 + args.repeats)]
    result = runs[0][2]
    summary = result.summary()
    print("config: Llama-2-7B on 1 x A100-80GB (bf16), vLLM-style paged scheduler "
          f"({blocks} blocks of 16 tokens, max {MAX_SEQS} seqs, {MAX_BATCHED_TOKENS} batched "
          f"tokens), Poisson {RATE_PER_S:g} req/s, {N_REQUESTS} requests, lognormal prompt "
          "median 1000 / output median 130")
    print(f"simulated: TTFT p50 {summary.ttft.p50_s * 1e3:.0f} ms, TPOT p50 "
          f"{summary.tpot.p50_s * 1e3:.1f} ms, e2e p99 {summary.e2e.p99_s:.1f} s, "
          f"preemptions {summary.preemptions}, span {summary.span_s:.0f} s")
    cold_wall, cold_cpu, _ = runs[0]
    warm = (float(np.median([r[0] for r in runs[1:]])),
            float(np.median([r[1] for r in runs[1:]])))
    print(f"ours, cold (first run in the process): {rates([cold_wall], [cold_cpu])}")
    print(f"ours, warm (median of {args.repeats}): "
          f"{rates([r[0] for r in runs[1:]], [r[1] for r in runs[1:]])}")
    if vidur_peer.available():
        _vidur(stream, step, blocks, result, warm, args.vidur_repeats)
    else:
        print(f"vidur not installed: {vidur_peer.INSTALL}")
    if not args.no_reference:
        _reference(stream, step, blocks, result, warm[0])


def _vidur(stream: RequestStream, step: LlmStepTime, blocks: int, result: SimResult,
           warm: tuple[float, float], repeats: int) -> None:
    """Vidur on the same requests, metrics off then on; medians, and the agreement of
    the two simulators' end-to-end latencies."""
    warnings.filterwarnings("ignore")  # pandas / requests noise on Vidur's import
    ours_e2e = result.finish_s - stream.arrival_s
    for metrics in (False, True):
        runs = [vidur_peer.simulate(stream, step, blocks=blocks, max_seqs=MAX_SEQS,
                                    max_batched_tokens=MAX_BATCHED_TOKENS, metrics=metrics)
                for _ in range(repeats)]
        wall = float(np.median([r.wall_s for r in runs]))
        cpu = float(np.median([r.cpu_s for r in runs]))
        print(f"Vidur 0.0.26, metrics {'on' if metrics else 'off'} (median of {repeats}; "
              f"our roofline step time as its predictor): "
              f"{rates([r.wall_s for r in runs], [r.cpu_s for r in runs])}; "
              f"ours warm is {wall / warm[0]:,.0f}x faster per wall-s, "
              f"{cpu / warm[1]:,.0f}x per CPU-s")
    e2e = runs[0].finish_s - stream.arrival_s
    print(f"agreement: e2e p50 {np.median(e2e):.2f} s (Vidur) vs {np.median(ours_e2e):.2f} s "
          f"(ours), p99 {np.percentile(e2e, 99):.1f} s vs {np.percentile(ours_e2e, 99):.1f} s "
          "(the two vLLM schedulers differ in detail; same step-time model)")


def _reference(stream: RequestStream, step: LlmStepTime, blocks: int, result: SimResult,
               wall: float) -> None:
    cfg = ReferenceConfig(scheduler="paged", num_blocks=blocks, max_seqs=MAX_SEQS,
                          max_batched_tokens=MAX_BATCHED_TOKENS)
    start = time.perf_counter()
    ref = simulate_reference(stream, step_time=step, config=cfg)
    ref_wall = time.perf_counter() - start
    ok = ~np.isnan(ref.finish_s)
    err = float(np.max(np.abs(result.finish_s[ok] / ref.finish_s[ok] - 1.0)))
    print(f"naive iteration-by-iteration reference: {ref.iterations:,} iterations in "
          f"{ref_wall:.2f} s ({N_REQUESTS / ref_wall:,.0f} req/s); coalescing is "
          f"{ref_wall / wall:.0f}x faster; max relative difference in finish times {err:.1e}")


if __name__ == "__main__":
    main()

"""The probe of this machine's CPU (``mlfleet infra probe --out probe.json``), in the schema
``benchmarks/gpu_probe.py`` writes on a GPU, so probe → calibrate → predict runs in CI.

float32 through numpy: GEMMs over a size sweep (square, skinny, GEMV), copy and reduce over
buffer sizes, the time of a tiny numpy op as the launch cost (numpy has no graphs: the graph
and eager figures are the same op), and decode/prefill steps of a small Llama-shaped decoder
(:mod:`.host_decoder`). Every kernel is timed in interleaved rounds and the best time kept
(:func:`mlfleet.infra.hostprobe.interleaved_best_s`); small kernels are repeated inside one
timed call so the clock's resolution does not matter. About 1 s on an idle 2-core host.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from time import perf_counter

import numpy as np

from mlfleet.infra import hostprobe
from mlfleet.infra.accel.host_decoder import random_weights, step_kernel
from mlfleet.infra.accel.probe import (
    GemmPoint,
    LaunchTimes,
    Probe,
    ProbeDevice,
    StepPoint,
    StepShape,
    StreamPoint,
    stream_traffic_bytes,
)
from mlfleet.infra.accel.probe_fit import HOST

GEMM_SHAPES: tuple[tuple[int, int, int], ...] = (
    *((n, n, n) for n in (32, 64, 128, 256, 384, 512)),
    *((m, 512, 512) for m in (32, 64, 128)),
    *((1, n, n) for n in (256, 512, 1024)), (8, 1024, 1024), (16, 512, 512),
)
"""float32 GEMMs timed: square (compute-bound when large), skinny and GEMV-like."""

STREAM_BYTES: tuple[int, ...] = (2**16, 2**18, 2**20, 2**22)
"""Source-buffer sizes of the copy and reduce points."""

DECODER = StepShape(d_model=128, n_layers=2, n_heads=4, n_kv_heads=2, d_ff=344, vocab=1024)
"""A Llama-shaped decoder small enough that a step lasts a millisecond or less."""

STEPS: tuple[tuple[str, int, int], ...] = (
    ("decode", 1, 128), ("decode", 8, 128), ("decode", 32, 256),
    ("prefill", 1, 32), ("prefill", 4, 64),
)
"""(phase, batch, context or prompt length) of the steps timed."""

TARGET_CALL_S = 2e-4
"""Repeat a kernel inside one timed call until the call lasts about this long."""


def _repeated(fn: Callable[[], object], calls: int) -> Callable[[], None]:
    def run() -> None:
        for _ in range(calls):
            fn()
    return run


def _calls_for(fn: Callable[[], object]) -> int:
    """How many back-to-back calls last about :data:`TARGET_CALL_S` (one untimed estimate)."""
    start = perf_counter()
    fn()
    once = max(perf_counter() - start, 1e-7)
    return max(1, min(10_000, int(TARGET_CALL_S / once)))


def _kernels(rng: np.random.Generator) -> dict[str, Callable[[], object]]:
    kernels: dict[str, Callable[[], object]] = {}
    for m, n, k in GEMM_SHAPES:
        a, b = rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal(
            (k, n), dtype=np.float32)
        c = np.empty((m, n), dtype=np.float32)
        kernels[f"gemm {m} {n} {k}"] = partial(np.matmul, a, b, out=c)
    for size in STREAM_BYTES:
        x = rng.standard_normal(size // 4, dtype=np.float32)
        z = np.empty_like(x)
        kernels[f"copy {size}"] = partial(np.copyto, z, x)
        kernels[f"reduce {size}"] = x.sum
    one, out = np.ones(1, dtype=np.float32), np.empty(1, dtype=np.float32)
    kernels["launch"] = lambda: np.add(one, one, out=out)
    weights = random_weights(DECODER, rng)
    for phase, batch, tokens in STEPS:
        kernels[f"{phase} {batch} {tokens}"] = step_kernel(weights, phase=phase, batch=batch,
                                                           tokens=tokens, rng=rng)
    return kernels


def _per_call(kernels: dict[str, Callable[[], object]], *, rounds: int,
              clock: hostprobe.Clock) -> dict[str, float]:
    calls = {name: _calls_for(fn) for name, fn in kernels.items()}
    best = hostprobe.interleaved_best_s({n: _repeated(fn, calls[n]) for n, fn in kernels.items()},
                                        rounds=rounds, clock=clock, warmup=False)
    return {name: t / calls[name] for name, t in best.items()}


def probe_this_host(*, rounds: int = 3, seed: int = 0,
                    clock: hostprobe.Clock = perf_counter) -> Probe:
    """Measure this CPU into an ``mlfleet.probe/1`` :class:`Probe` (accelerator ``host``).

    The device's ceilings are the best rates measured (the roofline paper's definition): the
    large-GEMM and STREAM figures of :func:`~mlfleet.infra.hostprobe.probe_host`, or a probe
    point's rate where one beat them (on a shared host a long kernel is the likelier to be
    disturbed).
    """
    profile = hostprobe.probe_host(rounds=rounds, seed=seed, clock=clock)
    t = _per_call(_kernels(np.random.default_rng(seed)), rounds=rounds, clock=clock)
    gemms = tuple(GemmPoint(m=m, n=n, k=k, seconds=t[f"gemm {m} {n} {k}"])
                  for m, n, k in GEMM_SHAPES)
    streams = tuple(StreamPoint(op=op, bytes=size, seconds=t[f"{op} {size}"])
                    for op in ("copy", "reduce") for size in STREAM_BYTES)
    peak = max([profile.matmul_flops_per_s, *(2.0 * g.m * g.n * g.k / g.seconds for g in gemms)])
    bw = max([profile.mem_bw_bytes_per_s,
              *(stream_traffic_bytes(s.op, s.bytes) / s.seconds for s in streams)])
    device = ProbeDevice(name=profile.cpu_model, kind="cpu", accelerator=HOST, precision="fp32",
                         peak_flops_per_s=peak, mem_bw_bytes_per_s=bw)
    launch = t["launch"]
    return Probe(
        device=device, gemm=gemms, stream=streams,
        launch=LaunchTimes(eager_s=launch, graph_s=launch, min_kernel_s=launch),
        steps=tuple(StepPoint(phase=phase, batch=batch, tokens=tokens, engine="eager",
                              seconds=t[f"{phase} {batch} {tokens}"], shape=DECODER)
                    for phase, batch, tokens in STEPS))

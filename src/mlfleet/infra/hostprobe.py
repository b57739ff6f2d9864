"""Measure this machine's roofline ceilings with numpy, and check the roofline against it.

The ceilings are measured the way the roofline paper does (Williams et al. 2009):

* compute: a large float32 square GEMM through numpy's BLAS (all its threads),
  2·n³ FLOP per call;
* memory: the STREAM "Add" kernel ``c = a + b`` (McCalpin 1995) over arrays far
  larger than the last-level cache, counting 3·n·4 bytes per pass (each array
  element read or written once, no write-allocate), once on one thread and once
  split over ``threads`` threads (numpy releases the GIL inside ufunc loops).

numpy's ufuncs run on one thread, so a streaming numpy op meets the single-thread
ceiling, while BLAS (a GEMV, say) meets the all-threads one; both are reported.

This host is shared and noisy, so every kernel is timed in interleaved rounds and
the best time of each is kept: the ceilings and the operations they predict are
measured side by side, and a burst of load from another process cannot hit the
ceilings without also having had the chance to hit the operations. The clock is an
argument so tests can inject one; randomness comes from an explicit seed.
"""

from __future__ import annotations

import contextlib
import os
import platform
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from time import perf_counter
from typing import Any

import numpy as np

from mlfleet.infra.roofline import (
    Device,
    OpCost,
    elementwise,
    gemm,
    predict,
)
from mlfleet.infra.roofline_fit import Calibration, calibrate

Clock = Callable[[], float]
Kernel = Callable[[], object]

GEMM_SHAPES: tuple[tuple[int, int, int], ...] = (
    (256, 256, 256), (512, 512, 512), (1024, 1024, 1024),
    (2048, 64, 2048), (64, 2048, 2048), (2048, 2048, 64), (16, 2048, 2048), (1, 4096, 4096),
)
"""(m, n, k) of the float32 GEMMs :func:`validate_on_host` predicts: square, skinny, GEMV."""

SMALL_GEMM_SIZES: tuple[int, ...] = (2, 4, 8, 16, 32, 64, 128, 256, 512)
"""Square GEMM sizes used to calibrate the fixed per-call overhead (numpy dispatch)."""

NEAR_RIDGE_BALANCE = 0.25
"""An op whose shorter roofline term (compute or memory) is at least this share of the
longer one is near the ridge point: the roofline's ``max`` assumes the two overlap
fully, while a kernel that overlaps them only partly takes up to ``1 + balance``
times as long, so which ceiling binds, and the error, are not a test of either."""


@dataclass(frozen=True, kw_only=True)
class HostProfile:
    """The measured ceilings of the local CPU."""

    cpu_model: str
    threads: int
    """Threads of the all-threads figures (numpy's BLAS threads, see :func:`blas_threads`)."""
    matmul_flops_per_s: float
    """float32 GEMM FLOP/s through numpy's BLAS, best of the rounds."""
    mem_bw_bytes_per_s: float
    """STREAM Add bandwidth over all threads (at least the single-thread figure)."""
    single_thread_mem_bw_bytes_per_s: float
    """STREAM Add bandwidth of one thread (what one numpy ufunc call reaches)."""
    gemm_n: int
    """Side of the square GEMM measured."""
    stream_elements: int
    """float32 elements per STREAM array."""

    def device(self, *, single_thread: bool = False) -> Device:
        """Roofline ceilings of this host for float32 work."""
        bw = self.single_thread_mem_bw_bytes_per_s if single_thread else self.mem_bw_bytes_per_s
        return Device(name="host" + ("-1thread" if single_thread else ""),
                      peak_flops_per_s=self.matmul_flops_per_s, mem_bw_bytes_per_s=bw,
                      bytes_per_element=4.0)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def best_time_s(fn: Kernel, *, repeats: int, clock: Clock = perf_counter,
                warmup: bool = True) -> float:
    """Shortest of ``repeats`` timed calls of ``fn`` (after one untimed call if ``warmup``).

    The minimum is the least-disturbed run: on a shared machine noise only adds time.
    """
    return interleaved_best_s({"fn": fn}, rounds=repeats, clock=clock, warmup=warmup)["fn"]


def interleaved_best_s(kernels: dict[str, Kernel], *, rounds: int, clock: Clock = perf_counter,
                       warmup: bool = True) -> dict[str, float]:
    """Best time of each kernel over ``rounds`` rounds, each round calling every kernel once."""
    if warmup:
        for fn in kernels.values():
            fn()
    best = dict.fromkeys(kernels, float("inf"))
    for _ in range(rounds):
        for name, fn in kernels.items():
            start = clock()
            fn()
            best[name] = min(best[name], clock() - start)
    return best


@contextlib.contextmanager
def _probe_kernels(gemm_n: int, stream_elements: int, threads: int,
                   rng: np.random.Generator) -> Iterator[dict[str, Kernel]]:
    """The three ceiling kernels: 'gemm', 'stream-1' (one thread), 'stream-all'."""
    a, b = (rng.standard_normal((gemm_n, gemm_n), dtype=np.float32) for _ in range(2))
    out = np.empty_like(a)
    x = np.full(stream_elements, 1.0, dtype=np.float32)
    y = np.full(stream_elements, 2.0, dtype=np.float32)
    z = np.empty_like(x)
    cuts = np.linspace(0, stream_elements, threads + 1).astype(int)
    parts = [slice(lo, hi) for lo, hi in zip(cuts[:-1], cuts[1:], strict=True)]

    def add(part: slice) -> None:
        np.add(x[part], y[part], out=z[part])

    with ThreadPoolExecutor(max_workers=threads) as pool:
        yield {"gemm": lambda: np.matmul(a, b, out=out),
               "stream-1": lambda: add(slice(None)),
               "stream-all": lambda: list(pool.map(add, parts))}
    assert z[0] == 3.0 and z[-1] == 3.0


def _profile(best: dict[str, float], *, gemm_n: int, stream_elements: int,
             threads: int) -> HostProfile:
    stream_bytes = 3.0 * stream_elements * 4.0
    single = stream_bytes / best["stream-1"]
    return HostProfile(
        cpu_model=cpu_model(), threads=threads, matmul_flops_per_s=2.0 * gemm_n**3 / best["gemm"],
        # all threads can always do what one thread does; on a busy host the split run may not
        mem_bw_bytes_per_s=max(single, stream_bytes / best["stream-all"]),
        single_thread_mem_bw_bytes_per_s=single, gemm_n=gemm_n, stream_elements=stream_elements)


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo, else what platform reports."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_threads() -> int:
    """Threads numpy's BLAS runs on: OPENBLAS_NUM_THREADS / OMP_NUM_THREADS, else all CPUs."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return os.cpu_count() or 1


def probe_host(*, gemm_n: int = 1536, stream_elements: int = 2**23, rounds: int = 5,
               threads: int | None = None, seed: int = 0,
               clock: Clock = perf_counter) -> HostProfile:
    """Measure this host's ceilings (about one second with the defaults on an idle host)."""
    n_threads = threads or blas_threads()
    with _probe_kernels(gemm_n, stream_elements, n_threads, np.random.default_rng(seed)) as ks:
        best = interleaved_best_s(ks, rounds=rounds, clock=clock)
    return _profile(best, gemm_n=gemm_n, stream_elements=stream_elements, threads=n_threads)


# --------------------------------------------------------------------------- validation


@dataclass(frozen=True, kw_only=True)
class HostOp:
    """An operation to predict and time: its cost, which ceiling it meets, and its kernel."""

    name: str
    cost: OpCost
    single_thread: bool
    """True for numpy ufuncs (one thread), False for BLAS (all threads)."""
    kernel: Kernel


@dataclass(frozen=True, kw_only=True)
class OpComparison:
    """Roofline prediction against the measurement of one operation."""

    name: str
    bound: str
    predicted_s: float
    measured_s: float
    balance: float = 0.0
    """The shorter of the op's compute and memory times over the longer: 0 far from the
    ridge point, 1 on it (see :data:`NEAR_RIDGE_BALANCE`)."""

    @property
    def rel_error(self) -> float:
        """predicted / measured - 1 (negative: the op ran slower than the roofline)."""
        return self.predicted_s / self.measured_s - 1.0

    @property
    def near_ridge(self) -> bool:
        """Whether which ceiling binds is ambiguous (``balance >= NEAR_RIDGE_BALANCE``)."""
        return self.balance >= NEAR_RIDGE_BALANCE


@dataclass(frozen=True, kw_only=True)
class HostValidation:
    """The roofline of this host against measured GEMMs and streaming ops."""

    profile: HostProfile
    ops: tuple[OpComparison, ...]
    """Large ops predicted from the measured ceilings alone (efficiency 1, no overhead)."""
    calibration: Calibration
    """Efficiency and per-call overhead fitted to the small square GEMMs."""
    small_gemms: tuple[OpComparison, ...]
    """Small square GEMMs against the calibrated roofline."""
    rounds: int

    def median_abs_rel_error(self, prefix: str = "") -> float:
        """Median |rel_error| over the large ops whose name starts with ``prefix``."""
        errors = [abs(op.rel_error) for op in self.ops if op.name.startswith(prefix)]
        return float(np.median(errors))


def host_ops(rng: np.random.Generator, *, stream_elements: int = 2**23,
             gemm_shapes: Sequence[tuple[int, int, int]] = GEMM_SHAPES) -> list[HostOp]:
    """GEMMs of :data:`GEMM_SHAPES` and streaming ufuncs (copy, scale, sum, in-place add).

    STREAM Add itself is left out: it is the kernel the bandwidth ceiling comes from.
    """
    ops = [_gemm_op(m, n, k, rng) for m, n, k in gemm_shapes]
    x, y = (rng.standard_normal(stream_elements, dtype=np.float32) for _ in range(2))
    z = np.empty_like(x)
    streams: list[tuple[str, int, int, Kernel]] = [
        ("copy", 1, 1, lambda: np.copyto(z, x)),
        ("scale", 1, 1, lambda: np.multiply(x, 2.0, out=z)),
        ("sum", 1, 0, lambda: x.sum()),
        ("add-inplace", 2, 1, lambda: np.add(y, x, out=y)),
    ]
    return ops + [HostOp(name=f"{name} {stream_elements}xfp32", single_thread=True, kernel=kernel,
                         cost=elementwise(stream_elements, bytes_per_element=4.0, reads=reads,
                                          writes=writes))
                  for name, reads, writes, kernel in streams]


def _gemm_op(m: int, n: int, k: int, rng: np.random.Generator, *, calls: int = 1) -> HostOp:
    """A float32 GEMM op; ``calls`` back-to-back calls per kernel run (for tiny sizes)."""
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    c = np.empty((m, n), dtype=np.float32)

    def kernel() -> None:
        for _ in range(calls):
            np.matmul(a, b, out=c)

    return HostOp(name=f"gemm {m}x{n}x{k}", cost=gemm(m, n, k, bytes_per_element=4.0),
                  single_thread=False, kernel=kernel)


def _small_gemm_ops(rng: np.random.Generator,
                    sizes: Sequence[int]) -> list[tuple[HostOp, int]]:
    """Small square GEMMs, each repeated so that one kernel run lasts about a millisecond."""
    ops = []
    for n in sizes:
        calls = max(1, int(1e6 / (2.0 * n**3 + 2e4)))  # ~0.5 ms at a few GFLOP/s, ~1 µs a call
        op = _gemm_op(n, n, n, rng, calls=calls)
        ops.append((HostOp(name=f"small {op.name}", cost=op.cost, single_thread=False,
                           kernel=op.kernel), calls))
    return ops


def _compare(op: HostOp, device: Device, measured_s: float,
             calibration: Calibration | None = None) -> OpComparison:
    cal = calibration or Calibration(efficiency=1.0, overhead_s=0.0, median_abs_rel_error=0.0)
    result = predict(op.cost, device, compute_efficiency=cal.efficiency,
                     memory_efficiency=cal.efficiency, overhead_s=cal.overhead_s)
    terms = sorted((float(result.compute_s), float(result.memory_s)))
    return OpComparison(name=op.name, bound=str(result.bound), predicted_s=float(result.time_s),
                        measured_s=measured_s, balance=terms[0] / terms[1] if terms[1] else 0.0)


def validate_on_host(*, rounds: int = 5, seed: int = 0, gemm_n: int = 1536,
                     stream_elements: int = 2**23, threads: int | None = None,
                     small_sizes: Sequence[int] = SMALL_GEMM_SIZES,
                     clock: Clock = perf_counter) -> HostValidation:
    """Measure the ceilings and every op in interleaved rounds; compare with the roofline.

    Large ops (:func:`host_ops`) are predicted from the measured ceilings alone
    (efficiency 1, no overhead): BLAS ops against the all-threads bandwidth, ufuncs
    against the single-thread one. Small square GEMMs are then used to
    :func:`~mlfleet.infra.roofline_fit.calibrate` efficiency and per-call overhead, and
    compared with the calibrated model. About 2 s per round on this 2-core host.
    """
    n_threads = threads or blas_threads()
    rng = np.random.default_rng(seed)
    ops = host_ops(rng, stream_elements=stream_elements)
    small = _small_gemm_ops(rng, small_sizes)
    timed = {op.name: op.kernel for op in ops} | {op.name: op.kernel for op, _ in small}
    with _probe_kernels(gemm_n, stream_elements, n_threads, rng) as kernels:
        best = interleaved_best_s(kernels | timed, rounds=rounds, clock=clock)
    # small GEMMs are cheap and, lasting ~1 ms, easily preempted: give them more rounds
    extra = interleaved_best_s({op.name: op.kernel for op, _ in small}, rounds=4 * rounds,
                               clock=clock, warmup=False)
    best |= {name: min(best[name], t) for name, t in extra.items()}
    profile = _profile(best, gemm_n=gemm_n, stream_elements=stream_elements, threads=n_threads)
    large = tuple(_compare(op, profile.device(single_thread=op.single_thread), best[op.name])
                  for op in ops)
    measured = np.array([best[op.name] / calls for op, calls in small])
    ideal = np.array([float(predict(op.cost, profile.device()).time_s) for op, _ in small])
    cal = calibrate(measured_s=measured, ideal_s=ideal)
    fitted = tuple(_compare(op, profile.device(), m, cal)
                   for (op, _), m in zip(small, measured, strict=True))
    return HostValidation(profile=profile, ops=large, calibration=cal, small_gemms=fitted,
                          rounds=rounds)

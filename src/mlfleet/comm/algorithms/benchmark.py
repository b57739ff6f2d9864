"""The nccl-tests-like measurement each rank runs: time one collective over a range of sizes.

:func:`measure_collective` is a launch function (``fn(transport, job)``): for each
size it builds this rank's deterministic input, runs ``warmup`` untimed calls,
then ``repeats`` timed windows each started right after a barrier — ``iters``
calls back to back per window, as nccl-tests' ``-n`` — records this rank's wall
time per call (window over ``iters``), the payload bytes this rank sent to each
peer in one call, and whether its output is bit-identical to the collective's
definition. The caller combines ranks: a call's time is the slowest rank's, the
reported time the median over repeats (see ``mlfleet.comm.run_cli``). With
``iters = 1`` every call counts the few hundred µs to ms by which the ranks
leave the barrier apart on a busy host; more calls per window spread it.

Sizes follow nccl-tests: ``size_bytes`` is the buffer for AllReduce, Broadcast and
Reduce, the gathered output for AllGather, the input for ReduceScatter, and one
rank's send buffer for AlltoAll; it is rounded down to whole elements (AllGather:
to a multiple of the rank count).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mlfleet.comm.algorithms.alltoall import hot_expert_counts
from mlfleet.comm.algorithms.definition import make_input, matches_definition
from mlfleet.comm.algorithms.registry import check_params, get_algorithm
from mlfleet.comm.progress import report_progress
from mlfleet.comm.transport.base import Transport

if TYPE_CHECKING:
    from mlfleet.ops.debug.rank_log import SpanLog


@dataclass(frozen=True, kw_only=True)
class CollectiveJob:
    """What to measure; the same job goes to every rank."""

    collective: str
    """allreduce, allgather, reducescatter, alltoall, broadcast or reduce."""
    algorithm: str
    """A registered algorithm name for the collective (``builtin``: torch's own)."""
    sizes_bytes: tuple[int, ...]
    """Message sizes S in bytes, nccl-tests convention (see the module docstring)."""
    dtype: str = "float32"
    """numpy dtype of the buffers."""
    repeats: int = 5
    """Timed windows per size."""
    iters: int = 1
    """Calls back to back in each timed window (nccl-tests ``-n``); times are per call."""
    warmup: int = 1
    """Untimed calls per size before the timed ones."""
    seed: int = 0
    """Seed of the deterministic inputs."""
    check: bool = True
    """Compare every output with the definition (bit for bit)."""
    params: Mapping[str, Any] = field(default_factory=dict)
    """Algorithm parameters (root, ranks_per_node, mode, n_servers)."""
    hot_fraction: float | None = None
    """AlltoAll only: fraction of each rank's elements routed to rank 0 (MoE hot expert)."""
    calibrate: bool = False
    """Measure α and B of a ring step, every rank at once, before the sizes."""
    keep_outputs: bool = False
    """Return each output array (tests); otherwise only the check result."""
    log_dir: str | None = None
    """Each rank appends a ``barrier`` and a ``collective`` span per timed window to
    ``LOG_DIR/rank-NNNNN.jsonl`` (:mod:`mlfleet.ops.debug.rank_log`); None: no log."""


@dataclass(frozen=True, kw_only=True)
class SizeResult:
    """One rank's measurement of one size."""

    size_bytes: int
    """S actually used (after rounding to whole elements)."""
    numel: int
    """Elements in this rank's input."""
    times_s: list[float]
    """Wall time of each timed call on this rank."""
    bytes_sent: dict[int, int]
    """Payload bytes sent to each peer in one call (0 for builtin algorithms)."""
    correct: bool | None
    """Output bit-identical to the definition (None: not checked)."""
    output: np.ndarray | None = None
    """The output of the last call when ``keep_outputs``."""


@dataclass(frozen=True, kw_only=True)
class RankResult:
    """Everything one rank measured."""

    rank: int
    sizes: list[SizeResult]
    link: tuple[float, float] | None = None
    """Calibrated ``(alpha_s, bw_bytes_per_s)`` on rank 0, else None."""


def input_numel(collective: str, size_bytes: int, itemsize: int, n_ranks: int) -> int:
    """Elements in one rank's input for a message of ``size_bytes`` (nccl-tests sizes)."""
    elements = size_bytes // itemsize
    return elements // n_ranks if collective == "allgather" else elements


def used_size_bytes(collective: str, numel: int, itemsize: int, n_ranks: int) -> int:
    """The S a call with per-rank input ``numel`` moves, for algbw = S / t."""
    return numel * itemsize * (n_ranks if collective == "allgather" else 1)


def job_params(job: CollectiveJob, n_ranks: int, numel: int) -> dict[str, Any]:
    """The algorithm's keyword arguments for one size (AlltoAll counts depend on numel)."""
    params = dict(job.params)
    if job.collective == "alltoall" and job.hot_fraction is not None:
        params["counts"] = hot_expert_counts(n_ranks, numel, hot_fraction=job.hot_fraction)
    return check_params(get_algorithm(job.collective, job.algorithm), params)


def measure_collective(t: Transport, job: CollectiveJob) -> RankResult:
    """Run ``job`` on this rank (every rank must call it); see the module docstring."""
    from mlfleet.ops.debug.rank_log import NoLog, RankLog

    link = calibrate_link(t) if job.calibrate else None
    log: SpanLog = NoLog() if job.log_dir is None else \
        RankLog(Path(job.log_dir), t.rank, world=t.world_size)
    sizes = []
    try:
        for i, size_bytes in enumerate(job.sizes_bytes):
            sizes.append(_measure_size(t, job, size_bytes, log=log, first_step=i * job.repeats))
            if t.rank == 0:
                report_progress(done=i + 1, total=len(job.sizes_bytes), size_bytes=size_bytes)
    finally:
        log.close()
    return RankResult(rank=t.rank, sizes=sizes, link=link)


def _measure_size(t: Transport, job: CollectiveJob, size_bytes: int, *, log: SpanLog,
                  first_step: int) -> SizeResult:
    algorithm = get_algorithm(job.collective, job.algorithm)
    n = t.world_size
    itemsize = np.dtype(job.dtype).itemsize
    numel = input_numel(job.collective, size_bytes, itemsize, n)
    params = job_params(job, n, numel)
    x = make_input(rank=t.rank, numel=numel, dtype=job.dtype, seed=job.seed)
    for _ in range(job.warmup):
        algorithm.run(t, x, **params)
    times, before, after = [], t.bytes_sent(), t.bytes_sent()
    out = x
    for k in range(job.repeats):
        barrier_ns = time.perf_counter_ns()
        t.barrier()
        start_ns = time.perf_counter_ns()
        for _ in range(job.iters):
            out = algorithm.run(t, x, **params)
        end_ns = time.perf_counter_ns()
        times.append((end_ns - start_ns) / 1e9 / job.iters)
        log.span("barrier", first_step + k + 1, barrier_ns, start_ns)
        log.span("collective", first_step + k + 1, start_ns, end_ns, op=job.collective,
                 bytes=size_bytes)
        if k == 0:
            after = t.bytes_sent()
    correct = None
    if job.check:
        correct = matches_definition(
            job.collective, out, rank=t.rank, n_ranks=n, root=params.get("root", 0),
            counts=params.get("counts"),
            input_of=lambda j: make_input(rank=j, numel=numel, dtype=job.dtype, seed=job.seed))
    return SizeResult(size_bytes=used_size_bytes(job.collective, numel, itemsize, n),
                      numel=numel, times_s=times,
                      bytes_sent={p: (after[p] - before[p]) // job.iters for p in after},
                      correct=correct,
                      output=out if job.keep_outputs else None)


def calibrate_link(t: Transport, *, small_bytes: int = 8, large_bytes: int = 4 * 2**20,
                   repeats: int = 20) -> tuple[float, float] | None:
    """α (s) and B (bytes/s) of one ring step, measured with every rank at once; rank 0 returns
    them, the others None.

    Every rank sends to its right neighbour while it receives from its left, as in
    a ring step, so the calibration sees what the collectives see: every link busy
    and every rank's process wanting a CPU at the same moment (a ping-pong between
    two ranks of four on two cores read α and B ~5x too good). α is the median
    step with ``small_bytes``; B is ``large_bytes`` over the median step with
    ``large_bytes`` minus α. Every rank calls it.
    """
    link = None
    if t.world_size >= 2:
        alpha_s = _ring_step_s(t, small_bytes, repeats)
        large_s = _ring_step_s(t, large_bytes, max(3, repeats // 4))
        if t.rank == 0:
            link = (alpha_s, large_bytes / max(large_s - alpha_s, 1e-12))
    t.barrier()
    return link


def _ring_step_s(t: Transport, n_bytes: int, repeats: int) -> float:
    """Median seconds of a ring step: send ``n_bytes`` right, receive ``n_bytes`` from the left."""
    out, into = np.zeros(n_bytes, np.uint8), np.zeros(n_bytes, np.uint8)
    right, left = (t.rank + 1) % t.world_size, (t.rank - 1) % t.world_size
    samples = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        t.sendrecv(right, out, left, into)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples[1:])


def add_s_per_byte(dtype: np.dtype[Any] | type, numel: int, reps: int = 3) -> float:
    """γ: seconds per byte of ``chunk += incoming`` on ``numel`` elements of ``dtype`` (what a
    ring reduce-scatter step does to one chunk), best of ``reps``."""
    chunk = np.ones(max(1, numel), dtype)
    incoming = np.ones_like(chunk)
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        chunk += incoming
        best = min(best, time.perf_counter() - start)
    return best / chunk.nbytes

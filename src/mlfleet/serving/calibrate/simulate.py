"""The shared serving simulator configured as the real server, and its latency prediction.

:func:`simulate_server` builds one Triton-style dynamic-batching replica with the
server's max batch and max queue delay behind :class:`QueueDepthAdmission` at the
server's queue capacity — the same admission class the server itself runs — and replays
an arrival trace. A batch's duration comes from a :class:`BatchTiming`, which is given
the simulated time of the dispatch explicitly: drawn from the measured distribution
(:class:`DrawnBatchTime`, predictive) or the sweep's mean times the machine's speed
measured at that moment of the real run (:class:`TracedBatchTime`, trace-driven).
:func:`predict` pools several replications and adds the overhead outside the batcher.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from mlfleet.serving.admission.queue_depth import QueueDepthAdmission
from mlfleet.serving.calibrate.client import BatchingPolicy
from mlfleet.serving.calibrate.lateness import DispatchLateness
from mlfleet.serving.calibrate.overhead import Overhead, pct
from mlfleet.serving.calibrate.service import ServiceTimeModel, SpeedTrace
from mlfleet.serving.sim.arrivals.stream import RequestStream
from mlfleet.serving.sim.engine import Engine
from mlfleet.serving.sim.replicas.dynamic import DynamicBatchReplica
from mlfleet.serving.sim.results import STATUS, SimResult
from mlfleet.serving.sim.steptime import BatchServiceTime

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class BatchTiming(Protocol):
    """Seconds a batch of ``size`` takes when dispatched at simulated time ``now_s``."""

    def batch_s(self, size: int, *, now_s: float) -> float: ...


@dataclass(frozen=True)
class DrawnBatchTime:
    """Drawn from what the sweep measured for the size (the dispatch time is not used)."""

    model: ServiceTimeModel
    rng: np.random.Generator

    def batch_s(self, size: int, *, now_s: float) -> float:
        return self.model.sample_s(size, self.rng)


@dataclass(frozen=True)
class TracedBatchTime:
    """The sweep's mean for the size, done at the pace the real run's machine worked
    (:class:`~mlfleet.serving.calibrate.service.SpeedTrace`), after the real batcher's
    dispatch lateness at that time
    (:class:`~mlfleet.serving.calibrate.lateness.DispatchLateness`)."""

    model: ServiceTimeModel
    speed: SpeedTrace
    lateness: DispatchLateness | None = None

    def batch_s(self, size: int, *, now_s: float) -> float:
        start_s = now_s + (self.lateness.at(now_s) if self.lateness is not None else 0.0)
        return self.speed.finish_s(start_s, self.model.mean_s(size)) - now_s


class ServerReplica(DynamicBatchReplica):
    """The server's rank batcher: dynamic batching whose batch time is a
    :class:`BatchTiming` of the batch size and the dispatch time."""

    def __init__(self, *, policy: BatchingPolicy, timing: BatchTiming) -> None:
        # The base class needs a service-time model; this one only documents that a batch
        # of one takes 1 s on a unit-speed machine: every duration comes from ``timing``.
        super().__init__(max_batch=policy.max_batch_size,
                         max_queue_delay_s=policy.max_queue_delay_s,
                         service=BatchServiceTime.constant(1.0))
        self.timing = timing

    def _run(self, batch: list[int], now_s: float) -> float:
        super()._run(batch, now_s)  # records the requests' start times
        return self.timing.batch_s(len(batch), now_s=now_s)


def simulate_server(arrival_s: FloatArray, *, policy: BatchingPolicy, timing: BatchTiming,
                    rng: np.random.Generator) -> SimResult:
    """Replay ``arrival_s`` (seconds, ascending) through the simulated server."""
    ones = np.ones(len(arrival_s), dtype=np.int64)
    stream = RequestStream(arrival_s=np.asarray(arrival_s, dtype=np.float64),
                           prompt_tokens=ones, output_tokens=ones)
    engine = Engine(requests=stream, replicas=[ServerReplica(policy=policy, timing=timing)],
                    rng=rng, admission=QueueDepthAdmission(max_queued=policy.queue_capacity))
    return engine.run()


def batch_positions(result: SimResult) -> IntArray:
    """Each completed request's index inside its batch (batches share a start time; FIFO),
    -1 for requests that did not complete."""
    pos = np.full(result.arrival_s.size, -1, dtype=np.int64)
    done = np.flatnonzero(result.done)
    order = done[np.lexsort((result.arrival_s[done], result.start_s[done]))]
    starts = result.start_s[order]
    new_batch = np.concatenate([[True], starts[1:] != starts[:-1]])
    first = np.maximum.accumulate(np.where(new_batch, np.arange(order.size), 0))
    pos[order] = np.arange(order.size) - first
    return pos


def batch_sizes(result: SimResult) -> IntArray:
    """Sizes of the simulated batches (completed requests grouped by start time)."""
    _, counts = np.unique(result.start_s[result.done], return_counts=True)
    return counts.astype(np.int64)


@dataclass(frozen=True, kw_only=True)
class SimPrediction:
    """Client-visible latency of admitted requests, pooled over replications."""

    p50_s: float
    p99_s: float
    mean_batch: float
    shed_fraction: float = 0.0
    """Arrivals rejected by admission control (429 for the real server)."""
    latency_s: FloatArray | None = None
    """The pooled latencies themselves (for quantile intervals)."""


def predict(arrival_s: FloatArray, *, policy: BatchingPolicy,
            timing_of: Callable[[np.random.Generator], BatchTiming], overhead: Overhead,
            replications: int, seed: int) -> SimPrediction:
    """Simulate ``arrival_s`` ``replications`` times and pool the latencies.

    Each replication draws from ``numpy.random.default_rng([seed, replication])``: the
    batch timing ``timing_of(rng)`` (e.g. :class:`DrawnBatchTime`, or a
    :class:`TracedBatchTime` that ignores it) and the overheads.
    """
    out, mean_batch, shed = [], [], []
    for rep in range(replications):
        rng = np.random.default_rng([seed, rep])
        result = simulate_server(arrival_s, policy=policy, timing=timing_of(rng), rng=rng)
        ok = result.done
        fan_out = overhead.per_response_s * (batch_positions(result)[ok] + 1)
        out.append(result.e2e_s[ok] + fan_out + overhead.for_requests(np.flatnonzero(ok), rng))
        sizes = batch_sizes(result)
        mean_batch.append(float(sizes.mean()) if sizes.size else 0.0)
        shed.append(float(np.mean(result.status == STATUS.index("rejected"))))
    lat = np.concatenate(out)
    return SimPrediction(p50_s=pct(lat, 50), p99_s=pct(lat, 99),
                         mean_batch=float(np.mean(mean_batch)),
                         shed_fraction=float(np.mean(shed)), latency_s=lat)


def drawn(service: ServiceTimeModel) -> Callable[[np.random.Generator], BatchTiming]:
    """Batch times drawn from ``service`` with each replication's generator."""
    def timing_of(rng: np.random.Generator) -> BatchTiming:
        return DrawnBatchTime(service, rng)
    return timing_of


def quantile_interval(values: FloatArray, *, n: int, q: float = 0.99, z: float = 1.96
                      ) -> tuple[float, float]:
    """Where the ``q`` quantile of a sample of ``n`` drawn from ``values`` falls, 95 %:
    the quantiles of ``values`` at levels ``q ± z·sqrt(q(1-q)/n)`` (the order statistics'
    binomial interval, normal approximation; Conover, *Practical Nonparametric
    Statistics*, §3.2)."""
    if values.size == 0 or n < 1:
        return (math.nan, math.nan)
    half = z * math.sqrt(q * (1 - q) / n)
    lo, hi = max(q - half, 0.0), min(q + half, 1.0)
    return (float(np.quantile(values, lo)), float(np.quantile(values, hi)))


def p99_confidence_interval(values: FloatArray, *, q: float = 0.99, z: float = 1.96
                            ) -> tuple[float, float]:
    """Distribution-free 95 % interval of a sample quantile: the order statistics at ranks
    ``n·q ± z·sqrt(n·q·(1-q))`` (normal approximation to the binomial; Conover, §3.2)."""
    v = np.sort(values)
    if v.size == 0:
        return (math.nan, math.nan)
    half = z * math.sqrt(v.size * q * (1 - q))
    lo = int(max(math.floor(v.size * q - half), 0))
    hi = int(min(math.ceil(v.size * q + half), v.size - 1))
    return (float(v[lo]), float(v[hi]))

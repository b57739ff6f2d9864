"""Latency outside the batcher: client, loopback, HTTP parsing, JSON, response writing.

Per successful request, the *overhead* is the client-measured latency (from the scheduled
arrival) minus the server's queue, service and post times (``Server-Timing``). The
requests of one batch are answered one after another by the event loop, so the k-th
(from 0) leaves ``(k + 1)·c`` after the batch: the *fan-out* cost ``c`` per response.

* :class:`OverheadModel` — a pool of overhead samples and ``c``, resampled for a
  prediction (measured in a calibration run, or interpolated between two).
* :class:`RequestTiming` — trace-driven: each request of one run keeps its own overhead
  and the time it reached the batcher (sent + the server's ``pre``), by request index.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from mlfleet.errors import RunError
from mlfleet.serving.calibrate.client import BatchSamples
from mlfleet.serving.loadgen_spec import RequestRecord

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class Overhead(Protocol):
    """Latency added to a simulated request outside the batcher."""

    @property
    def per_response_s(self) -> float:
        """Event-loop time to resume one handler and build its response (fan-out)."""
        ...

    def for_requests(self, index: IntArray, rng: np.random.Generator) -> FloatArray:
        """The overhead of the requests ``index`` (indices into the arrival trace)."""
        ...


def timed(records: Sequence[RequestRecord]) -> list[RequestRecord]:
    """Successful requests that carry the server's queue, service and post times."""
    return [r for r in records
            if r.status == "200" and {"queue", "service", "post"} <= set(r.server_s)]


def overhead_s(record: RequestRecord) -> float:
    """Client latency minus the server's queue + service + post time."""
    s = record.server_s
    return record.latency_s - s["queue"] - s["service"] - s["post"]


def fan_out_per_response_s(records: Sequence[RequestRecord], mean_batch: float) -> float:
    """Event-loop time per response after a batch: the mean ``post`` of a batch of B is
    ``c·(B + 1)/2`` when the k-th response leaves ``(k + 1)·c`` after the batch. It grows
    with the load, since the next batch computes on the worker thread while the loop
    answers and the two contend for the CPU (and the GIL)."""
    posts = [r.server_s["post"] for r in timed(records)]
    return float(np.mean(posts)) / ((mean_batch + 1.0) / 2.0) if posts else 0.0


@dataclass(frozen=True, kw_only=True)
class OverheadModel:
    """Resampled per-request overhead plus the response fan-out."""

    samples_s: FloatArray
    """Per-request overhead samples, seconds."""
    per_response_s: float
    """Event-loop time to resume one handler and build its response."""

    @classmethod
    def measure(cls, records: Sequence[RequestRecord], *, mean_batch: float) -> OverheadModel:
        """From an open-loop run. Raises :class:`~mlfleet.errors.RunError` with fewer than
        20 successful requests carrying ``Server-Timing``."""
        ok = timed(records)
        if len(ok) < 20:
            raise RunError(f"need >= 20 successful requests with Server-Timing, got {len(ok)}")
        return cls(samples_s=np.array([overhead_s(r) for r in ok]),
                   per_response_s=fan_out_per_response_s(ok, mean_batch))

    @classmethod
    def interpolate(cls, low: OverheadModel, high: OverheadModel, *,
                    weight: float) -> OverheadModel:
        """Between two measured overheads: quantile by quantile (so the tail moves with the
        load, not only the mean) and the fan-out cost linearly; ``weight`` 0 is ``low``,
        1 is ``high``, clipped to [0, 1] (never extrapolated beyond what was measured)."""
        w = min(max(weight, 0.0), 1.0)
        q = np.linspace(0.0, 100.0, 401)
        samples = ((1 - w) * np.percentile(low.samples_s, q)
                   + w * np.percentile(high.samples_s, q))
        return cls(samples_s=samples,
                   per_response_s=(1 - w) * low.per_response_s + w * high.per_response_s)

    @classmethod
    def of_run(cls, records: Sequence[RequestRecord]) -> OverheadModel:
        """Client latency minus queue + service, per request of one run (fan-out included).
        Raises :class:`~mlfleet.errors.RunError` when no request carries ``Server-Timing``."""
        ok = timed(records)
        if not ok:
            raise RunError("no successful request with Server-Timing in the run")
        over = np.array([r.latency_s - r.server_s["queue"] - r.server_s["service"] for r in ok])
        return cls(samples_s=over, per_response_s=0.0)

    def for_requests(self, index: IntArray, rng: np.random.Generator) -> FloatArray:
        return self.samples_s[rng.integers(self.samples_s.size, size=index.size)]


def dispatch_times_s(records: Sequence[RequestRecord], batches: BatchSamples, *,
                     t0_s: float) -> FloatArray:
    """Each timed request's batch dispatch on the run's clock, from the server's batch log.

    A request's ``service`` time and its batch's busy time are the same two clock
    readings, which ``Server-Timing`` carries to 1 µs: the request's batch is the one whose
    busy time matches (within 2 µs) and whose dispatch is nearest the client's estimate
    (response received - post - service). ``nan`` where no batch matches.
    """
    if not records or batches.size.size == 0:
        return np.full(len(records), np.nan)
    service = np.array([r.server_s["service"] for r in records])
    estimate = np.array([r.intended_s + r.latency_s - r.server_s["post"] - r.server_s["service"]
                         for r in records])
    dispatched = batches.dispatched_s - t0_s
    match = np.abs(service[:, None] - batches.cycle_s[None, :]) <= 2e-6
    distance = np.where(match, np.abs(estimate[:, None] - dispatched[None, :]), np.inf)
    best = distance.argmin(axis=1)
    found = np.isfinite(distance[np.arange(len(records)), best])
    return np.where(found, dispatched[best], np.nan)


@dataclass(frozen=True, kw_only=True)
class RequestTiming:
    """One run's requests as they really went, in the order they joined the queue.

    ``arrival_s`` is when each request joined the batcher's queue (its batch's dispatch,
    from the server's log, minus its queue time), so the simulator queues it exactly when
    the server did, however late a busy event loop or a lagging client made that. Its
    overhead stays :func:`overhead_s` (latency from the scheduled arrival minus queue,
    service and post), which already holds ``arrival_s - intended``: the simulated latency
    ``queue + service + fan-out`` plus it is directly comparable with the measured one.
    """

    arrival_s: FloatArray
    """When each request joined the batcher's queue, run clock (seconds), ascending."""
    overhead_s: FloatArray
    """Each request's overhead, :func:`overhead_s` (the median for untimed requests), in
    the order of ``arrival_s``."""
    per_response_s: float

    @classmethod
    def measure(cls, records: Sequence[RequestRecord], *, batches: BatchSamples, t0_s: float,
                mean_batch: float) -> RequestTiming:
        """From the records of one open-loop run (in arrival order) and the batches the
        server logged meanwhile. A request whose batch is not found (or one without
        ``Server-Timing``) joins at its send time plus the server's ``pre`` (plus the
        median of that lead). Raises :class:`~mlfleet.errors.RunError` with no timed
        request."""
        ok = timed(records)
        if not ok:
            raise RunError("no successful request with Server-Timing in the run")
        queue = np.array([r.server_s["queue"] for r in ok])
        sent = np.array([r.sent_s + r.server_s.get("pre", 0.0) for r in ok])
        joined = dispatch_times_s(ok, batches, t0_s=t0_s) - queue
        joined = np.where(np.isnan(joined), sent, joined)
        over = np.array([overhead_s(r) for r in ok])
        lead = joined - np.array([r.intended_s for r in ok])
        arrival = np.array([r.intended_s + float(np.median(lead)) for r in records])
        overhead = np.full(len(records), float(np.median(over)))
        index = np.array([r.index for r in ok])
        arrival[index], overhead[index] = joined, over
        # The simulator takes arrivals in order, and the server's queue is FIFO by join
        # time: a request that joined after a later-scheduled one is served after it.
        order = np.argsort(arrival, kind="stable")
        return cls(arrival_s=arrival[order], overhead_s=overhead[order],
                   per_response_s=fan_out_per_response_s(ok, mean_batch))

    def for_requests(self, index: IntArray, rng: np.random.Generator) -> FloatArray:
        return self.overhead_s[index]


def pct(values: FloatArray, q: float) -> float:
    """The ``q``-th percentile, ``nan`` for no values."""
    return float(np.percentile(values, q)) if values.size else math.nan

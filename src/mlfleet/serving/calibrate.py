"""Calibrate the serving simulator from the real server's measured service times, then compare.

The experiment (``run_experiment``) drives a running ``mlfleet serve`` on its ranker path
(dynamic batching) and checks the simulator against it:

1. **Service times.** Closed-loop sweeps at rising concurrency make the server run
   batches of every size; the server reports each batch's busy time (dispatch to
   results back on the event loop) at ``/v1/stats``. :class:`ServiceTimeModel` keeps the
   empirical distribution per batch size, and a least-squares line ``a + b·B`` with
   multiplicative residuals for sizes seen too rarely: the *shape* of ``s(B)``.
2. **Capacity** is the throughput of the highest-concurrency level, run longer
   (``capacity_duration_s``), counting completions inside the run only
   (:func:`closed_loop_throughput`). It is measured once; every load is a fraction of it.
3. **Open-loop calibration runs** at loads other than the compared ones (by default
   15 % and 100 % of capacity) measure what the sweep cannot: how much slower batches
   run under open-loop load, ``k(λ)`` (:class:`LoadSlowdown`, a line in the offered
   rate through the runs' :func:`speed_factor`), and the overhead outside the batcher —
   client, loopback, HTTP parsing, JSON, response writing: client latency minus the
   server's queue + service + post time (``Server-Timing``), resampled — plus the
   *response fan-out*: the requests of one batch are answered one after another by the
   event loop, so the k-th (from 0) leaves ``(k + 1)·c`` after the batch. Overhead and
   ``c`` grow with the load; :class:`LoadCalibration` interpolates them by rate
   between the calibration runs (quantile by quantile, never beyond them).
4. **Compare.** At each load the load generator sends an open-loop Poisson trace; the
   shared simulator (``serving/sim``: one Triton-style :class:`DynamicBatchReplica`
   with the server's max batch and max queue delay, queue-depth admission at the
   server's queue capacity) replays **the same arrival times** over several
   replications. p50 and p99 latency of successful requests are compared.

Two calibrations are reported:

* ``predictive`` — everything above, measured before any compared run: service times
  drawn from the sweep's distribution times ``k(λ)`` at the run's rate, overhead at
  the run's rate.
* ``per_run`` (trace-driven) — the sweep's service model (its mean per batch size)
  times the machine's speed during *that* run, as the server measured it: each real
  batch's busy time ÷ the sweep's mean for its size, applied to the simulated batch that
  starts while that real batch was the latest one. The simulator still decides, on its
  own, how requests form batches and how long they queue, so this separates the
  fidelity of the batching/queueing model from the host's speed, which on a shared
  host varies by 5-10 % between runs tens of seconds apart (docs/serving-real.md).

Every timed run reports the CPU that *other* processes used meanwhile
(:class:`~mlfleet.serving.host_cpu.HostCpuMeter`); a disturbed sweep or calibration run
is repeated. The real p99 of ~2,000 requests is itself uncertain: each comparison
carries the 95 % order-statistics interval of the measured p99 (typically ±10 %).
"""
from __future__ import annotations

import asyncio
import json
import math
import os
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import nnls

from mlfleet.errors import InputError, RunError
from mlfleet.serving.admission.queue_depth import QueueDepthAdmission
from mlfleet.serving.host_cpu import HostCpuMeter
from mlfleet.serving.loadgen import (
    LoadReport,
    LoadRun,
    LoadSpec,
    RequestRecord,
    arrival_trace,
    run_closed_loop_async,
    run_load_async,
    summarize,
)
from mlfleet.serving.sim.arrivals.stream import RequestStream
from mlfleet.serving.sim.engine import Engine
from mlfleet.serving.sim.replicas.dynamic import DynamicBatchReplica
from mlfleet.serving.sim.results import STATUS, SimResult
from mlfleet.serving.sim.steptime import BatchServiceTime

FloatArray = npt.NDArray[np.float64]


# ----------------------------------------------------------------------------- server I/O


def get_json(url: str, *, timeout_s: float = 10.0) -> dict[str, Any]:
    """GET a JSON document (stdlib only: used between load runs, never during one)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            data = json.loads(resp.read())
    except OSError as exc:
        raise RunError(f"cannot GET {url}: {exc}") from None
    assert isinstance(data, dict), data
    return data


@dataclass(frozen=True, kw_only=True)
class BatchingPolicy:
    """The server's rank-path batching and admission settings (from ``/v1/info``)."""

    max_batch_size: int
    max_queue_delay_s: float
    queue_capacity: int

    @classmethod
    def from_server(cls, base_url: str) -> BatchingPolicy:
        rank = get_json(base_url + "/v1/info")["config"]["rank"]
        return cls(max_batch_size=int(rank["max_batch_size"]),
                   max_queue_delay_s=float(rank["max_queue_delay_s"]),
                   queue_capacity=int(rank["queue_capacity"]))


@dataclass(frozen=True, kw_only=True)
class BatchSamples:
    """Executed rank batches: size, busy time and dispatch time (server clock) per batch."""

    size: npt.NDArray[np.int64]
    cycle_s: FloatArray
    dispatched_s: FloatArray
    last_seq: int


def fetch_batches(base_url: str, *, since: int = -1) -> BatchSamples:
    """Rank batches the server executed after sequence number ``since``."""
    doc = get_json(f"{base_url}/v1/stats?since={since}")
    col = {name: i for i, name in enumerate(doc["fields"])}
    rows = [r for r in doc["records"] if r[col["route"]] == "rank"]

    def column(name: str) -> FloatArray:
        return np.array([r[col[name]] for r in rows], dtype=np.float64)

    return BatchSamples(size=column("size").astype(np.int64), cycle_s=column("cycle_s"),
                        dispatched_s=column("dispatched_s"), last_seq=int(doc["next"]))


# ----------------------------------------------------------------------------- models


class ServiceTimeModel:
    """Busy time of a batch of B requests: empirical per size, else a line with residuals."""

    def __init__(self, *, intercept_s: float, per_request_s: float,
                 by_size: dict[int, FloatArray], residual_ratios: FloatArray,
                 min_samples: int) -> None:
        self.intercept_s = intercept_s
        self.per_request_s = per_request_s
        self.by_size = by_size
        self.residual_ratios = residual_ratios
        self.min_samples = min_samples

    @classmethod
    def fit(cls, samples: BatchSamples, *, min_samples: int = 25) -> ServiceTimeModel:
        """Least squares of per-size mean busy times (weighted by counts) on batch size,
        with both coefficients constrained >= 0."""
        if samples.size.size < 2:
            raise RunError(f"need measured batches to calibrate, got {samples.size.size}")
        sizes = np.unique(samples.size)
        by_size = {int(b): samples.cycle_s[samples.size == b] for b in sizes}
        means = np.array([by_size[int(b)].mean() for b in sizes])
        counts = np.array([by_size[int(b)].size for b in sizes], dtype=np.float64)
        a, b = float(means[0]), 0.0
        if sizes.size >= 2:  # non-negative least squares: a batch never takes < 0 s
            w = np.sqrt(counts)
            design = np.stack([np.ones_like(means), sizes.astype(np.float64)], axis=1)
            coef, _ = nnls(design * w[:, None], means * w)
            a, b = float(coef[0]), float(coef[1])
        ratios = samples.cycle_s / np.maximum(a + b * samples.size, 1e-9)
        return cls(intercept_s=a, per_request_s=b, by_size=by_size,
                   residual_ratios=ratios / ratios.mean(), min_samples=min_samples)

    def line_s(self, size: int) -> float:
        return max(self.intercept_s + self.per_request_s * size, 1e-6)

    def _seen(self, size: int) -> FloatArray | None:
        seen = self.by_size.get(size)
        return seen if seen is not None and seen.size >= self.min_samples else None

    def mean_s(self, size: int) -> float:
        """Mean busy time of a batch of ``size``."""
        seen = self._seen(size)
        return float(seen.mean()) if seen is not None else self.line_s(size)

    def sample_s(self, size: int, rng: np.random.Generator) -> float:
        """One busy time for a batch of ``size``, drawn from what was measured."""
        seen = self._seen(size)
        if seen is not None:
            return float(seen[rng.integers(seen.size)])
        ratio = float(self.residual_ratios[rng.integers(self.residual_ratios.size)])
        return self.line_s(size) * ratio

    def scaled(self, factor: float) -> ServiceTimeModel:
        """The same model on a machine ``factor`` times slower."""
        return ServiceTimeModel(intercept_s=self.intercept_s * factor,
                                per_request_s=self.per_request_s * factor,
                                by_size={b: v * factor for b, v in self.by_size.items()},
                                residual_ratios=self.residual_ratios,
                                min_samples=self.min_samples)

    def capacity_rps(self, max_batch_size: int) -> float:
        """Saturation throughput: full batches back to back."""
        return max_batch_size / self.mean_s(max_batch_size)

    def summary(self) -> dict[str, Any]:
        return {"intercept_s": self.intercept_s, "per_request_s": self.per_request_s,
                "batches": int(sum(v.size for v in self.by_size.values())),
                "mean_s_by_size": {b: float(v.mean()) for b, v in sorted(self.by_size.items())}}


@dataclass(frozen=True, kw_only=True)
class SpeedTrace:
    """How slow the machine ran over time: each batch's busy time / the mean for its size."""

    t_s: FloatArray
    """Batch dispatch times on the run's clock (seconds from the load run's time 0)."""
    factor: FloatArray

    @classmethod
    def measure(cls, samples: BatchSamples, model: ServiceTimeModel, *, t0_s: float) -> SpeedTrace:
        means = np.array([model.mean_s(int(b)) for b in samples.size])
        return cls(t_s=samples.dispatched_s - t0_s, factor=samples.cycle_s / means)

    def at(self, t_s: float) -> float:
        """The factor of the latest batch dispatched at or before ``t_s`` (or the first)."""
        i = int(np.searchsorted(self.t_s, t_s, side="right")) - 1
        return float(self.factor[max(i, 0)])


def speed_factor(samples: BatchSamples, model: ServiceTimeModel) -> float:
    """How much slower the server ran than ``model`` says: the batches' total busy time
    over the model's mean busy time for the same batch sizes (1.0: as in the sweep)."""
    if samples.size.size == 0:
        raise RunError("no batches to measure the speed of")
    expected = sum(model.mean_s(int(b)) for b in samples.size)
    return float(samples.cycle_s.sum()) / expected


@dataclass(frozen=True, kw_only=True)
class LoadSlowdown:
    """Batch busy time under open-loop load relative to the closed-loop sweep, as a
    function of the offered rate: ``k(λ) = k0 + k1·λ``.

    Why it depends on λ: the event loop parses requests and writes responses while the
    worker thread computes, and the load generator runs beside them; both take CPU and
    the GIL from the worker in proportion to how many requests pass per second. The
    closed-loop sweep's contention pattern differs (there, at low concurrency, no request
    arrives while a batch runs), so the sweep gives the *shape* of ``s(B)`` and open-loop
    calibration runs at other rates give ``k``. Least squares through the calibration
    runs' :func:`speed_factor` (a line through two points), evaluated anywhere.
    """

    intercept: float
    per_rps: float
    """Change of ``k`` per request per second of offered load."""

    @classmethod
    def fit(cls, rates_rps: Sequence[float], factors: Sequence[float]) -> LoadSlowdown:
        rates, k = np.asarray(rates_rps, dtype=np.float64), np.asarray(factors, dtype=np.float64)
        if rates.size != k.size or np.unique(rates).size < 2:
            raise InputError(f"need speed factors at >= 2 distinct rates, got rates {rates_rps}")
        slope, intercept = np.polyfit(rates, k, 1)
        return cls(intercept=float(intercept), per_rps=float(slope))

    def at(self, rate_rps: float) -> float:
        """``k`` at ``rate_rps``, floored at 0.5: a busy host never makes batches twice as
        fast as the sweep, whatever a steep line through noisy points says."""
        return max(self.intercept + self.per_rps * rate_rps, 0.5)


@dataclass(frozen=True, kw_only=True)
class OverheadModel:
    """Latency outside the batcher: resampled client + HTTP overhead, plus response fan-out.

    The requests of a batch complete together, then the event loop answers them one by
    one, so the k-th (from 0) is answered ``(k + 1) · per_response_s`` after the batch.
    """

    samples_s: FloatArray
    """Per-request overhead samples, seconds."""
    per_response_s: float
    """Event-loop time to resume one handler and build its response."""

    @classmethod
    def measure(cls, records: Sequence[RequestRecord], *, mean_batch: float) -> OverheadModel:
        """From an open-loop run: client latency minus queue + service + post per request,
        and the fan-out cost from the mean ``post`` (:func:`fan_out_per_response_s`)."""
        ok = _timed(records)
        if len(ok) < 20:
            raise RunError(f"need >= 20 successful requests with Server-Timing, got {len(ok)}")
        over = np.array([r.latency_s - r.server_s["queue"] - r.server_s["service"]
                         - r.server_s["post"] for r in ok])
        return cls(samples_s=over, per_response_s=fan_out_per_response_s(ok, mean_batch))

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
        """Client latency minus queue + service, per request of one run (fan-out included)."""
        ok = _timed(records)
        if not ok:
            raise RunError("no successful request with Server-Timing in the run")
        over = np.array([r.latency_s - r.server_s["queue"] - r.server_s["service"] for r in ok])
        return cls(samples_s=over, per_response_s=0.0)

    def sample(self, n: int, rng: np.random.Generator) -> FloatArray:
        return self.samples_s[rng.integers(self.samples_s.size, size=n)]


def _timed(records: Sequence[RequestRecord]) -> list[RequestRecord]:
    return [r for r in records
            if r.status == "200" and {"queue", "service", "post"} <= set(r.server_s)]


# ----------------------------------------------------------------------------- simulator


@dataclass(frozen=True, kw_only=True)
class MeasuredBatchServiceTime(BatchServiceTime):
    """The engine's batch service time, from what the real server measured.

    ``pieces`` holds the fitted mean line (for anything that reads it). Each call draws
    from the :class:`ServiceTimeModel` (``speed`` None), or — trace-driven — takes the
    model's mean for the size times the machine's measured speed factor at the engine's
    current time (``speed`` set, and the engine bound with :meth:`bind`).
    """

    model: ServiceTimeModel
    rng: np.random.Generator
    speed: SpeedTrace | None = None
    engine: list[Engine] = field(default_factory=list)
    """The engine whose clock a trace-driven service reads (set by :meth:`bind`)."""

    @classmethod
    def of(cls, model: ServiceTimeModel, rng: np.random.Generator,
           speed: SpeedTrace | None = None) -> MeasuredBatchServiceTime:
        return cls(pieces=((max(model.intercept_s, 0.0), model.per_request_s),), model=model,
                   rng=rng, speed=speed)

    def bind(self, engine: Engine) -> None:
        self.engine[:] = [engine]

    def __call__(self, batch: int) -> float:
        if self.speed is None or not self.engine:
            return self.model.sample_s(batch, self.rng)
        return self.model.mean_s(batch) * self.speed.at(self.engine[0].now_s)


def simulate_server(arrival_s: FloatArray, *, policy: BatchingPolicy, service: BatchServiceTime,
                    rng: np.random.Generator) -> SimResult:
    """The shared simulator configured as the real server: one Triton-style dynamic-batching
    replica with the server's max batch and max queue delay, and queue-depth admission at
    its queue capacity, replaying ``arrival_s``."""
    n = len(arrival_s)
    ones = np.ones(n, dtype=np.int64)
    stream = RequestStream(arrival_s=np.asarray(arrival_s, dtype=np.float64),
                           prompt_tokens=ones, output_tokens=ones)
    replica = DynamicBatchReplica(max_batch=policy.max_batch_size,
                                  max_queue_delay_s=policy.max_queue_delay_s, service=service)
    engine = Engine(requests=stream, replicas=[replica], rng=rng,
                    admission=QueueDepthAdmission(max_queued=policy.queue_capacity))
    if isinstance(service, MeasuredBatchServiceTime):
        service.bind(engine)
    return engine.run()


def batch_positions(result: SimResult) -> npt.NDArray[np.int64]:
    """Each completed request's index inside its batch (batches share a start time; FIFO)."""
    pos = np.full(result.arrival_s.size, -1, dtype=np.int64)
    done = np.flatnonzero(result.done)
    order = done[np.lexsort((result.arrival_s[done], result.start_s[done]))]
    starts = result.start_s[order]
    new_batch = np.concatenate([[True], starts[1:] != starts[:-1]])
    first = np.maximum.accumulate(np.where(new_batch, np.arange(order.size), 0))
    pos[order] = np.arange(order.size) - first
    return pos


def batch_sizes(result: SimResult) -> npt.NDArray[np.int64]:
    """Sizes of the simulated batches (completed requests grouped by start time)."""
    _, counts = np.unique(result.start_s[result.done], return_counts=True)
    return counts.astype(np.int64)


@dataclass(frozen=True, kw_only=True)
class SimPrediction:
    """Client-visible latency percentiles of admitted requests, pooled over replications."""

    p50_s: float
    p99_s: float
    mean_batch: float
    shed_fraction: float = 0.0
    """Arrivals rejected by admission control (429 for the real server)."""


def predict(arrival_s: FloatArray, *, policy: BatchingPolicy, service: ServiceTimeModel,
            overhead: OverheadModel, replications: int, seed: int,
            speed: SpeedTrace | None = None) -> SimPrediction:
    """Simulate the same arrival trace ``replications`` times (service draws and overheads
    redrawn each time) and pool the latencies."""
    out, mean_batch, shed = [], [], []
    for rep in range(replications):
        rng = np.random.default_rng([seed, rep])
        result = simulate_server(arrival_s, policy=policy, rng=rng,
                                 service=MeasuredBatchServiceTime.of(service, rng, speed))
        ok = result.done
        fan_out = overhead.per_response_s * (batch_positions(result)[ok] + 1)
        out.append(result.e2e_s[ok] + fan_out + overhead.sample(int(ok.sum()), rng))
        sizes = batch_sizes(result)
        mean_batch.append(float(sizes.mean()) if sizes.size else 0.0)
        shed.append(float(np.mean(result.status == STATUS.index("rejected"))))
    lat = np.concatenate(out)
    return SimPrediction(p50_s=_pct(lat, 50), p99_s=_pct(lat, 99),
                         mean_batch=float(np.mean(mean_batch)), shed_fraction=float(np.mean(shed)))


def p99_confidence_interval(values: FloatArray, *, q: float = 0.99, z: float = 1.96
                            ) -> tuple[float, float]:
    """Distribution-free 95 % interval of a sample quantile: the order statistics at ranks
    ``n·q ± z·sqrt(n·q·(1-q))`` (normal approximation to the binomial; e.g. Conover,
    "Practical Nonparametric Statistics", §3.2)."""
    v = np.sort(values)
    if v.size == 0:
        return (math.nan, math.nan)
    half = z * math.sqrt(v.size * q * (1 - q))
    lo = int(max(math.floor(v.size * q - half), 0))
    hi = int(min(math.ceil(v.size * q + half), v.size - 1))
    return (float(v[lo]), float(v[hi]))


def _pct(values: FloatArray, q: float) -> float:
    return float(np.percentile(values, q)) if values.size else math.nan


# ----------------------------------------------------------------------------- experiment


@dataclass(frozen=True, kw_only=True)
class ExperimentSpec:
    """The calibration experiment against a running server's ranker path."""

    base_url: str
    """``http://HOST:PORT`` of a running ``mlfleet serve`` on this host."""
    load_fractions: tuple[float, ...] = (0.3, 0.6, 0.9)
    """Compared offered loads, as fractions of the measured capacity."""
    calibration_fractions: tuple[float, ...] = (0.15, 1.0)
    """Open-loop calibration runs, fractions of the measured capacity: the slowdown of
    batches under load and the client + HTTP overhead are measured there and
    interpolated by rate. Each must be at least 0.05 away from every compared load, so
    no compared run is predicted from a run at its own load."""
    calibration_requests: int = 800
    """Requests per calibration run (the duration stays within the run bounds)."""
    min_requests: int = 2000
    """Requests per compared load point (the duration is stretched to reach it, within
    ``min_duration_s`` .. ``max_duration_s``)."""
    min_duration_s: float = 8.0
    max_duration_s: float = 30.0
    sweep_concurrency: tuple[int, ...] = (1, 2, 4, 8, 12, 16, 24, 32, 48)
    sweep_duration_s: float = 2.0
    capacity_duration_s: float = 4.0
    """The top sweep concurrency runs this long; its throughput is the capacity that
    every load fraction refers to (measured once: a 1.5 s re-measurement varies by
    ±10 % on a quiet 2-core host, more than the drift it would correct)."""
    overload_factor: float | None = 2.0
    """Overload run at this multiple of capacity; ``None`` skips it."""
    overload_duration_s: float = 8.0
    slo_s: float | None = None
    """Latency SLO of the overload check; ``None``: derived from the measured service time."""
    items_per_request: int = 64
    replications: int = 10
    tolerance: float = 0.15
    """Relative p50/p99 error of the ``calibration`` below that counts as agreement."""
    calibration: str = "predictive"
    """Which simulator calibration decides agreement (and re-measurement): ``predictive``
    (everything measured before the load run) or ``per_run`` (the machine speed measured
    during the run)."""
    max_attempts: int = 1
    """Measurements per load point: a point outside the tolerance is measured again (a
    fresh run, new seed) up to this many times. Every attempt is kept in the result.
    Rationale: the real p99 of ~2,000 requests is uncertain by about ±10-20 % on a
    shared host (see :func:`p99_confidence_interval`)."""
    quiet_cores: float = 0.1
    """A run during which other processes on the host used more CPU than this (cores,
    :mod:`mlfleet.serving.host_cpu`) counts as *disturbed*: a disturbed sweep or
    calibration run is repeated (up to ``calibration_attempts``, the least disturbed is
    kept), and every compared run reports its figure."""
    quiet_wait_s: float = 0.0
    """Before each timed run, wait up to this long for a quiet host (other processes
    below ``quiet_cores`` over one second); 0 never waits."""
    calibration_attempts: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.load_fractions or any(not 0 < f < 1 for f in self.load_fractions):
            raise InputError(f"load_fractions(={self.load_fractions}) must be in (0, 1)")
        cal = self.calibration_fractions
        if len(set(cal)) < 2 or any(not 0 < f <= 1.5 for f in cal):
            raise InputError(f"calibration_fractions(={cal}) must be >= 2 distinct values "
                             "in (0, 1.5]")
        near = [(c, f) for c in cal for f in self.load_fractions if abs(c - f) < 0.05]
        if near:
            raise InputError(f"calibration_fractions(={cal}) must stay 0.05 away from "
                             f"load_fractions(={self.load_fractions}): {near}")
        for name in ("min_requests", "calibration_requests"):
            if getattr(self, name) < 100:
                raise InputError(f"{name}(={getattr(self, name)}) must be >= 100")
        if self.calibration_attempts < 1 or self.max_attempts < 1:
            raise InputError(f"calibration_attempts(={self.calibration_attempts}) and "
                             f"max_attempts(={self.max_attempts}) must be >= 1")
        if self.calibration not in ("predictive", "per_run"):
            raise InputError(f"calibration(={self.calibration!r}) must be 'predictive' or "
                             "'per_run'")

    def duration_s(self, rate_rps: float, requests: int) -> float:
        """How long a run at ``rate_rps`` must last to send about ``requests``."""
        return min(max(requests / rate_rps, self.min_duration_s), self.max_duration_s)


@dataclass(frozen=True, kw_only=True)
class CalibrationRun:
    """What one open-loop calibration run measured."""

    fraction: float
    rate_rps: float
    requests: int
    speed: float
    """Busy time over the sweep model's (:func:`speed_factor`)."""
    mean_batch: float
    overhead_p50_s: float
    overhead_p99_s: float
    per_response_s: float
    others_cores: float
    """CPU used by other processes on the host meanwhile (:mod:`mlfleet.serving.host_cpu`)."""
    attempts: int = 1
    """Runs made at this load (a disturbed one is repeated; the least disturbed is kept)."""


@dataclass(frozen=True, kw_only=True)
class LoadCalibration:
    """The predictive calibration, measured before any compared run: the sweep's service
    shape, its slowdown under open-loop load ``k(λ)``, and the overhead by rate."""

    service: ServiceTimeModel
    slowdown: LoadSlowdown
    rates_rps: tuple[float, ...]
    """Rates of the calibration runs, ascending."""
    overheads: tuple[OverheadModel, ...]
    """Overhead measured in each calibration run (same order)."""

    def service_at(self, rate_rps: float) -> ServiceTimeModel:
        return self.service.scaled(self.slowdown.at(rate_rps))

    def overhead_at(self, rate_rps: float) -> OverheadModel:
        """Interpolated between the calibration runs that bracket ``rate_rps`` (the
        nearest one outside them)."""
        i = int(np.clip(np.searchsorted(self.rates_rps, rate_rps), 1, len(self.rates_rps) - 1))
        lo, hi = self.rates_rps[i - 1], self.rates_rps[i]
        return OverheadModel.interpolate(self.overheads[i - 1], self.overheads[i],
                                         weight=(rate_rps - lo) / (hi - lo))


@dataclass(frozen=True, kw_only=True)
class LoadComparison:
    """Real vs simulated latency at one load, for both calibrations."""

    load_fraction: float
    capacity_rps: float
    """The measured capacity the fraction refers to."""
    rate_rps: float
    real: LoadReport
    real_p99_ci_s: tuple[float, float]
    """95 % confidence interval of the real p99 (order statistics): its sampling noise."""
    real_mean_batch: float
    predictive: SimPrediction
    per_run: SimPrediction
    real_overhead_p50_s: float
    """Client latency minus server queue + service, median, this run."""
    real_overhead_p99_s: float
    predicted_speed: float
    """The slowdown ``k(λ)`` the predictive calibration used (1.0: as in the sweep)."""
    real_speed: float
    """The slowdown the server actually ran at in this run (:func:`speed_factor`)."""
    others_cores: float = math.nan
    """CPU used by other processes on the host during the run (nan where unknown)."""
    attempt: int = 1
    """Which measurement of this load point (see ``ExperimentSpec.max_attempts``)."""

    def agrees(self, calibration: str, tolerance: float) -> bool:
        """Both p50 and p99 within ``tolerance`` (relative)."""
        return all(abs(e) <= tolerance for e in self.errors(calibration))

    def errors(self, calibration: str) -> tuple[float, float]:
        """Relative errors (sim / real - 1) of p50 and p99 for ``predictive`` or ``per_run``."""
        sim: SimPrediction = getattr(self, calibration)
        return (sim.p50_s / self.real.e2e.p50_s - 1.0,
                sim.p99_s / self.real.e2e.p99_s - 1.0)


@dataclass(frozen=True, kw_only=True)
class OverloadResult:
    """The server under ``factor`` × capacity."""

    factor: float
    rate_rps: float
    report: LoadReport
    slo_s: float
    admitted_p99_s: float
    """Client-measured, from the scheduled arrival (client lag included)."""
    server_admitted_p99_s: float
    """The same requests as the server timed them (arrival in the handler to response)."""
    all_admitted_completed: bool
    every_429_has_retry_after: bool
    alive_after: bool
    sim: SimPrediction
    """The trace-driven simulator's prediction of the same run."""

    @property
    def holds(self) -> bool:
        return (self.alive_after and self.all_admitted_completed
                and self.every_429_has_retry_after and self.report.status_counts.get("429", 0) > 0
                and self.admitted_p99_s <= self.slo_s)


@dataclass(frozen=True, kw_only=True)
class ExperimentResult:
    policy: BatchingPolicy
    service: dict[str, Any]
    capacity_rps: float
    """Measured saturation throughput (the top of the sweep)."""
    model_capacity_rps: float
    """``max_batch / mean s(max_batch)`` from the calibrated service model."""
    sweep_others_cores: float
    """CPU other processes used during the (kept) sweep."""
    slowdown: LoadSlowdown
    calibration_runs: list[CalibrationRun] = field(default_factory=list)
    comparisons: list[LoadComparison] = field(default_factory=list)
    overload: OverloadResult | None = None

    def final(self) -> list[LoadComparison]:
        """The last attempt at every load point."""
        last = {c.load_fraction: c for c in self.comparisons}
        return list(last.values())

    def to_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        for row, comp in zip(doc["comparisons"], self.comparisons, strict=True):
            for name in ("predictive", "per_run"):
                row[name]["p50_error"], row[name]["p99_error"] = comp.errors(name)
        return doc


def _spec(exp: ExperimentSpec, *, rate_rps: float, duration_s: float, seed: int,
          slo_s: float | None = None) -> LoadSpec:
    return LoadSpec(url=exp.base_url + "/v1/rank", rate_rps=rate_rps, duration_s=duration_s,
                    seed=seed, items_per_request=exp.items_per_request, slo_s=slo_s,
                    timeout_s=60.0)


async def _closed_loop(exp: ExperimentSpec, concurrency: int, duration_s: float,
                       seed: int) -> tuple[list[RequestRecord], float]:
    """Closed-loop records and throughput (:func:`closed_loop_throughput`)."""
    spec = _spec(exp, rate_rps=1.0, duration_s=duration_s, seed=seed)
    records = await run_closed_loop_async(spec, concurrency=concurrency)
    return records, closed_loop_throughput(records, duration_s=duration_s)


def closed_loop_throughput(records: Sequence[RequestRecord], *, duration_s: float) -> float:
    """Successes completed per second inside the run, after a warm-up of a quarter of it
    (at most 0.5 s). Counting every success over ``duration_s`` instead would add the up
    to ``concurrency`` requests still in flight at the end: +32 req/s (~13 %) for 48
    clients over 1.5 s, which turns "90 % of capacity" into ~100 %."""
    warmup_s = min(0.5, duration_s / 4)
    done = [r.intended_s + r.latency_s for r in records if r.status == "200"]
    n = sum(warmup_s < t <= duration_s for t in done)
    return n / (duration_s - warmup_s)


@dataclass(frozen=True, kw_only=True)
class Sweep:
    """What the closed-loop sweep measured."""

    batches: BatchSamples
    """Every batch of every concurrency level."""
    capacity_rps: float
    """Throughput at the top concurrency (full batches), run ``capacity_duration_s``."""
    others_cores: float = math.nan
    """CPU other processes used meanwhile."""


def fan_out_per_response_s(records: Sequence[RequestRecord], mean_batch: float) -> float:
    """Event-loop time per response after a batch: the mean ``post`` of a batch of B is
    ``c·(B + 1)/2`` when the k-th response leaves ``(k + 1)·c`` after the batch. It
    grows with the load, since the next batch computes on the worker thread while the
    loop answers and the two contend for the CPU (and the GIL)."""
    posts = [r.server_s["post"] for r in _timed(records)]
    return float(np.mean(posts)) / ((mean_batch + 1.0) / 2.0) if posts else 0.0


async def _sweep_once(exp: ExperimentSpec, meter: HostCpuMeter | None) -> Sweep:
    await _wait_for_quiet(exp, meter)
    since = fetch_batches(exp.base_url).last_seq
    throughput = 0.0
    top = max(exp.sweep_concurrency)
    if meter is not None:
        meter.start()
    for c in exp.sweep_concurrency:
        duration = exp.capacity_duration_s if c == top else exp.sweep_duration_s
        _, throughput = await _closed_loop(exp, c, duration, exp.seed + 100)
    others = meter.others_cores() if meter is not None else math.nan
    return Sweep(batches=fetch_batches(exp.base_url, since=since), capacity_rps=throughput,
                 others_cores=others)


async def _sweep(exp: ExperimentSpec, meter: HostCpuMeter | None) -> Sweep:
    """Closed-loop runs at rising concurrency (see :class:`Sweep`); the top one, which
    measures the capacity, runs ``capacity_duration_s``. Repeated when disturbed."""
    sweeps = [await _sweep_once(exp, meter)]
    while len(sweeps) < exp.calibration_attempts and _disturbed(exp, sweeps[-1].others_cores):
        sweeps.append(await _sweep_once(exp, meter))
    return min(sweeps, key=lambda s: _nan_last(s.others_cores))


def _disturbed(exp: ExperimentSpec, others_cores: float) -> bool:
    return others_cores > exp.quiet_cores  # nan (unknown) is not disturbed


def _nan_last(value: float) -> float:
    return math.inf if math.isnan(value) else value


async def _wait_for_quiet(exp: ExperimentSpec, meter: HostCpuMeter | None) -> None:
    """Up to ``quiet_wait_s``, until other processes use less than ``quiet_cores`` over 1 s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + exp.quiet_wait_s
    while meter is not None and loop.time() < deadline:
        meter.start()
        await asyncio.sleep(1.0)
        if not _disturbed(exp, meter.others_cores()):
            return


@dataclass(frozen=True, kw_only=True)
class _Measured:
    """One open-loop run with the batches the server executed meanwhile."""

    spec: LoadSpec
    run: LoadRun
    batches: BatchSamples
    others_cores: float


async def _open_loop(exp: ExperimentSpec, spec: LoadSpec, meter: HostCpuMeter | None
                     ) -> _Measured:
    await _wait_for_quiet(exp, meter)
    since = fetch_batches(exp.base_url).last_seq
    if meter is not None:
        meter.start()
    run = await run_load_async(spec)
    others = meter.others_cores() if meter is not None else math.nan
    return _Measured(spec=spec, run=run, batches=fetch_batches(exp.base_url, since=since),
                     others_cores=others)


def _server_meter(base_url: str) -> HostCpuMeter | None:
    """Watches this process (the load generator) and the server, when it reports its pid."""
    pid = get_json(base_url + "/v1/info").get("pid")
    return HostCpuMeter([os.getpid(), pid]) if isinstance(pid, int) else None


async def _calibration_run(exp: ExperimentSpec, service: ServiceTimeModel, meter: HostCpuMeter | None,
                           *, fraction: float, rate_rps: float, seed: int
                           ) -> tuple[CalibrationRun, OverheadModel]:
    """One open-loop calibration run at ``rate_rps``, repeated when disturbed."""
    tries: list[_Measured] = []
    while not tries or (len(tries) < exp.calibration_attempts
                        and _disturbed(exp, tries[-1].others_cores)):
        spec = _spec(exp, rate_rps=rate_rps, seed=seed + 10 * len(tries),
                     duration_s=exp.duration_s(rate_rps, exp.calibration_requests))
        tries.append(await _open_loop(exp, spec, meter))
    m = min(tries, key=lambda t: _nan_last(t.others_cores))
    mean_batch = float(m.batches.size.mean())
    overhead = OverheadModel.measure(m.run.records, mean_batch=mean_batch)
    return CalibrationRun(
        fraction=fraction, rate_rps=rate_rps, requests=len(m.run.records),
        speed=speed_factor(m.batches, service), mean_batch=mean_batch,
        overhead_p50_s=_pct(overhead.samples_s, 50), overhead_p99_s=_pct(overhead.samples_s, 99),
        per_response_s=overhead.per_response_s, others_cores=m.others_cores,
        attempts=len(tries)), overhead


async def _calibrate_under_load(exp: ExperimentSpec, service: ServiceTimeModel,
                                capacity_rps: float, meter: HostCpuMeter | None
                                ) -> tuple[LoadCalibration, list[CalibrationRun]]:
    """The open-loop calibration runs, and the predictive calibration fitted on them."""
    runs = [await _calibration_run(exp, service, meter, fraction=f, rate_rps=f * capacity_rps,
                                   seed=exp.seed + 200 + k)
            for k, f in enumerate(sorted(exp.calibration_fractions))]
    cal = [r for r, _ in runs]
    slowdown = LoadSlowdown.fit([r.rate_rps for r in cal], [r.speed for r in cal])
    model = LoadCalibration(service=service, slowdown=slowdown,
                            rates_rps=tuple(r.rate_rps for r in cal),
                            overheads=tuple(o for _, o in runs))
    return model, cal


async def run_experiment_async(exp: ExperimentSpec) -> ExperimentResult:
    """Run the whole experiment (see the module docstring) against ``exp.base_url``."""
    policy = BatchingPolicy.from_server(exp.base_url)
    meter = _server_meter(exp.base_url)
    sweep = await _sweep(exp, meter)
    service = ServiceTimeModel.fit(sweep.batches)
    calibration, runs = await _calibrate_under_load(exp, service, sweep.capacity_rps, meter)
    result = ExperimentResult(policy=policy, service=service.summary(),
                              capacity_rps=sweep.capacity_rps,
                              model_capacity_rps=service.capacity_rps(policy.max_batch_size),
                              sweep_others_cores=sweep.others_cores,
                              slowdown=calibration.slowdown, calibration_runs=runs)
    for k, fraction in enumerate(exp.load_fractions):
        for attempt in range(exp.max_attempts):
            comparison = await _compare_at(exp, policy, calibration, meter, fraction=fraction,
                                           capacity_rps=sweep.capacity_rps,
                                           seed=exp.seed + k + 1000 * attempt)
            result.comparisons.append(replace(comparison, attempt=attempt + 1))
            if (comparison.agrees(exp.calibration, exp.tolerance)
                    and not _disturbed(exp, comparison.others_cores)):
                break
    if exp.overload_factor is not None:
        overload = await _overload(exp, policy, calibration, sweep.capacity_rps)
        result = replace(result, overload=overload)
    return result


async def _compare_at(exp: ExperimentSpec, policy: BatchingPolicy, calibration: LoadCalibration,
                      meter: HostCpuMeter | None, *, fraction: float, capacity_rps: float,
                      seed: int) -> LoadComparison:
    rate = fraction * capacity_rps
    spec = _spec(exp, rate_rps=rate, duration_s=exp.duration_s(rate, exp.min_requests),
                 seed=seed)
    m = await _open_loop(exp, spec, meter)
    arrivals = arrival_trace(spec)
    overhead = calibration.overhead_at(rate)
    predictive = predict(arrivals, policy=policy, service=calibration.service_at(rate),
                         overhead=overhead, replications=exp.replications, seed=seed)
    sweep_model = calibration.service
    per_run = predict(arrivals, policy=policy, service=sweep_model, overhead=overhead,
                      replications=exp.replications, seed=seed,
                      speed=SpeedTrace.measure(m.batches, sweep_model, t0_s=m.run.t0_s))
    run_overhead = OverheadModel.of_run(m.run.records)
    return LoadComparison(
        load_fraction=fraction, capacity_rps=capacity_rps, rate_rps=rate,
        real=summarize(m.run.records, spec),
        real_p99_ci_s=p99_confidence_interval(
            np.array([r.latency_s for r in m.run.records if r.status == "200"])),
        real_mean_batch=float(m.batches.size.mean()) if m.batches.size.size else math.nan,
        predictive=predictive, per_run=per_run,
        real_overhead_p50_s=_pct(run_overhead.samples_s, 50),
        real_overhead_p99_s=_pct(run_overhead.samples_s, 99),
        predicted_speed=calibration.slowdown.at(rate),
        real_speed=speed_factor(m.batches, sweep_model), others_cores=m.others_cores)


def derived_slo_s(policy: BatchingPolicy, service: ServiceTimeModel) -> float:
    """An SLO the bounded queue guarantees with margin: twice the worst admitted wait.

    An admitted request finds at most ``queue_capacity - 1`` waiting ahead of it, so it
    waits for the batch in service plus ``ceil(queue_capacity / max_batch)`` full batches
    at most, then is served: ``(ceil(Q/B) + 2)`` full-batch times in the worst case.
    """
    batches = math.ceil(policy.queue_capacity / policy.max_batch_size) + 2
    return 2.0 * batches * service.mean_s(policy.max_batch_size)


async def _overload(exp: ExperimentSpec, policy: BatchingPolicy, calibration: LoadCalibration,
                    capacity_rps: float) -> OverloadResult:
    """Open-loop at ``overload_factor`` x the measured capacity. The SLO (unless given)
    is :func:`derived_slo_s` of the batch times measured during this run: the guarantee
    the bounded queue gives is relative to how fast the machine serves now. The
    trace-driven simulator predicts the shed fraction and the admitted p99 too."""
    assert exp.overload_factor is not None
    rate = exp.overload_factor * capacity_rps
    spec = _spec(exp, rate_rps=rate, duration_s=exp.overload_duration_s, seed=exp.seed + 300)
    since = fetch_batches(exp.base_url).last_seq
    run = await run_load_async(spec)
    batches = fetch_batches(exp.base_url, since=since)
    slo = exp.slo_s if exp.slo_s is not None else derived_slo_s(
        policy, ServiceTimeModel.fit(batches))
    service = calibration.service
    sim = predict(arrival_trace(spec), policy=policy, service=service,
                  overhead=calibration.overhead_at(rate), replications=exp.replications,
                  seed=exp.seed + 300, speed=SpeedTrace.measure(batches, service, t0_s=run.t0_s))
    report = summarize(run.records, replace(spec, slo_s=slo))
    admitted = [r for r in run.records if r.status != "429"]
    server = np.array([sum(r.server_s.get(k, 0.0) for k in ("pre", "queue", "service", "post"))
                       for r in admitted if r.status == "200"])
    alive = get_json(exp.base_url + "/healthz").get("alive") is True
    return OverloadResult(
        factor=exp.overload_factor, rate_rps=rate, report=report, slo_s=slo,
        admitted_p99_s=report.e2e.p99_s, server_admitted_p99_s=_pct(server, 99),
        all_admitted_completed=all(r.status == "200" for r in admitted),
        every_429_has_retry_after=all(r.retry_after_s >= 1 for r in run.records
                                      if r.status == "429"),
        alive_after=alive, sim=sim)


def run_experiment(exp: ExperimentSpec) -> ExperimentResult:
    """Synchronous wrapper of :func:`run_experiment_async`."""
    return asyncio.run(run_experiment_async(exp))


def _comparison_row(c: LoadComparison) -> str:
    ms = 1e3
    row = (f"{c.load_fraction:>4.0%}{'*' if c.attempt > 1 else ' '}"
           f"{c.rate_rps:6.1f} {c.real.requests:5d} "
           f"| {c.real.e2e.p50_s * ms:7.2f} {c.real.e2e.p99_s * ms:7.2f} ")
    for name in ("predictive", "per_run"):
        sim: SimPrediction = getattr(c, name)
        e50, e99 = c.errors(name)
        row += f"| {sim.p50_s * ms:7.2f} ({e50:+6.1%}) {sim.p99_s * ms:7.2f} ({e99:+6.1%}) "
    lo, hi = c.real_p99_ci_s
    return row + (f"| {c.real_mean_batch:5.2f}/{c.predictive.mean_batch:5.2f} "
                  f"| {c.predicted_speed:.3f}/{c.real_speed:.3f} | {c.others_cores:9.2f} "
                  f"| {lo * ms:.1f}-{hi * ms:.1f}")


def format_result(result: ExperimentResult) -> str:
    """The calibration, the comparison table and the overload check, as text."""
    ms = 1e3
    svc, k = result.service, result.slowdown
    lines = [f"capacity {result.capacity_rps:.1f} req/s measured, "
             f"{result.model_capacity_rps:.1f} req/s from the service model "
             f"(a={svc['intercept_s'] * ms:.2f} ms, b={svc['per_request_s'] * ms:.2f} ms/request; "
             f"sweep: other CPU {result.sweep_others_cores:.2f} cores); "
             f"slowdown under load k(rate) = {k.intercept:.3f} {k.per_rps * 1e3:+.3f}e-3/(req/s)"]
    for r in result.calibration_runs:
        lines.append(f"  calibration run {r.fraction:.0%} ({r.rate_rps:.1f} req/s, {r.requests}): "
                     f"speed {r.speed:.3f}, batch {r.mean_batch:.2f}, overhead p50/p99 "
                     f"{r.overhead_p50_s * ms:.2f}/{r.overhead_p99_s * ms:.2f} ms, per response "
                     f"{r.per_response_s * ms:.2f} ms, other CPU {r.others_cores:.2f} cores "
                     f"({r.attempts} run{'s' if r.attempts > 1 else ''})")
    lines.append("load   rate  n     | real p50   p99    | predictive p50 (err)  p99 (err)     "
                 "| per-run p50 (err)     p99 (err)      | batch real/pred | speed pred/real "
                 "| other CPU | real p99 95% CI")
    lines += [_comparison_row(c) for c in result.comparisons]
    if any(c.attempt > 1 for c in result.comparisons):
        lines.append("* a repeated measurement of the load point above it")
    if result.overload is not None:
        o = result.overload
        lines.append(
            f"overload {o.factor:g}x ({o.rate_rps:.0f} req/s): status {o.report.status_counts}, "
            f"admitted p99 {o.admitted_p99_s * ms:.1f} ms (server {o.server_admitted_p99_s * ms:.1f},"
            f" client lag p99 {o.report.client_lag_p99_s * ms:.1f}) vs SLO {o.slo_s * ms:.1f} ms, "
            f"all admitted completed: {o.all_admitted_completed}, 429 with Retry-After: "
            f"{o.every_429_has_retry_after}, alive: {o.alive_after} -> "
            f"{'holds' if o.holds else 'FAILS'}")
        real_shed = o.report.rejected / max(o.report.requests, 1)
        lines.append(f"  simulated (per-run): shed {o.sim.shed_fraction:.1%} (real {real_shed:.1%}), "
                     f"admitted p99 {o.sim.p99_s * ms:.1f} ms (real {o.admitted_p99_s * ms:.1f} ms)")
    return "\n".join(lines)

"""Calibrate the serving simulator from the real server's measured service times, then compare.

The experiment (``run_experiment``) drives a running ``mlfleet serve`` on its ranker path
(dynamic batching) and checks the simulator against it:

1. **Service times.** Closed-loop sweeps at rising concurrency make the server run
   batches of every size; the server reports each batch's busy time (dispatch to
   results back on the event loop) at ``/v1/stats``. :class:`ServiceTimeModel` keeps the
   empirical distribution per batch size, and a least-squares line ``a + b·B`` with
   multiplicative residuals for sizes seen too rarely.
2. **Capacity** is the throughput of the highest-concurrency sweep, where every batch is
   full: about ``max_batch / s(max_batch)``. It is re-measured (1.5 s) just before each
   load point and the overload run, as a shared machine's speed drifts; loads are
   fractions of the capacity just measured, and the predictive service model is
   rescaled by the ratio of the two capacities.
3. **Overhead.** What the simulator does not model (client, loopback, HTTP parsing,
   JSON, response writing) is measured per request at low load as client latency minus
   the server's queue + service time (``Server-Timing``), and added to simulated
   latencies by resampling — plus the *response fan-out*: the requests of one batch are
   answered one after another by the event loop, so the k-th (from 0) leaves
   ``(k + 1)·c`` after the batch; ``c`` is measured at the top of the sweep, where the
   next batch computes while the loop answers (GIL and CPU contention make ``c``
   several times its idle value).
4. **Compare.** At each load (fractions of the measured capacity) the load generator
   sends an open-loop Poisson trace; the shared simulator (``serving/sim``: one
   Triton-style :class:`DynamicBatchReplica` with the server's max batch and max queue
   delay, queue-depth admission at the server's queue capacity) replays **the same
   arrival times**, with every batch's service time drawn from the calibrated model,
   over several replications. p50 and p99 latency of successful requests are compared.

Two calibrations are reported:

* ``predictive`` — service model from the sweep and overhead from the low-load run,
  both measured before any comparison run; service times are drawn independently.
* ``per_run`` (trace-driven) — the sweep's service model (its mean per batch size)
  times the machine's speed during *that* run, as the server measured it: each real
  batch's busy time ÷ the sweep's mean for its size, applied to the simulated batch that
  starts while that real batch was the latest one. Overhead is still the low-load
  model. The simulator decides, on its own, how requests form batches and how long they
  queue. On a host shared with other work, whose speed drifts by 2x within a minute,
  this separates the fidelity of the batching/queueing model from the drift. Even in
  calm periods ``predictive`` misses at 60 % load: batch times under open-loop load
  differ from the closed-loop sweep's (docs/serving-real.md has the numbers).

The real p99 of ~2,000 requests is itself uncertain: each comparison carries the 95 %
order-statistics interval of the measured p99 (typically ±10 %).
"""

from __future__ import annotations

import asyncio
import json
import math
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import nnls

from mlfleet.errors import InputError, RunError
from mlfleet.serving.admission.queue_depth import QueueDepthAdmission
from mlfleet.serving.loadgen import (
    LoadReport,
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
    def at_low_load(cls, records: Sequence[RequestRecord]) -> OverheadModel:
        """Client latency minus queue + service + post; fan-out from the median ``post``
        (batches hold about one request at low load: the idle per-response cost)."""
        ok = _timed(records)
        if len(ok) < 20:
            raise RunError(f"need >= 20 successful requests with Server-Timing, got {len(ok)}")
        over = np.array([r.latency_s - r.server_s["queue"] - r.server_s["service"]
                         - r.server_s["post"] for r in ok])
        return cls(samples_s=over,
                   per_response_s=float(np.median([r.server_s["post"] for r in ok])))

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
    """Offered loads as fractions of the measured capacity."""
    min_requests: int = 2000
    """Requests per load point (the duration is stretched to reach it, within bounds)."""
    min_duration_s: float = 8.0
    max_duration_s: float = 30.0
    sweep_concurrency: tuple[int, ...] = (1, 2, 4, 8, 12, 16, 24, 32, 48)
    sweep_duration_s: float = 2.0
    overhead_fraction: float = 0.1
    """Load of the overhead-measurement run (fraction of capacity)."""
    overhead_requests: int = 300
    capacity_check_s: float = 1.5
    """Before each load point, capacity is re-measured this long (closed loop at the top
    sweep concurrency), because a shared machine's speed drifts: loads are fractions of
    the capacity just measured, and the predictive service model is rescaled by it."""
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
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.load_fractions or any(not 0 < f < 1 for f in self.load_fractions):
            raise InputError(f"load_fractions(={self.load_fractions}) must be in (0, 1)")
        if self.min_requests < 100:
            raise InputError(f"min_requests(={self.min_requests}) must be >= 100")


@dataclass(frozen=True, kw_only=True)
class LoadComparison:
    """Real vs simulated latency at one load, for both calibrations."""

    load_fraction: float
    capacity_rps: float
    """Capacity measured just before this point."""
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
    overhead_p50_s: float
    per_response_s: float
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
    """Closed-loop records and throughput (successes per second)."""
    spec = _spec(exp, rate_rps=1.0, duration_s=duration_s, seed=seed)
    records = await run_closed_loop_async(spec, concurrency=concurrency)
    return records, sum(r.status == "200" for r in records) / duration_s


@dataclass(frozen=True, kw_only=True)
class Sweep:
    """What the closed-loop sweep measured."""

    batches: BatchSamples
    """Every batch of every concurrency level."""
    capacity_rps: float
    """Throughput at the top concurrency (full batches)."""
    per_response_s: float
    """Response fan-out cost per request at full batches (see :func:`fan_out_per_response_s`)."""


def fan_out_per_response_s(records: Sequence[RequestRecord], mean_batch: float) -> float:
    """Event-loop time per response while batches run back to back: the mean ``post``
    of a batch of B is ``c·(B + 1)/2`` when the k-th response leaves ``(k + 1)·c`` after
    the batch. Measured at saturation because there the next batch computes on the
    worker thread while the loop answers, and they contend for the GIL and the CPU
    (``c`` is several times its idle value)."""
    posts = [r.server_s["post"] for r in _timed(records)]
    return float(np.mean(posts)) / ((mean_batch + 1.0) / 2.0) if posts else 0.0


async def _sweep(exp: ExperimentSpec) -> Sweep:
    """Closed-loop runs at rising concurrency (see :class:`Sweep`)."""
    since = fetch_batches(exp.base_url).last_seq
    records: list[RequestRecord] = []
    throughput = 0.0
    for c in exp.sweep_concurrency:
        top_since = fetch_batches(exp.base_url).last_seq
        records, throughput = await _closed_loop(exp, c, exp.sweep_duration_s, exp.seed + 100)
    top = fetch_batches(exp.base_url, since=top_since)
    return Sweep(batches=fetch_batches(exp.base_url, since=since), capacity_rps=throughput,
                 per_response_s=fan_out_per_response_s(records, float(top.size.mean())))


async def measure_capacity(exp: ExperimentSpec) -> float:
    """Saturation throughput now: the top sweep concurrency for ``capacity_check_s``."""
    _, throughput = await _closed_loop(exp, max(exp.sweep_concurrency), exp.capacity_check_s,
                                       exp.seed + 150)
    return throughput


async def run_experiment_async(exp: ExperimentSpec) -> ExperimentResult:
    """Run the whole experiment (see the module docstring) against ``exp.base_url``."""
    policy = BatchingPolicy.from_server(exp.base_url)
    sweep = await _sweep(exp)
    capacity = sweep.capacity_rps
    service = ServiceTimeModel.fit(sweep.batches)
    rate = exp.overhead_fraction * capacity
    low = await run_load_async(_spec(exp, rate_rps=rate, duration_s=exp.overhead_requests / rate,
                                     seed=exp.seed + 200))
    overhead = replace(OverheadModel.at_low_load(low.records),
                       per_response_s=sweep.per_response_s)
    result = ExperimentResult(policy=policy, service=service.summary(), capacity_rps=capacity,
                              model_capacity_rps=service.capacity_rps(policy.max_batch_size),
                              overhead_p50_s=float(np.median(overhead.samples_s)),
                              per_response_s=overhead.per_response_s)
    for k, fraction in enumerate(exp.load_fractions):
        for attempt in range(exp.max_attempts):
            comparison = await _compare_at(exp, policy, service, overhead, fraction=fraction,
                                           capacity_rps=capacity,
                                           seed=exp.seed + k + 1000 * attempt)
            result.comparisons.append(replace(comparison, attempt=attempt + 1))
            if comparison.agrees(exp.calibration, exp.tolerance):
                break
    if exp.overload_factor is not None:
        result = replace(result, overload=await _overload(exp, policy, service, overhead))
    return result


async def _compare_at(exp: ExperimentSpec, policy: BatchingPolicy, service: ServiceTimeModel,
                      overhead: OverheadModel, *, fraction: float, capacity_rps: float,
                      seed: int) -> LoadComparison:
    capacity_now = await measure_capacity(exp)
    rate = fraction * capacity_now
    duration = min(max(exp.min_requests / rate, exp.min_duration_s), exp.max_duration_s)
    spec = _spec(exp, rate_rps=rate, duration_s=duration, seed=seed)
    since = fetch_batches(exp.base_url).last_seq
    run = await run_load_async(spec)
    batches = fetch_batches(exp.base_url, since=since)
    arrivals = arrival_trace(spec)
    predictive = predict(arrivals, policy=policy, service=service.scaled(capacity_rps / capacity_now),
                         overhead=overhead, replications=exp.replications, seed=seed)
    per_run = predict(arrivals, policy=policy, service=service, overhead=overhead,
                      replications=exp.replications, seed=seed,
                      speed=SpeedTrace.measure(batches, service, t0_s=run.t0_s))
    run_overhead = OverheadModel.of_run(run.records)
    real = summarize(run.records, spec)
    return LoadComparison(
        load_fraction=fraction, capacity_rps=capacity_now, rate_rps=rate, real=real,
        real_p99_ci_s=p99_confidence_interval(
            np.array([r.latency_s for r in run.records if r.status == "200"])),
        real_mean_batch=float(batches.size.mean()) if batches.size.size else math.nan,
        predictive=predictive, per_run=per_run,
        real_overhead_p50_s=_pct(run_overhead.samples_s, 50),
        real_overhead_p99_s=_pct(run_overhead.samples_s, 99))


def derived_slo_s(policy: BatchingPolicy, service: ServiceTimeModel) -> float:
    """An SLO the bounded queue guarantees with margin: twice the worst admitted wait.

    An admitted request finds at most ``queue_capacity - 1`` waiting ahead of it, so it
    waits for the batch in service plus ``ceil(queue_capacity / max_batch)`` full batches
    at most, then is served: ``(ceil(Q/B) + 2)`` full-batch times in the worst case.
    """
    batches = math.ceil(policy.queue_capacity / policy.max_batch_size) + 2
    return 2.0 * batches * service.mean_s(policy.max_batch_size)


async def _overload(exp: ExperimentSpec, policy: BatchingPolicy, service: ServiceTimeModel,
                    overhead: OverheadModel) -> OverloadResult:
    """Open-loop at ``overload_factor`` x the capacity measured just before. The SLO
    (unless given) is :func:`derived_slo_s` of the batch times measured during this run:
    the guarantee the bounded queue gives is relative to how fast the machine serves now.
    The trace-driven simulator predicts the shed fraction and the admitted p99 too."""
    assert exp.overload_factor is not None
    rate = exp.overload_factor * await measure_capacity(exp)
    spec = _spec(exp, rate_rps=rate, duration_s=exp.overload_duration_s, seed=exp.seed + 300)
    since = fetch_batches(exp.base_url).last_seq
    run = await run_load_async(spec)
    batches = fetch_batches(exp.base_url, since=since)
    slo = exp.slo_s if exp.slo_s is not None else derived_slo_s(
        policy, ServiceTimeModel.fit(batches))
    sim = predict(arrival_trace(spec), policy=policy, service=service, overhead=overhead,
                  replications=exp.replications, seed=exp.seed + 300,
                  speed=SpeedTrace.measure(batches, service, t0_s=run.t0_s))
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


def format_result(result: ExperimentResult) -> str:
    """The comparison table and the overload check, as text."""
    ms = 1e3
    svc = result.service
    lines = [f"capacity {result.capacity_rps:.1f} req/s measured, "
             f"{result.model_capacity_rps:.1f} req/s from the service model "
             f"(a={svc['intercept_s'] * ms:.2f} ms, b={svc['per_request_s'] * ms:.2f} ms/request); "
             f"overhead p50 {result.overhead_p50_s * ms:.2f} ms, "
             f"per response {result.per_response_s * ms:.2f} ms",
             "load   rate  n     capac. | real p50   p99    | predictive p50 (err)  p99 (err)     "
             "| per-run p50 (err)     p99 (err)      | batch real/pred/per-run"]
    for c in result.comparisons:
        row = (f"{c.load_fraction:>4.0%}{'*' if c.attempt > 1 else ' '}"
               f"{c.rate_rps:6.1f} {c.real.requests:5d} "
               f"{c.capacity_rps:6.1f} "
               f"| {c.real.e2e.p50_s * ms:7.2f} {c.real.e2e.p99_s * ms:7.2f} ")
        for name in ("predictive", "per_run"):
            sim: SimPrediction = getattr(c, name)
            e50, e99 = c.errors(name)
            row += (f"| {sim.p50_s * ms:7.2f} ({e50:+6.1%}) {sim.p99_s * ms:7.2f} ({e99:+6.1%}) ")
        lo, hi = c.real_p99_ci_s
        row += (f"| {c.real_mean_batch:.2f}/{c.predictive.mean_batch:.2f}/"
                f"{c.per_run.mean_batch:.2f} | real p99 95% CI {lo * ms:.1f}-{hi * ms:.1f}")
        lines.append(row)
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

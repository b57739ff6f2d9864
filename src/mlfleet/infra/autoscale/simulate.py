"""Replicas over a diurnal day on the serving simulator: HPA vs predictive vs fixed.

One run per policy, same seeded requests for all three (:mod:`.diurnal`), on
:class:`mlfleet.serving.sim.engine.Engine` with request-level replicas of ``servers``
servers and exponential service demands (so a replica at a steady rate is M/M/c,
:mod:`.sizing`). Every ``sync_s`` a controller sets the replica count of the
:class:`~.pods.Deployment`:

* ``hpa``: :class:`~.hpa.HorizontalPodAutoscaler` on the pods' busy fraction over the
  last sync period (a pod ready for less than that is "not yet ready");
* ``predictive``: :class:`~.predictive.PredictivePlanner` on yesterday's per-bin counts;
* ``fixed``: the fewest replicas whose p99 meets the SLO at the day's peak bin rate
  (:func:`~.sizing.slo_capacity_per_s`), never changed.

Per window: requests (by arrival), p99 of the response time, the fraction over the
SLO, the time-mean of billed pods, pod-hours and their cost. The busy time of a
replica is charged when a service starts (the engine's convention): a window's
utilisation includes the rest of services started in it, a shift of one service time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from mlfleet.checks import fraction, non_negative, one_of, positive, positive_int
from mlfleet.errors import InputError
from mlfleet.infra.autoscale.diurnal import DiurnalLoad, LoadRealisation, realise
from mlfleet.infra.autoscale.hpa import HorizontalPodAutoscaler, HpaSpec, PodMetrics
from mlfleet.infra.autoscale.pods import Deployment, ReadyPodsBalancer
from mlfleet.infra.autoscale.predictive import (
    PredictivePlanner,
    PredictiveSpec,
    replicas_for,
    seasonal_naive,
)
from mlfleet.infra.autoscale.sizing import replicas_for_peak, slo_capacity_per_s
from mlfleet.infra.autoscale.vpa import DecayingHistogram, VpaRecommendation, recommend
from mlfleet.serving.sim.arrivals.stream import RequestStream
from mlfleet.serving.sim.engine import Engine
from mlfleet.serving.sim.replicas.request_level import RequestLevelReplica

FloatArray = npt.NDArray[np.float64]
POLICIES = ("hpa", "predictive", "fixed")


@dataclass(frozen=True, kw_only=True)
class AutoscaleSpec:
    """The service, its load, the SLO, the price, and how each policy is set."""

    load: DiurnalLoad
    duration_s: float = 86400.0
    service_s: float = 0.05
    """Mean service demand of a request (exponential)."""
    servers: int = 1
    """Requests one replica serves at once."""
    slo_s: float = 1.0
    target_utilization: float = 0.6
    min_replicas: int = 1
    max_replicas: int = 200
    cold_start_s: float = 120.0
    """From asking for a pod to its serving (scheduling, image, model load)."""
    sync_s: float = 15.0
    lead_s: float = 600.0
    """Predictive: how far ahead the plan looks."""
    usd_per_replica_h: float = 1.0
    window_s: float = 3600.0

    def __post_init__(self) -> None:
        for name in ("duration_s", "service_s", "slo_s", "sync_s", "window_s"):
            positive(name, getattr(self, name))
        for name in ("cold_start_s", "lead_s", "usd_per_replica_h"):
            non_negative(name, getattr(self, name))
        positive_int("servers", self.servers)
        fraction("target_utilization", self.target_utilization, open_low=True)
        positive_int("min_replicas", self.min_replicas)
        positive_int("max_replicas", self.max_replicas)
        if self.min_replicas > self.max_replicas:
            raise InputError(f"min_replicas(={self.min_replicas}) must be <= "
                             f"max_replicas(={self.max_replicas})")

    @property
    def capacity_per_s(self) -> float:
        """Completions per second of one fully busy replica."""
        return self.servers / self.service_s


@dataclass(frozen=True, kw_only=True)
class WindowRow:
    """One window of one policy's run."""

    start_s: float
    requests: int
    p99_s: float | None
    """None below 100 requests."""
    violation_fraction: float | None
    mean_replicas: float
    replica_hours: float
    cost_usd: float


@dataclass(frozen=True, kw_only=True)
class PolicyRun:
    """A policy's whole run: per-window rows, totals, and the replica timeline."""

    policy: str
    rows: tuple[WindowRow, ...]
    requests: int
    violation_fraction: float
    p99_s: float
    replica_hours: float
    cost_usd: float
    peak_replicas: int
    timeline: tuple[tuple[float, int], ...]
    """(time, pods billed) at every change."""
    vpa: VpaRecommendation | None = field(default=None)
    """The VPA recommender's view of per-pod busy servers over the run."""


Controller = Callable[[float, PodMetrics], int]


def run_policy(spec: AutoscaleSpec, policy: str, realised: LoadRealisation,
               stream: RequestStream, *, seed: int,
               progress: Callable[[int, int], None] | None = None) -> PolicyRun:
    """Simulate ``policy`` on ``realised`` and its requests ``stream`` (the same for every
    policy of a comparison); ``seed`` drives the routing."""
    one_of("policy", policy, POLICIES)
    initial, controller = _controller(spec, policy, realised)
    rng = np.random.default_rng(seed)
    deployment = Deployment(make_replica=lambda: RequestLevelReplica(servers=spec.servers),
                            cold_start_s=spec.cold_start_s, servers=spec.servers)
    engine = Engine(requests=stream, rng=rng, lb=ReadyPodsBalancer(deployment.ready),
                    replicas=[RequestLevelReplica(servers=spec.servers) for _ in range(initial)],
                    progress=progress)
    deployment.attach(engine, initial=initial)
    usage = DecayingHistogram()
    _chain_syncs(engine, spec, deployment, controller, usage)
    result = engine.run()
    latency = np.asarray(result.finish_s - result.arrival_s)
    return _summarise(spec, policy, result.arrival_s, latency, deployment.billed, usage)


def make_stream(arrival_s: FloatArray, service_s: float, rng: np.random.Generator) -> RequestStream:
    n = arrival_s.size
    ones = np.ones(n, dtype=np.int64)
    return RequestStream(arrival_s=arrival_s, prompt_tokens=ones, output_tokens=ones,
                         service_s=rng.exponential(service_s, n))


def _controller(spec: AutoscaleSpec, policy: str,
                realised: LoadRealisation) -> tuple[int, Controller]:
    """The replica count at t = 0 and the decision at each sync."""
    clamp = _clamp(spec)
    if policy == "fixed":
        fixed = fixed_replicas(spec, realised)
        return fixed, lambda now_s, metrics: fixed
    if policy == "predictive":
        planner = _planner(spec, realised)
        return planner.desired(0.0), lambda now_s, metrics: planner.desired(now_s)
    hpa = HorizontalPodAutoscaler(HpaSpec(
        target_utilization=spec.target_utilization, min_replicas=spec.min_replicas,
        max_replicas=spec.max_replicas, sync_period_s=spec.sync_s))
    start = int(replicas_for(float(realised.rate_per_s(0.0)), capacity_per_s=spec.capacity_per_s,
                             target_utilization=spec.target_utilization))
    return clamp(start), lambda now_s, metrics: hpa.step(
        now_s, current=metrics.pods, metrics=metrics)


def _clamp(spec: AutoscaleSpec) -> Callable[[int], int]:
    return lambda n: min(max(n, spec.min_replicas), spec.max_replicas)


def fixed_replicas(spec: AutoscaleSpec, realised: LoadRealisation) -> int:
    """Replicas for the day's peak bin rate, each at the rate whose p99 meets the SLO."""
    per_replica = slo_capacity_per_s(servers=spec.servers, service_s=spec.service_s,
                                     slo_s=spec.slo_s)
    if per_replica <= 0.0:
        raise InputError(f"slo(={spec.slo_s:g} s) is below the p99 of one service alone "
                         f"({-math.log(0.01) * spec.service_s:.3g} s): no fleet meets it")
    past = round(-realised.start_s / spec.load.bin_s)
    peak = float(realised.bin_rates_per_s()[past:].max())
    return _clamp(spec)(replicas_for_peak(peak, per_replica_per_s=per_replica))


def _planner(spec: AutoscaleSpec, realised: LoadRealisation) -> PredictivePlanner:
    bin_s = spec.load.bin_s
    counts = realised.observed_counts(spec.duration_s)
    season = round(spec.load.period_s / bin_s)
    forecast = seasonal_naive(counts, season_bins=season, bin_s=bin_s)
    return PredictivePlanner(
        spec=PredictiveSpec(lead_s=spec.lead_s, target_utilization=spec.target_utilization,
                            capacity_per_s=spec.capacity_per_s, min_replicas=spec.min_replicas,
                            max_replicas=spec.max_replicas),
        forecast_per_s=forecast, start_s=realised.start_s, bin_s=bin_s)


def _chain_syncs(engine: Engine, spec: AutoscaleSpec, deployment: Deployment,
                 controller: Controller, usage: DecayingHistogram) -> None:
    """A sync every ``sync_s`` until the end: reap drained pods, read the pods' busy
    fractions (also the VPA's usage samples, in busy servers), decide, scale."""
    def sync(eng: Engine) -> None:
        now = eng.now_s
        deployment.reap(now)
        metrics = deployment.metrics(now, spec.sync_s)
        for util in metrics.utilizations:
            usage.add(util * spec.servers, at_s=now)
        wanted = controller(now, metrics)
        if wanted != deployment.replicas:
            deployment.scale_to(wanted, now)
        if now + spec.sync_s < spec.duration_s:
            eng.call_at(now + spec.sync_s, sync)

    engine.call_at(spec.sync_s, sync)


def _summarise(spec: AutoscaleSpec, policy: str, arrival_s: FloatArray, latency_s: FloatArray,
               billed: list[tuple[float, int]], usage: DecayingHistogram) -> PolicyRun:
    edges = np.arange(0.0, spec.duration_s + spec.window_s - 1e-9, spec.window_s)
    edges[-1] = min(edges[-1], spec.duration_s)
    if edges[-1] < spec.duration_s:
        edges = np.append(edges, spec.duration_s)
    hours = pod_seconds(billed, edges) / 3600.0
    cuts = np.searchsorted(arrival_s, edges)
    rows = tuple(_row(spec, latency_s[lo:hi], start, end, h)
                 for lo, hi, start, end, h in zip(cuts[:-1], cuts[1:], edges[:-1], edges[1:],
                                                  hours, strict=True))
    total_h = float(hours.sum())
    counts = [n for t, n in billed if t < spec.duration_s]
    vpa = recommend(usage, history_days=spec.duration_s / 86400.0) \
        if usage.weights else None
    return PolicyRun(policy=policy, rows=rows, requests=int(latency_s.size),
                     violation_fraction=float(np.mean(latency_s > spec.slo_s)),
                     p99_s=float(np.percentile(latency_s, 99)), replica_hours=total_h,
                     cost_usd=total_h * spec.usd_per_replica_h, peak_replicas=max(counts),
                     timeline=tuple(billed), vpa=vpa)


def _row(spec: AutoscaleSpec, latency_s: FloatArray, start_s: float, end_s: float,
         replica_hours: float) -> WindowRow:
    n = int(latency_s.size)
    return WindowRow(start_s=float(start_s), requests=n,
                     p99_s=float(np.percentile(latency_s, 99)) if n >= 100 else None,
                     violation_fraction=float(np.mean(latency_s > spec.slo_s)) if n else None,
                     mean_replicas=float(replica_hours * 3600.0 / (end_s - start_s)),
                     replica_hours=float(replica_hours),
                     cost_usd=float(replica_hours * spec.usd_per_replica_h))


def pod_seconds(billed: list[tuple[float, int]], edges: FloatArray) -> FloatArray:
    """∫ billed pods dt over each [edges[i], edges[i+1]) of a step function given as
    (time, count from then on), the last entry per time winning."""
    times = np.array([t for t, _ in billed] + [math.inf])
    counts = np.array([n for _, n in billed], dtype=np.float64)
    # cumulative pod-seconds at each edge: sum over steps of count · overlap
    def cumulative(x: float) -> float:
        lo = np.minimum(times[:-1], x)
        hi = np.minimum(times[1:], x)
        return float(np.sum(counts * (hi - lo)))
    at = np.array([cumulative(float(e)) for e in edges])
    return np.diff(at)


def compare(spec: AutoscaleSpec, *, seed: int, policies: tuple[str, ...] = POLICIES,
            progress: Callable[[int, int], None] | None = None) -> list[PolicyRun]:
    """Every policy on the same seeded day (a day of history before it for forecasts)."""
    load_rng, demand_rng, route_rng = np.random.default_rng(seed).spawn(3)
    realised = realise(spec.load, end_s=spec.duration_s, history_s=spec.load.period_s,
                       rng=load_rng)
    stream = make_stream(realised.arrival_s, spec.service_s, demand_rng)
    seeds = route_rng.integers(0, 2**63, len(policies))
    return [run_policy(spec, p, realised, stream, seed=int(s), progress=progress)
            for p, s in zip(policies, seeds, strict=True)]

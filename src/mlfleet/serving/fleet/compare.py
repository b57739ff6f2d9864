"""Sim vs real for one balancing policy at one load: latency p50/p99 and load spread.

The real side is :func:`~mlfleet.serving.fleet.real_run.run_through` (the load generator
through HAProxy to three ``mlfleet serve`` replicas). The simulator replays the same
arrivals and session keys through :func:`~mlfleet.serving.fleet.sim_fleet.simulate_fleet`,
calibrated on that run's own batch times and its overhead outside the batchers (client,
HAProxy, HTTP): what is under test is the balancer and the queueing, as in the serving
chapter's trace-driven calibration (docs/serving-calibration.md).

Agreement means p50 and the load spread within the tolerance, and p99 within it or
inside the 95 % prediction interval of :mod:`~mlfleet.serving.fleet.p99_interval` (the
real run's own block-bootstrap error and the simulator's, around the simulator's p99):
a p99 of a few seconds of traffic on a shared host is set by a few stalls.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass

import numpy as np

from mlfleet.serving.calibrate.experiment import closed_loop_throughput
from mlfleet.serving.calibrate.lateness import DispatchLateness
from mlfleet.serving.calibrate.overhead import OverheadModel, pct
from mlfleet.serving.calibrate.service import ServiceTimeModel, SpeedTrace
from mlfleet.serving.calibrate.simulate import (
    BatchTiming,
    DrawnBatchTime,
    TracedBatchTime,
)
from mlfleet.serving.fleet.launcher import Fleet
from mlfleet.serving.fleet.p99_interval import p99_prediction_interval
from mlfleet.serving.fleet.real_run import FleetRun, pooled, run_through
from mlfleet.serving.fleet.sim_fleet import TimingOf, simulate_fleet
from mlfleet.serving.loadgen import arrival_trace, run_closed_loop_async
from mlfleet.serving.loadgen_spec import LoadSpec

Interval = tuple[float, float]


def relative_error(predicted: float, measured: float) -> float:
    """``|predicted - measured| / measured``."""
    return abs(predicted - measured) / measured if measured else math.inf


def spread(shares: tuple[float, ...]) -> float:
    """Load spread: the busiest replica's share over the idlest's (1 is perfectly even)."""
    return max(shares) / min(shares) if min(shares) > 0 else math.inf


def _inside(value: float, interval: Interval) -> bool:
    return interval[0] <= value <= interval[1]


@dataclass(frozen=True, kw_only=True)
class PointComparison:
    """One (policy, load) point of the sim-vs-real table."""

    balance: str
    load_fraction: float
    rate_rps: float
    requests: int
    """Successful requests in the real run."""
    real_p50_s: float
    real_p99_s: float
    real_shares: tuple[float, ...]
    sim_p50_s: float
    sim_p99_s: float
    sim_shares: tuple[float, ...]
    sim_p99_interval_s: Interval
    """Where the real p99 should fall if the simulator is right, 95 %."""

    @property
    def p50_error(self) -> float:
        return relative_error(self.sim_p50_s, self.real_p50_s)

    @property
    def p99_error(self) -> float:
        return relative_error(self.sim_p99_s, self.real_p99_s)

    @property
    def spread_error(self) -> float:
        return relative_error(spread(self.sim_shares), spread(self.real_shares))

    def p99_agrees(self, tolerance: float) -> bool:
        """Within ``tolerance`` or inside the prediction interval."""
        return self.p99_error <= tolerance or _inside(self.real_p99_s, self.sim_p99_interval_s)

    def agrees(self, tolerance: float = 0.2) -> bool:
        """p50 and spread within ``tolerance``, p99 within it or inside the interval."""
        return (self.p50_error <= tolerance and self.p99_agrees(tolerance)
                and self.spread_error <= tolerance)


def measure_capacity_rps(fleet: Fleet, *, duration_s: float = 1.5, concurrency: int = 48,
                         windows: int = 2, seed: int = 0) -> float:
    """The fleet's saturation throughput through HAProxy: ``concurrency`` closed-loop
    clients for ``windows`` runs of ``duration_s``, the *lowest* of them. On a shared host
    a window can catch the other processes idle; taking the best one would make "60 %"
    of a capacity the host cannot sustain a moment later an overload."""
    spec = LoadSpec(url=fleet.url + "/v1/rank", rate_rps=1.0, duration_s=duration_s, seed=seed)
    return min(closed_loop_throughput(asyncio.run(run_closed_loop_async(
        spec, concurrency=concurrency)), duration_s=duration_s) for _ in range(windows))


def batch_timing(real: FleetRun, *, traced: bool) -> TimingOf:
    """Batch times from the run's own batches: drawn from their pooled distribution, or
    (``traced``) each replica's mean time per size at the pace that replica's machine
    showed at that moment of the run (contention from other processes included), started
    as late after it was due as that replica's batcher was then
    (:class:`~mlfleet.serving.calibrate.lateness.DispatchLateness`)."""
    service = ServiceTimeModel.fit(pooled(real.batches))
    if not traced:
        return lambda _i, rng: DrawnBatchTime(service, rng)
    t0_s, records = real.run.t0_s, real.run.records
    timings = [TracedBatchTime(service, SpeedTrace.measure(b, service, t0_s=t0_s),
                              DispatchLateness.measure(records, b, t0_s=t0_s, policy=real.policy))
              for b in real.batches]

    def timing_of(i: int, _rng: np.random.Generator) -> BatchTiming:
        return timings[i]
    return timing_of


def compare_point(fleet: Fleet, *, load_fraction: float, capacity_rps: float,
                  duration_s: float, seed: int, replications: int = 20,
                  traced: bool = True) -> PointComparison:
    """Run the real fleet at ``load_fraction`` of ``capacity_rps`` and simulate the same."""
    spec = LoadSpec(url=fleet.url + "/v1/rank", rate_rps=load_fraction * capacity_rps,
                    duration_s=duration_s, seed=seed)
    return compare_run(run_through(fleet, spec), balance=fleet.spec.balance,
                       load_fraction=load_fraction, replications=replications, traced=traced)


def compare_run(real: FleetRun, *, balance: str, load_fraction: float, replications: int = 20,
                traced: bool = True) -> PointComparison:
    """Simulate the real run ``real`` (batch timing per :func:`batch_timing`) and compare."""
    ok = [r for r in real.run.records if r.status == "200"]
    latency = np.array([r.latency_s for r in ok])
    counts = np.array(real.requests_by_replica, dtype=np.float64)
    pred = simulate_fleet(arrival_trace(real.spec), real.users, balance=balance,
                          replicas=len(real.batches), policy=real.policy,
                          timing_of=batch_timing(real, traced=traced),
                          overhead=OverheadModel.of_run(real.run.records),
                          replications=replications, seed=real.spec.seed)
    return PointComparison(
        balance=balance, load_fraction=load_fraction, rate_rps=real.spec.rate_rps,
        requests=len(ok), real_p50_s=pct(latency, 50), real_p99_s=pct(latency, 99),
        real_shares=tuple(float(c) for c in counts / counts.sum()),
        sim_p50_s=pred.p50_s, sim_p99_s=pred.p99_s, sim_shares=pred.shares,
        sim_p99_interval_s=p99_prediction_interval(
            sim_p99_s=pred.p99_s, sim_replication_p99s_s=pred.replication_p99s_s,
            real_latency_s=latency, real_times_s=np.array([r.intended_s for r in ok]),
            rng=np.random.default_rng([real.spec.seed, 99])))

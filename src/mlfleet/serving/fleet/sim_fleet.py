"""The serving simulator configured as the real fleet: N server replicas behind the
load balancer that matches HAProxy's ``balance``.

Each replica is the calibration's :class:`~mlfleet.serving.calibrate.simulate.ServerReplica`
(the server's dynamic batcher: its max batch and max queue delay) with batch times drawn
from a measured :class:`~mlfleet.serving.calibrate.service.ServiceTimeModel`. What lies
outside the batchers — the client, HAProxy's proxying and the HTTP stack — is added
as measured per-request overhead (:class:`~mlfleet.serving.calibrate.overhead.OverheadModel`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mlfleet.serving.calibrate.client import BatchingPolicy
from mlfleet.serving.calibrate.overhead import OverheadModel, pct
from mlfleet.serving.calibrate.simulate import BatchTiming, ServerReplica
from mlfleet.serving.fleet.spec import SESSION_KEY
from mlfleet.serving.lb.registry import make_load_balancer
from mlfleet.serving.policy import LoadBalancer
from mlfleet.serving.sim.arrivals.stream import RequestStream
from mlfleet.serving.sim.engine import Engine

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
TimingOf = Callable[[int, np.random.Generator], BatchTiming]
"""Batch timing of replica ``i`` in a replication drawing from the generator."""

SIM_BALANCERS: dict[str, tuple[str, dict[str, Any]]] = {
    "random2": ("haproxy_random", {"draws": 2}),
    "leastconn": ("least_outstanding", {}),
    "roundrobin": ("round_robin", {}),
    "hash": ("haproxy_chash", {"hash_by": SESSION_KEY}),
}
"""Our HAProxy policy name -> the simulator's load balancer and its parameters. ``hash``
and ``random2`` look keys and random draws up on HAProxy's own consistent-hash ring
(:mod:`mlfleet.serving.lb.haproxy_chash`; replica i is server ``id`` i+1, weight 1, as
:func:`~mlfleet.serving.fleet.haproxy_config.render_config` writes it), so a key goes to
the replica HAProxy picks and a random draw lands on a replica with the probability of
its arc of HAProxy's ring."""


def sim_balancer(balance: str) -> LoadBalancer:
    """A fresh simulator load balancer matching HAProxy's ``balance``."""
    name, params = SIM_BALANCERS[balance]
    return make_load_balancer(name, **params)


@dataclass(frozen=True, kw_only=True)
class FleetPrediction:
    """Client-visible latency and load spread, pooled over replications."""

    p50_s: float
    p99_s: float
    shares: tuple[float, ...]
    """Fraction of completed requests each replica served (mean over replications)."""
    latency_s: FloatArray
    """The pooled latencies (for quantile intervals)."""
    replication_p99s_s: FloatArray
    """The p99 of each replication (a run as long as the real one)."""


def _one(arrival_s: FloatArray, users: IntArray, *, balance: str, replicas: int,
         policy: BatchingPolicy, timing_of: TimingOf, overhead: OverheadModel,
         rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    ones = np.ones(arrival_s.size, dtype=np.int64)
    stream = RequestStream(arrival_s=arrival_s, prompt_tokens=ones, output_tokens=ones,
                           user=users)
    fleet = [ServerReplica(policy=policy, timing=timing_of(i, rng)) for i in range(replicas)]
    result = Engine(requests=stream, replicas=fleet, rng=rng, lb=sim_balancer(balance)).run()
    ok = result.done
    latency = result.e2e_s[ok] + overhead.for_requests(np.flatnonzero(ok), rng)
    counts = np.bincount(result.replica[ok], minlength=replicas).astype(np.float64)
    return latency, counts / max(counts.sum(), 1.0)


def simulate_fleet(arrival_s: FloatArray, users: IntArray, *, balance: str, replicas: int,
                   policy: BatchingPolicy, timing_of: TimingOf, overhead: OverheadModel,
                   replications: int, seed: int) -> FleetPrediction:
    """Replay ``arrival_s`` with session keys ``users`` ``replications`` times, each with
    ``numpy.random.default_rng([seed, replication])`` (random draws, batch times and
    overheads differ; the keys, like HAProxy's ring, stay)."""
    latencies, shares = [], []
    for rep in range(replications):
        rng = np.random.default_rng([seed, rep])
        latency, share = _one(arrival_s, users, balance=balance, replicas=replicas,
                              policy=policy, timing_of=timing_of, overhead=overhead, rng=rng)
        latencies.append(latency)
        shares.append(share)
    lat, per_rep = np.concatenate(latencies), np.array(shares)
    return FleetPrediction(p50_s=pct(lat, 50), p99_s=pct(lat, 99),
                           shares=tuple(float(s) for s in per_rep.mean(axis=0)),
                           latency_s=lat,
                           replication_p99s_s=np.array([pct(x, 99) for x in latencies]))

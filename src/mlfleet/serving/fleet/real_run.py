"""One open-loop run of the real load generator through HAProxy, with what each replica did.

Around the run, the fleet is read twice: HAProxy's per-server request counters (the load
spread) and each replica's batch log (``/v1/stats``: the service times the simulator is
calibrated with). The arrival times and session keys are the load generator's own seeded
trace, so the simulator can replay exactly what was sent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.serving.calibrate.client import (
    BatchingPolicy,
    BatchSamples,
    HttpServerClient,
    get_json,
)
from mlfleet.serving.fleet.launcher import Fleet
from mlfleet.serving.loadgen import LoadRun, run_load
from mlfleet.serving.loadgen_spec import LoadSpec

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, kw_only=True)
class FleetRun:
    """What one run sent, what came back and where HAProxy sent it."""

    spec: LoadSpec
    """The load generator's run (rate, duration, seed, ``/v1/rank`` through HAProxy)."""
    run: LoadRun
    """One record per scheduled arrival (status, latency, ``Server-Timing``)."""
    requests_by_replica: tuple[int, ...]
    """Requests HAProxy sent to each replica during the run (``stot`` deltas)."""
    batches: tuple[BatchSamples, ...]
    """Each replica's rank batches during the run (server clock = the run's clock)."""
    policy: BatchingPolicy
    """The replicas' rank batching settings (all alike)."""
    users: IntArray
    """The session key (``user``) of each arrival, in arrival order."""
    n_users: int
    """The load generator draws each arrival's user uniformly from ``range(n_users)``."""


def pooled(parts: tuple[BatchSamples, ...]) -> BatchSamples:
    """Several replicas' batches as one sample (for one service-time model)."""
    return BatchSamples(size=np.concatenate([p.size for p in parts]),
                        cycle_s=np.concatenate([p.cycle_s for p in parts]),
                        dispatched_s=np.concatenate([p.dispatched_s for p in parts]),
                        last_seq=-1)


def trace_users(spec: LoadSpec, *, n_users: int, n_items: int) -> IntArray:
    """The ``user`` of every arrival the load generator schedules for ``spec``."""
    from mlfleet.serving.loadgen import arrivals  # the generator's own trace, not a copy

    limits = {"n_users": n_users, "n_items": n_items}
    return np.array([payload["user"] for _, payload in arrivals(spec, limits)],
                    dtype=np.int64)


def run_through(fleet: Fleet, spec: LoadSpec) -> FleetRun:
    """Drive ``spec`` (its URL must be the fleet's ``/v1/rank``) and collect the fleet's view."""
    clients = [HttpServerClient(r.url) for r in fleet.replicas]
    since = [c.batches().last_seq for c in clients]
    before = [s.sessions_total for s in fleet.stats()]
    run = run_load(spec)
    after = [s.sessions_total for s in fleet.stats()]
    info = clients[0]
    ranker = get_json(info.base_url + "/v1/info")["config"]["ranker"]
    return FleetRun(
        spec=spec, run=run,
        requests_by_replica=tuple(b - a for a, b in zip(before, after, strict=True)),
        batches=tuple(c.batches(since=s) for c, s in zip(clients, since, strict=True)),
        policy=info.policy(),
        users=trace_users(spec, n_users=int(ranker["n_users"]), n_items=int(ranker["n_items"])),
        n_users=int(ranker["n_users"]))

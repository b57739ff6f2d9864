"""The serving simulator's prediction of a chaos run, configured like the real fleet.

Same arrival trace (the load generator's seeded Poisson times), the same number of
replicas, the simulator's balancer for HAProxy's (``random(2)`` -> two independent
draws, :mod:`.haproxy_random`; ``leastconn`` -> least outstanding; ``roundrobin`` and
``hash`` without a session key -> round robin), request-level replicas whose service demands are drawn from the run's
own baseline latencies (calibration: measured on this machine before the first fault).

Faults map onto the engine's hooks (:mod:`mlfleet.serving.sim.engine`,
:mod:`mlfleet.serving.deploy.failures`) with HAProxy's detection times:

* ``kill`` — the replica dies at once: a refused connection is retried on another
  replica (``option redispatch``) and requests it held fail over (``retry-on
  empty-response``); ``restart`` brings it back after the measured restart time plus
  ``rise`` passing probes;
* ``stop`` — it accepts but makes no progress (speed ≈ 0): the balancer still sees it,
  with its growing count of outstanding requests, until the probes have timed out
  ``fall`` times (:func:`detection_s`); then its requests fail over; ``cont`` brings it
  back after ``rise`` probes;
* ``slow`` — speed 1/factor until ``fast``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.reliability.chaos.faults import UNDOES, FaultStep
from mlfleet.reliability.chaos.haproxy_random import HaproxyRandomBalancer
from mlfleet.serving.lb.registry import make_load_balancer
from mlfleet.serving.policy import LoadBalancer
from mlfleet.serving.sim.arrivals.stream import RequestStream
from mlfleet.serving.sim.engine import Engine
from mlfleet.serving.sim.replicas.request_level import RequestLevelReplica

FloatArray = npt.NDArray[np.float64]
SIM_BALANCER = {"leastconn": "least_outstanding", "roundrobin": "round_robin",
                "hash": "round_robin"}
"""The simulator's balancer for each HAProxy policy but ``random2`` (HAProxy's own
independent draws, :mod:`.haproxy_random`)."""
PAUSED_SPEED = 1e-9
"""Speed of a SIGSTOPped replica in the simulator: a request it starts never ends."""


@dataclass(frozen=True, kw_only=True)
class HealthCheck:
    """HAProxy's probe settings (``inter``, ``fall``, ``rise``, ``timeout check``)."""

    inter_s: float
    fall: int
    rise: int
    timeout_s: float


def detection_s(action: str, check: HealthCheck) -> float:
    """Expected seconds from a fault until HAProxy stops sending the replica requests.

    ``kill``: 0 — a refused connection fails at once and is redispatched. ``stop``: the
    next probe starts within ``inter`` (inter/2 expected), and ``fall`` probes must each
    time out, ``inter`` apart: inter/2 + fall·timeout + (fall − 1)·inter (HAProxy
    configuration manual, ``inter``/``fall``/``timeout check``). ``slow``: never (its
    probes pass).
    """
    if action == "kill":
        return 0.0
    if action == "stop":
        return check.inter_s / 2 + check.fall * check.timeout_s + (check.fall - 1) * check.inter_s
    return float("inf")


def rejoin_s(check: HealthCheck) -> float:
    """Seconds from a replica being able to answer until HAProxy sends it requests
    again: ``rise`` passing probes ``inter`` apart, rise × inter (measured on this
    machine: 1.00–1.24 s for rise 2 × inter 0.5 s, docs/serving-chaos.md)."""
    return check.rise * check.inter_s


@dataclass(frozen=True, kw_only=True)
class SimRecords:
    """The simulator's per-request records, shaped like the client's."""

    intended_s: FloatArray
    latency_s: FloatArray
    ok: npt.NDArray[np.bool_]
    replica: npt.NDArray[np.int16]


def predict(*, arrival_s: FloatArray, baseline_latency_s: FloatArray, replicas: int,
            balance: str, steps: Sequence[FaultStep], check: HealthCheck, slow_factor: float,
            restart_s: float, seed: int) -> SimRecords:
    """Simulate the run (see the module docstring); ``restart_s`` is the measured time
    from a restart command until the replica said it was ready."""
    rng = np.random.default_rng([seed, 7])
    n = arrival_s.size
    stream = RequestStream(arrival_s=arrival_s, prompt_tokens=np.ones(n, dtype=np.int64),
                           output_tokens=np.ones(n, dtype=np.int64),
                           service_s=rng.choice(baseline_latency_s, size=n))
    fleet = [RequestLevelReplica(servers=1) for _ in range(replicas)]
    engine = Engine(requests=stream, replicas=fleet, rng=rng,
                    lb=_balancer(balance))
    for k, step in enumerate(steps):
        _schedule(engine, fleet, step, check=check, slow_factor=slow_factor,
                  restart_s=restart_s, cont_s=_undo_time(steps, k))
    res = engine.run()
    return SimRecords(intended_s=res.arrival_s, latency_s=res.e2e_s, ok=res.done,
                      replica=res.replica.astype(np.int16))


def _balancer(balance: str) -> LoadBalancer:
    if balance == "random2":
        return HaproxyRandomBalancer(draws=2)
    return make_load_balancer(SIM_BALANCER[balance])


def _undo_time(steps: Sequence[FaultStep], k: int) -> float:
    """Time of the step that undoes ``steps[k]`` on its replica (inf: none)."""
    later = (s for s in steps[k + 1:] if s.replica == steps[k].replica
             and UNDOES.get(s.action) == steps[k].action)
    return next((s.at_s for s in later), float("inf"))


def _set_speed(fleet: Sequence[RequestLevelReplica], r: int,
               speed: float) -> Callable[[Engine], None]:
    def apply(_engine: Engine) -> None:
        fleet[r].speed = speed
    return apply


def _schedule(engine: Engine, fleet: Sequence[RequestLevelReplica], step: FaultStep, *,
              check: HealthCheck, slow_factor: float, restart_s: float,
              cont_s: float) -> None:
    r, t = step.replica, step.at_s
    if step.action == "kill":
        engine.kill_replica(r, at_s=t)
    elif step.action == "restart":
        engine.revive_replica(r, at_s=t + restart_s + rejoin_s(check))
    elif step.action == "stop":
        engine.call_at(t, _set_speed(fleet, r, PAUSED_SPEED))
        detected_s = t + detection_s("stop", check)
        # Its requests move on at detection (HAProxy marks it DOWN, they fail over) or,
        # resumed before that, at the resume (where the real ones are answered late).
        engine.kill_replica(r, at_s=min(detected_s, cont_s))
        if cont_s < detected_s:
            engine.revive_replica(r, at_s=cont_s)
    elif step.action == "cont":
        engine.call_at(t, _set_speed(fleet, r, 1.0))
        engine.revive_replica(r, at_s=max(t, t + rejoin_s(check)))
    else:  # slow, fast
        speed = 1.0 / slow_factor if step.action == "slow" else 1.0
        engine.call_at(t, _set_speed(fleet, r, speed))

"""The serving simulator's prediction of a chaos run, configured like the real fleet.

Same arrival trace (the load generator's seeded Poisson times), the same number of
replicas, the simulator's balancer for HAProxy's (``random(2)`` -> two independent
draws on HAProxy's own ring,
:class:`~mlfleet.serving.lb.haproxy_chash.HaproxyRingRandomBalancer`; ``leastconn`` -> least outstanding; ``roundrobin`` and
``hash`` without a session key -> round robin), request-level replicas whose service demands are drawn from the run's
own baseline latencies (calibration: measured on this machine before the first fault).

Faults map onto the engine's hooks (:mod:`mlfleet.serving.sim.engine`,
:mod:`mlfleet.serving.deploy.failures`) with HAProxy's detection times:

* ``kill`` — the replica dies at once: a refused connection is retried on another
  replica (``option redispatch``) and requests it held fail over (``retry-on
  empty-response``); ``restart`` brings it back after the measured restart time plus
  ``rise`` passing probes. Without HAProxy retries (``redispatch=False``) the dead
  replica is a black hole until the probes mark it down (:func:`marked_down_s`): it
  stays in the balancer with nothing outstanding, and every request it held or is sent
  fails (the simulator answers them at once and :func:`predict` marks them failed);
* ``drain`` — it serves on, and HAProxy stops sending once ``fall`` readiness probes
  have failed (:func:`marked_down_s`); what it holds then is finished; nothing fails;
* ``stop`` — it accepts but makes no progress (speed ≈ 0): the balancer still sees it,
  with its growing count of outstanding requests, until the probes have timed out
  ``fall`` times (:func:`detection_s`); then HAProxy sends it nothing new, but the
  requests it accepted stay on it (HAProxy does not redispatch a request a server has
  taken) and are served from ``cont`` on; ``cont`` brings it back into rotation after
  ``rise`` probes;
* ``slow`` — speed 1/factor until ``fast``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.reliability.chaos.faults import UNDOES, FaultStep
from mlfleet.reliability.chaos.injector import SLOW_PERIOD_S
from mlfleet.serving.lb.haproxy_chash import HaproxyRingRandomBalancer
from mlfleet.serving.lb.registry import make_load_balancer
from mlfleet.serving.policy import LoadBalancer
from mlfleet.serving.sim.arrivals.stream import RequestStream
from mlfleet.serving.sim.engine import Engine
from mlfleet.serving.sim.replicas.request_level import RequestLevelReplica

FloatArray = npt.NDArray[np.float64]
SIM_BALANCER = {"leastconn": "least_outstanding", "roundrobin": "round_robin",
                "hash": "round_robin"}
"""The simulator's balancer for each HAProxy policy but ``random2`` (HAProxy's own
independent draws on its ring, ``HaproxyRingRandomBalancer``)."""
PAUSED_SPEED = 1e-9
"""Speed of a SIGSTOPped replica in the simulator: a request it starts never ends."""
BLACK_HOLE_SPEED = 1e9
"""Speed of a dead replica HAProxy still routes to: its requests end (fail) at once."""


@dataclass(frozen=True, kw_only=True)
class HealthCheck:
    """HAProxy's probe settings (``inter``, ``fall``, ``rise``, ``timeout check``)."""

    inter_s: float
    fall: int
    rise: int
    timeout_s: float


def marked_down_s(check: HealthCheck, *, probe_s: float, phase_s: float | None = None) -> float:
    """Seconds from a fault until HAProxy's probes mark the replica DOWN.

    The next probe starts ``phase_s`` after the fault (the probe cycle's phase: uniform
    over [0, inter), inter/2 expected when None); ``fall`` probes must fail, each taking
    ``probe_s`` (``timeout check`` for a paused replica, ~0 for a refused connection or
    a 503), ``inter`` apart: phase + fall·probe + (fall − 1)·inter (HAProxy configuration
    manual, ``inter``/``fall``/``timeout check``).
    """
    phase = check.inter_s / 2 if phase_s is None else phase_s
    return phase + check.fall * probe_s + (check.fall - 1) * check.inter_s


def detection_s(action: str, check: HealthCheck, *, phase_s: float | None = None,
                redispatch: bool = True) -> float:
    """Seconds from a fault until HAProxy stops sending the replica requests.

    ``kill`` with ``redispatch``: 0 — a refused connection fails at once and is retried
    on another replica; without it, and for ``drain`` (readiness 503), the probes fail at
    once: :func:`marked_down_s` with probe 0. ``stop``: each probe times out.
    ``slow``: never (its probes pass). ``phase_s``: the probe cycle's phase (None: the
    expectation, inter/2)."""
    if action == "kill" and redispatch:
        return 0.0
    if action in ("kill", "drain"):
        return marked_down_s(check, probe_s=0.0, phase_s=phase_s)
    if action == "stop":
        return marked_down_s(check, probe_s=check.timeout_s, phase_s=phase_s)
    return float("inf")


def detection_range_s(action: str, check: HealthCheck, *,
                      redispatch: bool = True) -> tuple[float, float]:
    """:func:`detection_s` at the probe phase's two ends, 0 and ``inter``."""
    return (detection_s(action, check, phase_s=0.0, redispatch=redispatch),
            detection_s(action, check, phase_s=check.inter_s, redispatch=redispatch))


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
            restart_s: float, seed: int, redispatch: bool = True,
            phases_s: Sequence[float | None] = (), batch_slots: int = 1,
            work_fraction: float = 1.0) -> SimRecords:
    """Simulate the run (see the module docstring); ``restart_s`` is the measured time
    from a restart command until the replica said it was ready; ``redispatch``: HAProxy
    retries a refused or dropped request on another replica; ``phases_s[k]``: the probe
    phase at ``steps[k]`` (None or absent: the expectation, inter/2); ``batch_slots``:
    requests a replica serves at once (the server's ``--max-batch``: its batch takes
    about as long for 8 requests as for 1, so they do not queue behind each other);
    ``work_fraction``: the share of a request's latency spent in the replica process (the
    rest, client and HAProxy, is not stretched by a ``slow`` duty cycle)."""
    rng = np.random.default_rng([seed, 7])
    n = arrival_s.size
    stream = RequestStream(arrival_s=arrival_s, prompt_tokens=np.ones(n, dtype=np.int64),
                           output_tokens=np.ones(n, dtype=np.int64),
                           service_s=rng.choice(baseline_latency_s, size=n))
    fleet = [RequestLevelReplica(servers=batch_slots) for _ in range(replicas)]
    engine = Engine(requests=stream, replicas=fleet, rng=rng,
                    lb=_balancer(balance))
    react = _Reaction(check=check, restart_s=restart_s, redispatch=redispatch)
    effects = [_schedule(engine, fleet, step, react=react, cont_s=_undo_time(steps, k),
                       phase_s=phases_s[k] if k < len(phases_s) else None)
             for k, step in enumerate(steps)]
    res = engine.run()
    ok, latency_s = res.done.copy(), res.e2e_s.copy()
    end_s = res.arrival_s + np.nan_to_num(res.e2e_s, nan=np.inf)
    for kind, r, start_s, until_s in (e for e in effects if e is not None):
        mine = res.replica == r
        if kind == "hole":
            ok &= ~(mine & (end_s >= start_s) & (res.arrival_s < until_s))
        else:
            hit = mine & (res.arrival_s >= start_s) & (res.arrival_s < until_s)
            work_s = work_fraction * latency_s[hit]
            latency_s[hit] += duty_cycle_latency_s(res.arrival_s[hit] - start_s, work_s,
                                                   slow_factor=slow_factor) - work_s
    return SimRecords(intended_s=res.arrival_s, latency_s=latency_s, ok=ok,
                      replica=res.replica.astype(np.int16))


def duty_cycle_latency_s(since_slow_s: FloatArray, work_s: FloatArray, *, slow_factor: float,
                         period_s: float = SLOW_PERIOD_S) -> FloatArray:
    """Time a request takes on a duty-cycled replica: it arrives ``since_slow_s`` after
    the cycle began and needs ``work_s`` of the process's running time; the process is
    stopped for the first ``P·(1 − 1/f)`` of every period ``P`` and runs for ``R = P/f``.

    Wait out the pause if it arrives in one; the running window's rest holds
    ``R − pos``; the remaining ``w'`` needs ``n = ⌈w'/R⌉`` more windows, each behind a
    pause: elapsed = wait + min(w, R − pos) + n·pause + w' (0 pauses when it fits).
    """
    paused_s, run_s = period_s * (1.0 - 1.0 / slow_factor), period_s / slow_factor
    phase_s = np.mod(since_slow_s, period_s)
    wait_s = np.maximum(0.0, paused_s - phase_s)
    pos_s = np.maximum(0.0, phase_s - paused_s)
    first_s = np.minimum(work_s, run_s - pos_s)
    rest_s = work_s - first_s
    windows = np.ceil(rest_s / run_s - 1e-12)
    out: FloatArray = wait_s + first_s + windows * paused_s + rest_s
    return out


@dataclass(frozen=True, kw_only=True)
class _Reaction:
    """How the fleet reacts to a fault: probes, HAProxy retries, restart."""

    check: HealthCheck
    restart_s: float
    redispatch: bool


def _balancer(balance: str) -> LoadBalancer:
    if balance == "random2":
        return HaproxyRingRandomBalancer(draws=2)
    return make_load_balancer(SIM_BALANCER[balance])


def _undo_time(steps: Sequence[FaultStep], k: int) -> float:
    """Time of the step that undoes ``steps[k]`` on its replica (inf: none)."""
    later = (s for s in steps[k + 1:] if s.replica == steps[k].replica
             and steps[k].action in UNDOES.get(s.action, ()))
    return next((s.at_s for s in later), float("inf"))


def _set_speed(fleet: Sequence[RequestLevelReplica], r: int,
               speed: float) -> Callable[[Engine], None]:
    def apply(_engine: Engine) -> None:
        fleet[r].speed = speed
    return apply


Effect = tuple[str, int, float, float]
"""``("hole" | "duty", replica, from, until)``: its requests in between fail (a black
hole) or wait out the duty cycle's pause."""


def _schedule(engine: Engine, fleet: Sequence[RequestLevelReplica], step: FaultStep, *,
              react: _Reaction, cont_s: float, phase_s: float | None) -> Effect | None:
    r, t, check = step.replica, step.at_s, react.check
    if step.action == "kill" and not react.redispatch:
        return _black_hole(engine, fleet, r, t, down_s=t + detection_s(
            "kill", check, phase_s=phase_s, redispatch=False))
    if step.action == "kill":
        engine.kill_replica(r, at_s=t + detection_s(step.action, check, phase_s=phase_s))
    elif step.action == "drain":
        engine.drain_replica(r, at_s=t + detection_s(step.action, check, phase_s=phase_s))
    elif step.action == "restart":
        engine.revive_replica(r, at_s=t + react.restart_s + rejoin_s(check))
    elif step.action == "stop":
        _stop(engine, fleet, r, t, detected_s=t + detection_s("stop", check, phase_s=phase_s),
              cont_s=cont_s)
    elif step.action == "cont":
        engine.call_at(t, _resume(fleet, r))
        engine.revive_replica(r, at_s=t + rejoin_s(check))
    elif step.action == "slow":
        return "duty", r, t, cont_s
    return None  # fast: the duty window ends


def _black_hole(engine: Engine, fleet: Sequence[RequestLevelReplica], r: int, t: float, *,
                down_s: float) -> Effect:
    """Replica ``r`` is dead from ``t`` but routed to until ``down_s``: it answers at once
    (nothing outstanding, as a refused connection leaves HAProxy's count) and the caller
    marks those answers failed."""
    engine.call_at(t, _set_speed(fleet, r, BLACK_HOLE_SPEED))
    engine.kill_replica(r, at_s=down_s)
    engine.call_at(down_s, _set_speed(fleet, r, 1.0))  # a restarted replica runs normally
    return "hole", r, t, down_s


def _stop(engine: Engine, fleet: Sequence[RequestLevelReplica], r: int, t: float, *,
          detected_s: float, cont_s: float) -> None:
    """Paused from ``t``; HAProxy sends it nothing new from ``detected_s`` (if before the
    resume) while what it accepted waits on it for ``cont`` (:func:`_resume`)."""
    engine.call_at(t, _set_speed(fleet, r, PAUSED_SPEED))
    if detected_s < cont_s:
        engine.drain_replica(r, at_s=detected_s)


def _resume(fleet: Sequence[RequestLevelReplica], r: int) -> Callable[[Engine], None]:
    """SIGCONT: the replica runs at full speed again and serves, in arrival order, every
    request it accepted while paused (their service starts now: no work was done)."""
    def apply(engine: Engine) -> None:
        replica = fleet[r]
        held = replica.evict(engine.now_s)  # at the paused speed: gives its busy time back
        replica.speed = 1.0
        for rid in held:
            replica.enqueue(rid, engine.now_s)
    return apply

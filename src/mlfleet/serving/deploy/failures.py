"""Replica failures in the serving simulator: at given times or at a rate.

A failure kills a replica (:meth:`Engine.kill_replica`): its queued and in-flight
requests fail over to the surviving replicas through the load balancer (their
``attempts`` grow; the work done on them is lost). What happens to the dead replica's
session state (conversations' KV caches) is a parameter:

* ``lost`` — the caches die with it; the next turn of each session is prefilled again
  wherever it lands (the engine's default);
* ``migrated`` — the caches were replicated or are moved out in time: each session
  is handed to a survivor (spread evenly, least-loaded first) before the requests
  fail over, so a KV-aware balancer keeps routing the conversation to its cache. The
  transfer time is not modelled.

Failures at a rate: each replica's time to failure is exponential with mean
``mtbf_s`` (memoryless, the constant-hazard model of the Fault Tolerance chapter);
with ``repair_s`` it comes back empty after that long and may fail again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from mlfleet.checks import non_negative, one_of, positive
from mlfleet.errors import PolicyConfigError

if TYPE_CHECKING:
    from mlfleet.serving.sim.engine import Engine

SESSION_STATES = ("lost", "migrated")


@dataclass(frozen=True, kw_only=True)
class ReplicaFailure:
    """Replica ``replica`` dies at ``at_s`` and, with ``repair_s``, revives after it."""

    replica: int
    at_s: float
    repair_s: float | None = None
    """Down time before it serves again (empty); None: it stays dead."""

    def __post_init__(self) -> None:
        non_negative("at_s", self.at_s, error=PolicyConfigError)
        if self.repair_s is not None:
            positive("repair_s", self.repair_s, error=PolicyConfigError)


def exponential_failures(*, replicas: Sequence[int], mtbf_s: float, horizon_s: float,
                         rng: np.random.Generator,
                         repair_s: float | None = None) -> list[ReplicaFailure]:
    """Failures before ``horizon_s`` with exponential times to failure of mean ``mtbf_s``.

    Without ``repair_s`` each replica fails at most once; with it, up and down periods
    alternate (Exp(mtbf_s) up, ``repair_s`` down). Sorted by time, then replica.
    """
    positive("mtbf_s", mtbf_s, error=PolicyConfigError)
    positive("horizon_s", horizon_s, error=PolicyConfigError)
    if repair_s is not None:
        positive("repair_s", repair_s, error=PolicyConfigError)
    out: list[ReplicaFailure] = []
    for replica in replicas:
        t = float(rng.exponential(mtbf_s))
        while t < horizon_s:
            out.append(ReplicaFailure(replica=replica, at_s=t, repair_s=repair_s))
            if repair_s is None:
                break
            t += repair_s + float(rng.exponential(mtbf_s))
    return sorted(out, key=lambda f: (f.at_s, f.replica))


class FailureInjector:
    """Schedules failures on an engine, with session state ``lost`` or ``migrated``."""

    def __init__(self, failures: Sequence[ReplicaFailure], *,
                 session_state: str = "lost") -> None:
        self.failures = tuple(failures)
        self.session_state = one_of("session_state", session_state, SESSION_STATES,
                                    error=PolicyConfigError)
        self.migrated: dict[int, int] = {}
        """Session -> the replica it was migrated to (filled during the run)."""

    def apply(self, engine: Engine) -> None:
        """Schedule every failure (and repair) on ``engine`` before it runs."""
        for f in self.failures:
            if self.session_state == "lost":
                engine.kill_replica(f.replica, at_s=f.at_s)
            else:
                engine.call_at(f.at_s, self._migration(f.replica))
            if f.repair_s is not None:
                engine.revive_replica(f.replica, at_s=f.at_s + f.repair_s)

    def _migration(self, index: int) -> Callable[[Engine], None]:
        return lambda engine: self._migrate_then_kill(engine, index)

    def _migrate_then_kill(self, engine: Engine, index: int) -> None:
        dying = engine.replicas[index]
        survivors = sorted((r for r in engine.replicas if r.alive and r.index != index),
                           key=lambda r: (r.outstanding, r.index))
        if dying.alive and survivors:
            for k, session in enumerate(sorted(dying.sessions)):
                target = survivors[k % len(survivors)]
                target.sessions.add(session)
                self.migrated[session] = target.index
        # Scheduled now, it runs right after this callback, at the same instant.
        engine.kill_replica(index, at_s=engine.now_s)

"""The policy contracts of serving: the seams between policies and what runs them.

The simulator (``serving/sim``), the real server (``serving/server``) and every policy
(``serving/lb``, ``serving/admission``, ``serving/deploy``) depend on this module and it
depends on none of them. The simulator (``serving/sim/engine.py``) owns time, replicas and batching. At each
arrival it asks the :class:`Admission` policy whether to admit the request, then the
:class:`LoadBalancer` which replica gets it. Policies see replicas only through
:class:`ReplicaView` and never mutate the simulator. Each policy lives in its own small
module (``serving/lb/power_of_two.py``, ``serving/admission/token_bucket.py``) and is
registered by name in that package's registry, which rejects unknown names listing the
known ones. Randomness comes from the ``rng`` the engine passes in (seeded per run).

Contract details the engine guarantees:

* ``replicas[i].index == i``: a policy always receives the whole fleet in index order
  and returns the ``index`` of its pick. Replicas it must not pick (dead, not yet
  started, or outside the traffic group of this request during a canary split) show
  ``alive == False``.
* ``choose`` is called only when at least one replica in the sequence is alive.
* The :class:`Request` a policy receives is a snapshot built from the engine's
  per-request columns; changing it changes nothing in the simulation.
* A balancer whose choice ignores the request may also offer a :class:`Router`
  (:class:`RoutesBlind`): the engine then routes through it while every alive replica
  is a candidate (no admission, split or mirror), skipping the per-request snapshot.
* A replica may take a :class:`QueueDiscipline` deciding which waiting request it
  serves next (FIFO without one).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(slots=True)
class Request:
    """One request; the engine fills the timing fields as it is served."""

    id: int
    arrival_s: float
    prompt_tokens: int = 1
    """Prompt length (LLM) or 1 for a non-LLM request."""
    output_tokens: int = 1
    """Tokens to generate (LLM) or 1 for a non-LLM request."""
    user: int = 0
    """Tenant / user id (per-user rate limits)."""
    session: int = -1
    """Conversation / session id for affinity and KV-cache reuse; -1 for none."""
    priority: int = 0
    """Priority class: 0 is the highest."""
    key: int = -1
    """Content key of the request (duplicates share it; request coalescing); -1 for none."""
    replica: int = -1
    start_s: float = math.nan
    """When service (prefill) started."""
    first_token_s: float = math.nan
    finish_s: float = math.nan
    status: str = "pending"
    """pending | done | rejected | failed | coalesced"""
    attempts: int = 0
    """Times it was (re)dispatched; > 1 after a fail-over."""
    service_s: float = math.nan
    """Service demand of a non-LLM request on a unit-speed server (e.g. exponential for
    M/M/c); NaN lets the replica's service-time model decide."""
    preemptions: int = 0
    """Times a paged-KV replica preempted it (its KV freed, recomputed later)."""


class ReplicaView(Protocol):
    """What a policy may read about one replica."""

    @property
    def index(self) -> int: ...

    @property
    def alive(self) -> bool: ...

    @property
    def weight(self) -> float:
        """Relative capacity (weighted policies); 1.0 by default."""
        ...

    @property
    def outstanding(self) -> int:
        """Requests queued plus in service on this replica."""
        ...

    @property
    def queued(self) -> int:
        """Requests waiting, not yet in service."""
        ...

    def has_session(self, session: int) -> bool:
        """Whether this replica holds KV cache / state for ``session``."""
        ...


class LoadBalancer(Protocol):
    """Chooses the replica for a request. Must return the index of an alive replica."""

    def choose(self, request: Request, replicas: Sequence[ReplicaView],
               rng: np.random.Generator) -> int: ...

    def on_replicas_changed(self, replicas: Sequence[ReplicaView]) -> None:
        """Called when a replica dies, recovers, or is added (rebuild rings, weights)."""
        ...


class Uniforms(Protocol):
    """A source of U[0, 1) doubles; ``numpy.random.Generator`` is one."""

    def random(self) -> float: ...


Router = Callable[[], int]
"""Returns the index of the replica the next request goes to."""


@runtime_checkable
class RoutesBlind(Protocol):
    """A :class:`LoadBalancer` whose choice ignores the request can offer a fast path.

    While every alive replica is a candidate (no admission, split or mirror), the engine
    asks for a router after each change of the fleet or of that mode, and calls it
    instead of ``choose`` for each request (and each fail-over). The router
    must return exactly what ``choose(request, replicas, rng)`` would for any request,
    drawing the same doubles through ``uniforms.random()`` in the same order (the engine
    hands out the generator's ``random()`` sequence through it) and sharing the
    balancer's state with ``choose``: the two may alternate. ``None``: no fast path for
    this fleet. The request-level lane (``sim/request_lane.py``) calls it the same way,
    reading loads from the same replica objects.
    """

    def router(self, replicas: Sequence[ReplicaView], uniforms: Uniforms) -> Router | None: ...


@dataclass(frozen=True, kw_only=True)
class SystemView:
    """What an admission policy may read about the whole system at an arrival."""

    now_s: float
    queued_total: int
    """Requests waiting across all replicas."""
    outstanding_total: int
    alive_replicas: int
    queued_by_priority: dict[int, int] = field(default_factory=dict)


class QueueDiscipline(Protocol):
    """The order in which one replica serves the requests waiting for it.

    A replica without one serves FIFO. One instance per replica: it holds that
    replica's waiting requests by id.
    """

    def push(self, rid: int, priority: int, now_s: float) -> None:
        """Request ``rid`` of class ``priority`` (0 highest) starts waiting at ``now_s``."""
        ...

    def pop(self) -> int:
        """Remove and return the request to serve next (only called when not empty)."""
        ...

    def __len__(self) -> int: ...

    def drain(self) -> list[int]:
        """Remove and return every waiting request (the replica died)."""
        ...


class Admission(Protocol):
    """Admits or sheds a request at arrival (shed requests get status 'rejected')."""

    def admit(self, request: Request, system: SystemView) -> bool: ...

    def on_finish(self, request: Request, now_s: float) -> None:
        """Called when an admitted request finishes or fails (release slots, tokens)."""
        ...


@runtime_checkable
class Coalescing(Protocol):
    """An :class:`Admission` that may answer a refused request with another's response.

    When ``admit`` refuses a request, the engine asks ``coalesced_into``. Given the id
    of an admitted request still in flight (the leader), the refused one (a follower)
    is never dispatched and is resolved with its leader: status 'coalesced' and the
    leader's finish time when the leader is done (first token at the leader's, or at its
    own arrival if later), or the leader's status ('failed', 'rejected') otherwise.
    """

    def coalesced_into(self, rid: int) -> int | None:
        """The leader whose response answers ``rid``; None if ``rid`` was shed."""
        ...

"""Builders shared by the policy tests: fake replicas and a system view."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlfleet.serving.policy import Request, SystemView


@dataclass
class FakeReplica:
    """A mutable stand-in for the engine's ReplicaView."""

    index: int
    alive: bool = True
    weight: float = 1.0
    outstanding: int = 0
    queued: int = 0
    sessions: set[int] = field(default_factory=set)

    def has_session(self, session: int) -> bool:
        return session in self.sessions


def fleet(n: int, **overrides: Any) -> list[FakeReplica]:
    """``n`` fake replicas, indices 0..n-1, each with ``overrides``."""
    return [FakeReplica(index=i, **overrides) for i in range(n)]


def request(id: int = 0, **overrides: Any) -> Request:
    """A request with id ``id`` arriving at 0 unless overridden."""
    return Request(id=id, arrival_s=overrides.pop("arrival_s", 0.0), **overrides)


def system(**overrides: Any) -> SystemView:
    """An idle one-replica system at time 0 unless overridden."""
    base: dict[str, Any] = dict(now_s=0.0, queued_total=0, outstanding_total=0,
                                alive_replicas=1)
    return SystemView(**(base | overrides))

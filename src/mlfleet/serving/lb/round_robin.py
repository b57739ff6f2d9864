"""Round-robin: replicas in turn, skipping dead ones, so k·n requests give each exactly k.

The cursor is kept per candidate set, so traffic groups routed through the same
balancer (a canary split, shadow copies) each get their own even rotation and do not
shift one another's.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mlfleet.serving.lb.base import PerCandidateSet, alive_indices
from mlfleet.serving.policy import ReplicaView, Request, Router, Uniforms


class Rotation:
    """The round-robin state of one candidate set: who is next after each cursor value
    (tabulated once), and the cursor."""

    __slots__ = ("_alive", "_after", "_cursor")

    def __init__(self, alive: tuple[int, ...]) -> None:
        self._alive = alive
        self._after = [next((i for i in alive if i >= c), alive[0])
                       for c in range(alive[-1] + 2)]
        """``_after[c]``: the first alive replica at or after index c, wrapping."""
        self._cursor = alive[0]

    def next(self) -> int:
        """The replica whose turn it is; the turn moves past it."""
        pick = self._after[self._cursor]
        self._cursor = pick + 1
        return pick

    def ahead(self, count: int) -> list[int]:
        """The next ``count`` turns at once (``count`` calls of :meth:`next`): the
        alive replicas in order, from the one whose turn it is, wrapping."""
        alive = self._alive
        if count <= 0:
            return []
        first = alive.index(self._after[self._cursor])
        picks: list[int] = np.take(alive, (first + np.arange(count)) % len(alive)).tolist()
        self._cursor = picks[-1] + 1
        return picks


class RoundRobinBalancer:
    """Cycles over the alive replicas in index order; load-blind and exactly even."""

    def __init__(self) -> None:
        self._rotations: PerCandidateSet[Rotation] = PerCandidateSet(Rotation)
        """One rotation per candidate set."""

    def choose(self, request: Request, replicas: Sequence[ReplicaView],
               rng: np.random.Generator) -> int:
        """The first alive replica at or after the cursor (wrapping); advances the cursor."""
        return self._rotations.get(tuple(alive_indices(replicas))).next()

    def router(self, replicas: Sequence[ReplicaView], uniforms: Uniforms) -> Router:
        """``choose``'s rotation of this fleet's alive replicas, as a bound method."""
        return self._rotations.get(tuple(alive_indices(replicas))).next

    def routes_ahead(self, replicas: Sequence[ReplicaView], uniforms: Uniforms,
                     count: int) -> list[int]:
        """``count`` turns of :meth:`router`'s rotation at once (no draw)."""
        return self._rotations.get(tuple(alive_indices(replicas))).ahead(count)

    def on_replicas_changed(self, replicas: Sequence[ReplicaView]) -> None:
        """Rotations are per candidate set; a changed set starts its own."""

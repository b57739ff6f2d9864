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

    __slots__ = ("_after", "_cursor")

    def __init__(self, alive: tuple[int, ...]) -> None:
        self._after = [next((i for i in alive if i >= c), alive[0])
                       for c in range(alive[-1] + 2)]
        """``_after[c]``: the first alive replica at or after index c, wrapping."""
        self._cursor = alive[0]

    def next(self) -> int:
        """The replica whose turn it is; the turn moves past it."""
        pick = self._after[self._cursor]
        self._cursor = pick + 1
        return pick


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

    def on_replicas_changed(self, replicas: Sequence[ReplicaView]) -> None:
        """Rotations are per candidate set; a changed set starts its own."""

"""Round-robin: replicas in turn, skipping dead ones, so k·n requests give each exactly k.

The cursor is kept per candidate set, so traffic groups routed through the same
balancer (a canary split, shadow copies) each get their own even rotation and do not
shift one another's.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mlfleet.serving.lb.base import PerCandidateSet, alive_indices
from mlfleet.serving.sim.interfaces import ReplicaView, Request


class RoundRobinBalancer:
    """Cycles over the alive replicas in index order; load-blind and exactly even."""

    def __init__(self) -> None:
        self._next: PerCandidateSet[int] = PerCandidateSet(lambda alive: alive[0])
        """Per candidate set: the index from which the next search starts."""

    def choose(self, request: Request, replicas: Sequence[ReplicaView],
               rng: np.random.Generator) -> int:
        """The first alive replica at or after the cursor (wrapping); advances the cursor."""
        alive = tuple(alive_indices(replicas))
        cursor = self._next.get(alive)
        pick = next((i for i in alive if i >= cursor), alive[0])
        self._next.put(alive, pick + 1)
        return pick

    def on_replicas_changed(self, replicas: Sequence[ReplicaView]) -> None:
        """Cursors are per candidate set; a changed set starts its own."""

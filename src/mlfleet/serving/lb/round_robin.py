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


class RoundRobinBalancer:
    """Cycles over the alive replicas in index order; load-blind and exactly even."""

    def __init__(self) -> None:
        self._next: PerCandidateSet[list[int]] = PerCandidateSet(lambda alive: [alive[0]])
        """Per candidate set: a cell holding the index the next search starts from."""

    def choose(self, request: Request, replicas: Sequence[ReplicaView],
               rng: np.random.Generator) -> int:
        """The first alive replica at or after the cursor (wrapping); advances the cursor."""
        alive = tuple(alive_indices(replicas))
        cursor = self._next.get(alive)
        pick = next((i for i in alive if i >= cursor[0]), alive[0])
        cursor[0] = pick + 1
        return pick

    def router(self, replicas: Sequence[ReplicaView], uniforms: Uniforms) -> Router:
        """``choose`` with its search tabulated per cursor value; same cursor cell."""
        alive = tuple(alive_indices(replicas))
        cursor = self._next.get(alive)
        after = [next((i for i in alive if i >= c), alive[0]) for c in range(alive[-1] + 2)]

        def next_in_turn() -> int:
            pick = after[cursor[0]]
            cursor[0] = pick + 1
            return pick

        return next_in_turn

    def on_replicas_changed(self, replicas: Sequence[ReplicaView]) -> None:
        """Cursors are per candidate set; a changed set starts its own."""

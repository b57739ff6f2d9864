"""Least outstanding requests ("least connections"): the replica with the fewest in flight.

Better than random or round-robin when service times vary (long LLM generations),
because it reacts to load; its cost is reading every replica's load per request, which
:mod:`power_of_two` avoids by sampling two.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import floor

import numpy as np

from mlfleet.serving.lb.base import StatelessBalancer, alive_indices, all_alive, least_loaded
from mlfleet.serving.policy import ReplicaView, Request, Router, Uniforms


class LeastOutstandingBalancer(StatelessBalancer):
    """Picks an alive replica with minimal :attr:`ReplicaView.outstanding` (random tie-break)."""

    def choose(self, request: Request, replicas: Sequence[ReplicaView],
               rng: np.random.Generator) -> int:
        """A least-loaded alive replica."""
        return least_loaded(alive_indices(replicas), replicas, rng)

    def router(self, replicas: Sequence[ReplicaView], uniforms: Uniforms) -> Router:
        """``choose`` with the alive list computed once per fleet; for a healthy fleet,
        :func:`least_loaded` over every replica, inlined."""
        if not all_alive(replicas):
            alive = alive_indices(replicas)
            return lambda: least_loaded(alive, replicas, uniforms)
        fleet, draw = tuple(replicas), uniforms.random

        def least_outstanding() -> int:
            loads = [r.outstanding for r in fleet]
            low = min(loads)
            ties = loads.count(low)
            pick = loads.index(low)
            if ties > 1:  # least_loaded's tie-break: its tied[j], found without building tied
                for _ in range(floor(draw() * ties)):
                    pick = loads.index(low, pick + 1)
            return pick

        return least_outstanding

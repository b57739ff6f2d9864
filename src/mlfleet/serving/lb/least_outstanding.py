"""Least outstanding requests ("least connections"): the replica with the fewest in flight.

Better than random or round-robin when service times vary (long LLM generations),
because it reacts to load; its cost is reading every replica's load per request, which
:mod:`power_of_two` avoids by sampling two.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mlfleet.serving.lb.base import StatelessBalancer, alive_indices, least_loaded
from mlfleet.serving.sim.interfaces import ReplicaView, Request


class LeastOutstandingBalancer(StatelessBalancer):
    """Picks an alive replica with minimal :attr:`ReplicaView.outstanding` (random tie-break)."""

    def choose(self, request: Request, replicas: Sequence[ReplicaView],
               rng: np.random.Generator) -> int:
        """A least-loaded alive replica."""
        return least_loaded(alive_indices(replicas), replicas, rng)

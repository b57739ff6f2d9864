"""Least outstanding requests ("least connections"): the replica with the fewest in flight.

Better than random or round-robin when service times vary (long LLM generations),
because it reacts to load; its cost is reading every replica's load per request, which
:mod:`power_of_two` avoids by sampling two.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np

from mlfleet.serving.lb.base import (
    StatelessBalancer,
    alive_indices,
    all_alive,
    least_loaded,
    least_loaded_position,
)
from mlfleet.serving.policy import ReplicaView, Request, Router, Uniforms


class LeastOutstandingBalancer(StatelessBalancer):
    """Picks an alive replica with minimal :attr:`ReplicaView.outstanding` (random tie-break)."""

    def choose(self, request: Request, replicas: Sequence[ReplicaView],
               rng: np.random.Generator) -> int:
        """A least-loaded alive replica (:func:`~.base.least_loaded`)."""
        return least_loaded(alive_indices(replicas), replicas, rng)

    def router(self, replicas: Sequence[ReplicaView], uniforms: Uniforms) -> Router:
        """``choose``'s decision bound to this fleet's alive replicas (found once) and
        ``uniforms``; for a healthy fleet, where a replica's position is its index,
        :func:`~.base.least_loaded_position` over the whole fleet."""
        if all_alive(replicas):
            return partial(least_loaded_position, tuple(replicas), uniforms)
        return partial(least_loaded, alive_indices(replicas), tuple(replicas), uniforms)

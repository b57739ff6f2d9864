"""KV-cache-aware routing: keep a conversation on the replica that holds its KV cache.

A multi-turn LLM session whose earlier turns' KV cache lives on replica r re-uses it
(prefix caching) only if the next turn lands on r; anywhere else the whole context is
prefilled again. So the policy sends the turn to r unless r is overloaded — more than
``max_imbalance`` outstanding requests above the least-loaded alive replica — and
otherwise, like every request without a cached session, to the least-loaded replica.
The threshold trades a re-prefill (cost of moving) against queueing behind r's backlog.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mlfleet.checks import positive_int
from mlfleet.errors import PolicyConfigError
from mlfleet.serving.lb.base import StatelessBalancer, alive_indices, least_loaded
from mlfleet.serving.policy import ReplicaView, Request


class KvAwareBalancer(StatelessBalancer):
    """Session affinity to the KV-cache holder until it is overloaded; else least-loaded."""

    def __init__(self, *, max_imbalance: int = 8) -> None:
        self.max_imbalance = positive_int("max_imbalance", max_imbalance, minimum=0,
                                          error=PolicyConfigError)
        """Outstanding requests the holder may carry above the least-loaded before moving."""

    def choose(self, request: Request, replicas: Sequence[ReplicaView],
               rng: np.random.Generator) -> int:
        """The session's holder if it has room, else a least-loaded alive replica."""
        alive = alive_indices(replicas)
        fallback = least_loaded(alive, replicas, rng)
        if request.session < 0:
            return fallback
        holder = next((i for i in alive if replicas[i].has_session(request.session)), None)
        if holder is None:
            return fallback
        excess = replicas[holder].outstanding - replicas[fallback].outstanding
        return holder if excess <= self.max_imbalance else fallback

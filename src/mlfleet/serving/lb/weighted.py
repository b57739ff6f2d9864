"""Smooth weighted round-robin (the nginx algorithm): shares proportional to weight.

Each pick adds every alive replica's weight w_i to its credit c_i, takes the replica
with the largest credit and subtracts the total weight W from it. Over any W
consecutive picks with integer weights replica i is chosen exactly w_i times, and the
picks are interleaved (weights 5,1,1 give a a b a c a a, not a a a a a b c).
Source: nginx ``ngx_http_upstream_get_peer`` (smooth weighted round-robin, 2012).
Credits are kept per candidate set (traffic group), so groups do not disturb each other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from mlfleet.checks import positive
from mlfleet.errors import PolicyConfigError
from mlfleet.serving.lb.base import PerCandidateSet, alive_indices
from mlfleet.serving.policy import ReplicaView, Request


class WeightedRoundRobinBalancer:
    """Smooth weighted round-robin over the alive replicas.

    ``weights`` maps replica index to weight and overrides :attr:`ReplicaView.weight`
    (replicas not in it keep their own); every weight must be > 0.
    """

    def __init__(self, *, weights: Mapping[int, float] | None = None) -> None:
        self._weights = {i: positive(f"weights[{i}]", w, error=PolicyConfigError)
                         for i, w in (weights or {}).items()}
        self._credit: PerCandidateSet[dict[int, float]] = PerCandidateSet(
            lambda alive: dict.fromkeys(alive, 0.0))

    def choose(self, request: Request, replicas: Sequence[ReplicaView],
               rng: np.random.Generator) -> int:
        """The alive replica with the largest credit after this round's increments."""
        alive = tuple(alive_indices(replicas))
        credit = self._credit.get(alive)
        total = 0.0
        for i in alive:
            w = self._weight(replicas[i])
            credit[i] += w
            total += w
        pick = max(alive, key=credit.__getitem__)  # the first maximum: deterministic
        credit[pick] -= total
        return pick

    def on_replicas_changed(self, replicas: Sequence[ReplicaView]) -> None:
        """Credits are per candidate set; a changed set starts a fresh cycle."""

    def _weight(self, replica: ReplicaView) -> float:
        if replica.index in self._weights:
            return self._weights[replica.index]
        return positive(f"replica {replica.index} weight", replica.weight, error=PolicyConfigError)

"""Uniform random choice among the alive replicas: the baseline every policy beats.

With n replicas and n requests the busiest gets ~ ln n / ln ln n of them (balls into
bins; Gonnet 1981), which is what :mod:`power_of_two` improves on.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mlfleet.serving.lb.base import (
    StatelessBalancer,
    UniformsAhead,
    uniform_alive,
    uniform_router,
    uniform_routes,
)
from mlfleet.serving.policy import ReplicaView, Request, Router, Uniforms


class RandomBalancer(StatelessBalancer):
    """Picks an alive replica uniformly at random (:func:`~.base.uniform_alive`)."""

    def choose(self, request: Request, replicas: Sequence[ReplicaView],
               rng: np.random.Generator) -> int:
        """A uniformly random alive replica."""
        return uniform_alive(replicas, rng)

    def router(self, replicas: Sequence[ReplicaView], uniforms: Uniforms) -> Router | None:
        """``choose``'s decision bound to this fleet and ``uniforms``
        (:func:`~.base.uniform_router`)."""
        return uniform_router(replicas, uniforms) if len(replicas) > 1 else None

    def routes_ahead(self, replicas: Sequence[ReplicaView], uniforms: UniformsAhead,
                     count: int) -> list[int] | None:
        """``count`` routes of :meth:`router` at once (:func:`~.base.uniform_routes`)."""
        return uniform_routes(replicas, uniforms, count)

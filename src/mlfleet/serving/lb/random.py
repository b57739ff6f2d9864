"""Uniform random choice among the alive replicas: the baseline every policy beats.

With n replicas and n requests the busiest gets ~ ln n / ln ln n of them (balls into
bins; Gonnet 1981), which is what :mod:`power_of_two` improves on.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import floor

import numpy as np

from mlfleet.serving.lb.base import StatelessBalancer, all_alive, sample_alive
from mlfleet.serving.policy import ReplicaView, Request, Router, Uniforms


class RandomBalancer(StatelessBalancer):
    """Picks an alive replica uniformly at random with the engine's ``rng``."""

    def choose(self, request: Request, replicas: Sequence[ReplicaView],
               rng: np.random.Generator) -> int:
        """A uniformly random alive replica."""
        return sample_alive(replicas, 1, rng)[0]

    def router(self, replicas: Sequence[ReplicaView], uniforms: Uniforms) -> Router | None:
        """One double per request while every replica is alive (``choose``'s first try)."""
        n = len(replicas)
        if n < 2 or not all_alive(replicas):
            return None
        draw, n_float = uniforms.random, float(n)  # x * float(n) == x * n, bit for bit
        return lambda: floor(draw() * n_float)  # uniform_index(n, uniforms), one call fewer

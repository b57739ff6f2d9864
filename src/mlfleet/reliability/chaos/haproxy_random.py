"""HAProxy's ``balance random(N)`` as a simulator load balancer.

HAProxy draws N servers *independently* (a random hash onto its consistent-hash ring,
so the same server can come up twice) and keeps the one serving fewer requests
(``get_server_rnd`` in HAProxy's ``src/backend.c``). The simulator's power of two
(:mod:`mlfleet.serving.lb.power_of_two`) draws two *distinct* replicas. The difference
matters for a gray failure: a paused replica holding many requests is never chosen
by distinct draws once it is the most loaded, but still gets 1/n² of requests here
(both draws land on it) — what the real fleet showed (docs/serving-chaos.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mlfleet.checks import positive_int
from mlfleet.errors import PolicyConfigError
from mlfleet.serving.lb.base import StatelessBalancer, alive_indices
from mlfleet.serving.policy import ReplicaView, Request


class HaproxyRandomBalancer(StatelessBalancer):
    """``draws`` independent uniform draws over the alive replicas; the least loaded wins
    (ties: the earlier draw, as HAProxy keeps its previous choice unless beaten)."""

    def __init__(self, *, draws: int = 2) -> None:
        self.draws = positive_int("draws", draws, error=PolicyConfigError)

    def choose(self, request: Request, replicas: Sequence[ReplicaView],
               rng: np.random.Generator) -> int:
        alive = alive_indices(replicas)
        picks = [alive[int(k)] for k in rng.integers(0, len(alive), size=self.draws)]
        best = picks[0]
        for pick in picks[1:]:
            if replicas[pick].outstanding < replicas[best].outstanding:
                best = pick
        return best

"""Power of d choices: sample d alive replicas at random, send to the less loaded.

Balls into bins (n balls, n bins): one random choice leaves a maximum load of
~ ln n / ln ln n (Gonnet 1981; Raab & Steger 1998); two choices cut it to
ln ln n / ln 2 + O(1) (Azar, Broder, Karlin & Upfal 1999), an exponential improvement;
d > 2 only improves the constant (ln ln n / ln d). In a queueing system (Mitzenmacher
2001, "The Power of Two Choices in Randomized Load Balancing", IEEE TPDS 12(10)) the
fraction of queues with at least i jobs falls as λ^(2^i − 1) instead of λ^i, so tail
waits at high utilisation drop by orders of magnitude while each decision reads only
two loads.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from math import floor

import numpy as np
import numpy.typing as npt

from mlfleet.checks import positive_int
from mlfleet.errors import PolicyConfigError
from mlfleet.serving.lb.base import (
    TRIES,
    StatelessBalancer,
    alive_indices,
    least_loaded,
    sample_alive,
    uniform_alive,
    uniform_router,
)
from mlfleet.serving.policy import ReplicaView, Request, Router, Uniforms


def two_choices(replicas: Sequence[ReplicaView], uniforms: Uniforms) -> Router:
    """Power of two choices over ``replicas`` drawing from ``uniforms``, as a router:
    each call returns the less loaded of two distinct random alive replicas (ties:
    either, uniformly). It is :func:`~.base.least_loaded` of :func:`~.base.sample_alive`
    of two, with the first try of a fleet of more than two inlined (two doubles, a third
    on a tie). A closure rather than a function of the fleet: the router calls it once
    per request, and ``choose`` builds one and calls it once."""
    n = len(replicas)
    if n <= 2:
        return lambda: least_loaded(alive_indices(replicas), replicas, uniforms)
    draw = uniforms.random

    def decide() -> int:
        a = floor(draw() * n)  # distinct_pair(n, uniforms)
        b = floor(draw() * (n - 1))
        b += b >= a
        replica_a, replica_b = replicas[a], replicas[b]
        if not (replica_a.alive and replica_b.alive):
            picks = sample_alive(replicas, 2, uniforms, tries=TRIES - 1)
            return least_loaded(picks, replicas, uniforms)
        load_a, load_b = replica_a.outstanding, replica_b.outstanding
        if load_a == load_b:  # least_loaded's tie-break over [a, b]
            return b if draw() >= 0.5 else a  # (a, b)[uniform_index(2, uniforms)]
        return a if load_a < load_b else b

    return decide


class PowerOfTwoBalancer(StatelessBalancer):
    """Samples ``d`` distinct alive replicas with ``rng`` and picks the least loaded."""

    def __init__(self, *, d: int = 2) -> None:
        self.d = positive_int("d", d, error=PolicyConfigError)
        """Replicas sampled per request (2 is the classic; 1 degenerates to random)."""

    def choose(self, request: Request, replicas: Sequence[ReplicaView],
               rng: np.random.Generator) -> int:
        """The less loaded of ``d`` distinct random alive replicas (all if fewer are alive)."""
        if self.d == 1:
            return uniform_alive(replicas, rng)
        if self.d == 2:
            return two_choices(replicas, rng)()
        return least_loaded(sample_alive(replicas, self.d, rng), replicas, rng)

    def router(self, replicas: Sequence[ReplicaView], uniforms: Uniforms) -> Router | None:
        """``choose``'s decision bound to this fleet and ``uniforms`` for d <= 2 over more
        than one replica; None for d > 2 (its draws need the generator itself)."""
        if self.d > 2 or len(replicas) < 2:
            return None
        if self.d == 1:
            return uniform_router(replicas, uniforms)
        return two_choices(tuple(replicas), uniforms)


def max_load_one_choice(n_bins: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Leading-order max load of n balls in n bins, one random choice: ln n / ln ln n."""
    n = np.asarray(n_bins, dtype=np.float64)
    load: npt.NDArray[np.float64] = np.log(n) / np.log(np.log(n))
    return load


def max_load_d_choices(n_bins: npt.ArrayLike, d: int = 2) -> npt.NDArray[np.float64]:
    """Leading-order max load with d choices: ln ln n / ln d (plus an O(1) term)."""
    n = np.asarray(n_bins, dtype=np.float64)
    choices = positive_int("d", d, minimum=2, error=PolicyConfigError)
    load: npt.NDArray[np.float64] = np.log(np.log(n)) / math.log(choices)
    return load


def tail_fraction_supermarket(utilisation: float, i: int, d: int = 2) -> float:
    """Mitzenmacher's fixed point: share of queues with >= i jobs, λ^((d^i − 1)/(d − 1)).

    For d = 1 (random) it is λ^i, the M/M/1 tail. Valid as n → ∞ for Poisson arrivals
    at rate λ·n and exponential service at rate 1 per server.
    """
    exponent = i if d == 1 else (d ** i - 1) / (d - 1)
    return float(utilisation ** exponent)


def mean_sojourn_supermarket(utilisation: float, d: int = 2, *, terms: int = 64) -> float:
    """Mean time in system, in mean service times, as n → ∞ (Mitzenmacher 2001, thm 3.4).

    E[T] = Σ_{i≥1} λ^((d^i − d)/(d − 1)); for d = 1 it is the M/M/1 value 1/(1 − λ).
    At λ = 0.9: 10 for random, 2.61 for two choices.
    """
    lam = float(utilisation)
    if not 0.0 <= lam < 1.0:
        raise PolicyConfigError(f"utilisation(={utilisation!r}) must be in [0, 1)")
    if positive_int("d", d, error=PolicyConfigError) == 1:
        return 1.0 / (1.0 - lam)
    total = 0.0
    for i in range(1, terms + 1):
        exponent = (d ** i - d) / (d - 1)
        term = lam ** exponent
        total += term
        if term < 1e-15:
            break
    return total

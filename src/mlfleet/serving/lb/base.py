"""Helpers every load balancer shares: the alive replicas and the least-loaded one.

``load`` throughout is :attr:`ReplicaView.outstanding` (queued + in service), the
quantity least-connections and power-of-d-choices compare. Draws take a
:class:`~mlfleet.serving.policy.Uniforms` where one double per call suffices.

A request-blind balancer writes its decision once, as a function of the candidate
replicas and a :class:`~mlfleet.serving.policy.Uniforms`: its ``choose`` calls it with
the engine's generator, and its router (:class:`~mlfleet.serving.policy.RoutesBlind`)
is the same function bound to the fleet and the engine's block-drawn uniforms
(``functools.partial``), so the two run the same code on the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from math import floor
from typing import Generic, Protocol, TypeVar, runtime_checkable

import numpy as np
import numpy.typing as npt

from mlfleet.errors import MlfleetError
from mlfleet.serving.policy import ReplicaView, Router, Uniforms

T = TypeVar("T")


class NoAliveReplicaError(MlfleetError):
    """``choose`` was called while every replica is dead (the engine should shed instead)."""


def alive_indices(replicas: Sequence[ReplicaView]) -> list[int]:
    """Indices of the alive replicas, in order; raises :class:`NoAliveReplicaError` if none."""
    alive = [r.index for r in replicas if r.alive]
    if not alive:
        raise NoAliveReplicaError(f"no alive replica among {len(replicas)}")
    return alive


TRIES = 8
"""Draws of k replicas from the whole fleet before :func:`sample_alive` samples from the
alive list instead."""


def sample_alive(replicas: Sequence[ReplicaView], k: int,
                 rng: np.random.Generator | Uniforms, *, tries: int = TRIES) -> list[int]:
    """``k`` distinct alive replicas, uniformly at random (all alive ones if fewer).

    Draws k distinct replicas from the whole fleet up to ``tries`` times and keeps the
    first draw that is all alive, falling back to sampling from the alive list; a healthy
    fleet costs O(k), not O(n). Every path is uniform over the alive k-subsets
    (rejection sampling), so the result is too. For k <= 2 only ``rng.random()`` is
    drawn from, so any :class:`~mlfleet.serving.policy.Uniforms` serves.
    """
    n = len(replicas)
    if n > k:
        for _ in range(tries):
            picks = _distinct(n, k, rng)
            if all(replicas[i].alive for i in picks):
                return [replicas[i].index for i in picks]
    alive = alive_indices(replicas)
    if len(alive) <= k:
        return alive
    return [alive[j] for j in _distinct(len(alive), k, rng)]


def _distinct(n: int, k: int, rng: np.random.Generator | Uniforms) -> list[int]:
    """k distinct integers from range(n), uniformly (n > k).

    ``floor(rng.random() * n)`` is uniform to within 2⁻⁵³ and several times cheaper per
    call than ``rng.integers(n)``, which matters once per simulated request.
    """
    if k == 1:
        return [uniform_index(n, rng)]
    if k == 2:
        return list(distinct_pair(n, rng))
    assert isinstance(rng, np.random.Generator), "k > 2 distinct draws need a Generator"
    return [int(j) for j in rng.choice(n, size=k, replace=False)]


def uniform_index(n: int, uniforms: Uniforms) -> int:
    """An integer of range(n), uniformly, from one double."""
    return floor(uniforms.random() * n)  # = int(), but floor is ~3x cheaper on a float


def distinct_pair(n: int, uniforms: Uniforms) -> tuple[int, int]:
    """Two distinct integers of range(n) (n >= 2), uniformly, from two doubles."""
    first, second = floor(uniforms.random() * n), floor(uniforms.random() * (n - 1))
    return first, second + (second >= first)


def least_loaded(candidates: Sequence[int], replicas: Sequence[ReplicaView],
                 rng: Uniforms) -> int:
    """The candidate with the fewest outstanding requests; ties broken uniformly by ``rng``
    (:func:`least_loaded_position` of the candidates' replicas)."""
    return candidates[least_loaded_position([replicas[i] for i in candidates], rng)]


def least_loaded_position(members: Sequence[ReplicaView], uniforms: Uniforms) -> int:
    """Position in ``members`` of one with the fewest outstanding requests; ties broken
    uniformly (one double, only when several tie: the j-th tied one in order, j uniform).

    A random tie-break matters: always taking the lowest index herds every request of
    an idle fleet onto replica 0.
    """
    loads = [r.outstanding for r in members]
    low = min(loads)
    pick = loads.index(low)
    ties = loads.count(low)
    if ties > 1:  # the j-th tied one (j = uniform_index(ties), inlined), found without
        for _ in range(floor(uniforms.random() * ties)):  # building the list of them
            pick = loads.index(low, pick + 1)
    return pick


def uniform_alive(replicas: Sequence[ReplicaView], uniforms: Uniforms) -> int:
    """A uniformly random alive replica: :func:`sample_alive` of one, its first try
    inlined (one double while the fleet is healthy)."""
    n = len(replicas)
    if n > 1:
        pick = uniform_index(n, uniforms)
        if replicas[pick].alive:
            return pick
        return sample_alive(replicas, 1, uniforms, tries=TRIES - 1)[0]
    return alive_indices(replicas)[0]


def all_alive(replicas: Sequence[ReplicaView]) -> bool:
    """Whether every replica is alive (routers specialise for a healthy fleet)."""
    return all(r.alive for r in replicas)


def uniform_router(replicas: Sequence[ReplicaView], uniforms: Uniforms) -> Router:
    """:func:`uniform_alive` bound to a fleet of more than one replica and ``uniforms``;
    for a healthy fleet its first try, which then always succeeds: :func:`uniform_index`
    of the fleet's size, inlined (no Python frame beyond the router's own)."""
    if all_alive(replicas):
        draw, n = uniforms.random, float(len(replicas))  # u * float(n) == u * n exactly
        return lambda: floor(draw() * n)
    return partial(uniform_alive, tuple(replicas), uniforms)


class UniformsAhead(Uniforms, Protocol):
    """:class:`~mlfleet.serving.policy.Uniforms` that can also hand out many at once."""

    def ahead(self, count: int) -> npt.NDArray[np.float64]:
        """The next ``count`` doubles of the ``random()`` sequence, in one call."""
        ...


@runtime_checkable
class RoutesAhead(Protocol):
    """A balancer whose router reads no replica's load (random, round robin) can give
    many of its routes at once, vectorised, for a stretch of a run in which nothing
    can change the fleet or read the generator between them (the engine guarantees it)."""

    def routes_ahead(self, replicas: Sequence[ReplicaView], uniforms: UniformsAhead,
                     count: int) -> list[int] | None:
        """The next ``count`` routes of :meth:`router` of this fleet, as ``count`` calls
        of it would return them, drawing the same doubles from ``uniforms`` and leaving
        the balancer's state where they leave it; None: not offered for this fleet."""
        ...


def uniform_routes(replicas: Sequence[ReplicaView], uniforms: UniformsAhead,
                   count: int) -> list[int] | None:
    """``count`` routes of :func:`uniform_router` at once, for a healthy fleet of more
    than one replica (else None): ``floor(u * n)`` of the same doubles, by numpy, whose
    product and floor round as Python's do."""
    if len(replicas) < 2 or not all_alive(replicas):
        return None
    draws = uniforms.ahead(count)
    return np.floor(draws * float(len(replicas))).astype(np.int64).tolist()  # type: ignore[no-any-return]


class StatelessBalancer:
    """Base for policies that keep no per-fleet state: replica changes are a no-op."""

    def on_replicas_changed(self, replicas: Sequence[ReplicaView]) -> None:
        """Nothing to rebuild."""


class PerCandidateSet(Generic[T]):
    """Balancer state kept per set of candidate replicas (one per traffic group).

    During a canary split or shadow mirroring the engine routes each group through the
    same balancer, showing only that group's replicas alive; keeping a cursor, credit
    table or ring per candidate set stops the groups from disturbing one another. At
    most ``max_sets`` sets are kept (oldest dropped), as fleets change over a run.
    """

    def __init__(self, make: Callable[[tuple[int, ...]], T], *, max_sets: int = 64) -> None:
        self._make = make
        self._state: dict[tuple[int, ...], T] = {}
        self._max_sets = max_sets

    def get(self, alive: tuple[int, ...]) -> T:
        """The state of candidate set ``alive``, created on first use."""
        if alive not in self._state:
            if len(self._state) >= self._max_sets:
                del self._state[next(iter(self._state))]
            self._state[alive] = self._make(alive)
        return self._state[alive]

"""Consistent hashing with virtual nodes, optionally with bounded loads.

Each replica owns ``virtual_nodes`` points on a 64-bit ring (Karger et al. 1997); a key
goes to the first point clockwise of its hash, so the same session keeps landing on the
same replica (affinity, cache locality) and adding one replica to n moves only ~1/(n+1)
of the keys — all of them onto the new replica — where ``hash mod n`` moves ~n/(n+1).

With ``epsilon`` set, loads are bounded (Mirrokni, Thorup & Zadimoghaddam 2018,
"Consistent Hashing with Bounded Loads", SODA): with m requests in the system counting
the new one, and n alive replicas, each replica's capacity is ⌈(1+ε)·m/n⌉; a key walks
clockwise past full replicas to the first with room. Some replica always has room,
since n·⌈(1+ε)m/n⌉ > m − 1, and no replica ever exceeds the capacity at assignment.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np
import numpy.typing as npt

from mlfleet.checks import one_of, positive, positive_int
from mlfleet.errors import PolicyConfigError
from mlfleet.serving.lb.base import PerCandidateSet, alive_indices
from mlfleet.serving.policy import ReplicaView, Request

_MASK64 = (1 << 64) - 1
_KEY_SALT = 0x9E3779B97F4A7C15
"""Added to keys before mixing so key k and virtual node k do not hash alike."""
HASH_FIELDS = ("session", "key", "user")


def mix64(x: npt.ArrayLike) -> np.ndarray:
    """SplitMix64 finaliser (Steele, Lea & Flood 2014) on uint64: a fast, well-mixed hash."""
    z = np.asarray(x).astype(np.uint64)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def mix64_int(x: int) -> int:
    """:func:`mix64` for one Python int (no numpy overhead per request)."""
    z = x & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def key_hash(keys: npt.ArrayLike) -> np.ndarray:
    """Ring positions of integer keys (vectorised)."""
    return mix64(np.asarray(keys).astype(np.uint64) + np.uint64(_KEY_SALT))


class HashRing:
    """The ring: sorted virtual-node positions and the replica owning each."""

    def __init__(self, members: Sequence[int], *, virtual_nodes: int) -> None:
        self.virtual_nodes = positive_int("virtual_nodes", virtual_nodes, error=PolicyConfigError)
        self.members = tuple(members)
        # (replica << 32 | vnode) depends only on the replica, so a joining replica
        # adds its points without moving anyone else's.
        ids = np.array([(m << 32) | v for m in self.members for v in range(virtual_nodes)],
                       dtype=np.uint64)
        owners = np.repeat(np.asarray(self.members, dtype=np.int64), virtual_nodes)
        order = np.argsort(mix64(ids), kind="stable")
        self.positions = mix64(ids)[order]  # (members·virtual_nodes,) sorted
        self.owners = owners[order]

    def lookup(self, hashes: npt.ArrayLike) -> np.ndarray:
        """Owner of each hash: the first virtual node clockwise (vectorised)."""
        slot = np.searchsorted(self.positions, np.asarray(hashes, dtype=np.uint64), side="right")
        return self.owners[slot % len(self.positions)]

    def walk(self, hash_: int) -> Iterator[int]:
        """Distinct replicas clockwise from ``hash_``, the owner first."""
        start = int(np.searchsorted(self.positions, np.uint64(hash_), side="right"))
        seen: set[int] = set()
        for k in range(len(self.positions)):
            owner = int(self.owners[(start + k) % len(self.positions)])
            if owner not in seen:
                seen.add(owner)
                yield owner
                if len(seen) == len(self.members):
                    return


def bounded_capacity(m_requests: int, n_replicas: int, epsilon: float) -> int:
    """⌈(1+ε)·m/n⌉: the most requests any replica may hold (Mirrokni et al. 2018)."""
    # The tolerance keeps an exact integer like (1.1·10)/11 from rounding up to 2.
    return math.ceil((1.0 + epsilon) * m_requests / n_replicas - 1e-9)


class ConsistentHashBalancer:
    """Routes by a request field's hash over a ring of the alive replicas.

    ``hash_by`` names the field (``session``, ``key`` or ``user``); a request whose
    field is -1 is hashed by its id. ``epsilon`` > 0 turns on bounded loads; None
    keeps pure consistent hashing (affinity at any load). A ring is kept per
    candidate set (alive replicas of a traffic group).
    """

    def __init__(self, *, virtual_nodes: int = 100, epsilon: float | None = None,
                 hash_by: str = "session") -> None:
        self.virtual_nodes = positive_int("virtual_nodes", virtual_nodes, error=PolicyConfigError)
        self.epsilon = None if epsilon is None else positive("epsilon", epsilon,
                                                             error=PolicyConfigError)
        self.hash_by = one_of("hash_by", hash_by, HASH_FIELDS, error=PolicyConfigError)
        self._rings: PerCandidateSet[HashRing] = PerCandidateSet(
            lambda alive: HashRing(alive, virtual_nodes=self.virtual_nodes))

    def choose(self, request: Request, replicas: Sequence[ReplicaView],
               rng: np.random.Generator) -> int:
        """The key's owner, or with bounded loads the first replica clockwise with room."""
        ring = self._rings.get(tuple(alive_indices(replicas)))
        h = mix64_int(self._key(request) + _KEY_SALT)
        if self.epsilon is None:
            return next(ring.walk(h))
        m = sum(replicas[i].outstanding for i in ring.members) + 1  # counting this request
        cap = bounded_capacity(m, len(ring.members), self.epsilon)
        pick = next(i for i in ring.walk(h) if replicas[i].outstanding < cap)
        assert replicas[pick].outstanding + 1 <= cap
        return pick

    def on_replicas_changed(self, replicas: Sequence[ReplicaView]) -> None:
        """Rings are built per alive set on first use; nothing to do eagerly."""

    def _key(self, request: Request) -> int:
        value = int(getattr(request, self.hash_by))
        return value if value >= 0 else request.id

"""HAProxy 2.6's consistent-hash ring, so the simulator routes keys where HAProxy does.

HAProxy builds one tree per backend for ``hash-type consistent`` and ``balance random``
(``src/lb_chash.c``, ``chash_init_server_tree``): a server of weight w owns w·16 points
(``BE_WEIGHT_SCALE`` = 16), point k at ``full_hash(id·4096 + k)`` (``SRV_EWGHT_RANGE`` =
256·16; ``id`` is the server's numeric id, 1, 2, 3... in declaration order unless set),
where ``full_hash`` is Bob Jenkins' 32-bit integer avalanche followed by a multiply by
3221225473. A request's sample is hashed with sdbm (the default function of
``hash-type consistent``), then with ``full_hash`` (HAProxy 1.5's ``src/backend.c``
does so for every hash type but ``map-based``; on the installed HAProxy 2.6 a real probe
agrees with this on every key and with the raw sdbm value on 38 %), and the server is
the owner of the point *nearest* to that value on either side
(``chash_get_server_hash``: the previous point wins a tie), not the first clockwise as
in Karger et al.

``balance random(d)`` draws d 32-bit random numbers, looks each up on the same tree and
keeps the server with fewer requests in flight, the later draw on a tie
(``get_server_rnd``): a server is drawn with the probability of its share of the ring,
not 1/n.

A request without a key (no ``user`` in its body) is not hashed: HAProxy then walks the
tree's points in order (``chash_get_next_server``), a weighted round robin.

Validated against a real HAProxy 2.6 in tests/serving/fleet/test_fleet_haproxy_ring.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.checks import one_of, positive_int
from mlfleet.errors import PolicyConfigError
from mlfleet.serving.lb.base import PerCandidateSet, alive_indices
from mlfleet.serving.policy import ReplicaView, Request

_MASK32 = 0xFFFFFFFF
POINTS_PER_WEIGHT = 16
"""``BE_WEIGHT_SCALE``: ring points per unit of server weight."""
ID_STRIDE = 256 * POINTS_PER_WEIGHT
"""``SRV_EWGHT_RANGE``: server ``id``'s points are hashed from ``id·4096 + k``."""
KEY_FIELDS = ("user", "session", "key")


def full_hash(a: int) -> int:
    """HAProxy's ``full_hash``: Bob Jenkins' 32-bit integer hash (the 6-shift variant,
    burtleburtle.net/bob/hash/integer.html) times 3221225473, all mod 2³²."""
    a = ((a + 0x7ED55D16) + (a << 12)) & _MASK32
    a = ((a ^ 0xC761C23C) ^ (a >> 19)) & _MASK32
    a = ((a + 0x165667B1) + (a << 5)) & _MASK32
    a = ((a + 0xD3A2646C) ^ (a << 9)) & _MASK32
    a = ((a + 0xFD7046C5) + (a << 3)) & _MASK32
    a = ((a ^ 0xB55A4F09) ^ (a >> 16)) & _MASK32
    return (a * 3221225473) & _MASK32


def sdbm(data: bytes) -> int:
    """The sdbm string hash (HAProxy's ``hash_sdbm``): h = c + (h << 6) + (h << 16) - h,
    per byte, mod 2³²."""
    h = 0
    for c in data:
        h = (c + (h << 6) + (h << 16) - h) & _MASK32
    return h


def sample_bytes(value: int) -> bytes:
    """The bytes HAProxy hashes for ``json_query('$.user')`` of an integer ``value``: the
    number as JSON wrote it (decimal ASCII; a JSON number comes out of ``json_query`` as
    a string unless asked for ``int``)."""
    return str(value).encode()


def key_hash(value: int) -> int:
    """The 32-bit value HAProxy looks up on its tree for a request keyed ``value``."""
    return full_hash(sdbm(sample_bytes(value)))


@dataclass(frozen=True, kw_only=True)
class HaproxyServer:
    """A server as HAProxy's ring sees it."""

    id: int
    """Its numeric id (``server ... id N``; HAProxy numbers servers 1, 2... by default)."""
    weight: int = 1
    """Its ``weight``: it owns ``weight·16`` points."""


class HaproxyRing:
    """The sorted points of the usable servers and the replica owning each."""

    def __init__(self, members: Sequence[int], servers: Sequence[HaproxyServer]) -> None:
        points = [(full_hash(servers[m].id * ID_STRIDE + k), m)
                  for m in members for k in range(servers[m].weight * POINTS_PER_WEIGHT)]
        points.sort(key=lambda p: p[0])  # stable: equal keys keep insertion order
        self.positions = np.array([p for p, _ in points], dtype=np.uint64)  # (P,) sorted
        self.owners = np.array([m for _, m in points], dtype=np.int64)
        self._cursor = -1

    def nearest(self, hashes: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Owner of the point nearest each 32-bit hash, either side, wrapping around the
        ring; the point before wins a tie (``chash_get_server_hash``). Vectorised."""
        h = np.asarray(hashes, dtype=np.uint64)
        n = self.positions.size
        nxt = np.searchsorted(self.positions, h, side="left") % n  # first point >= h
        prv = (nxt - 1) % n
        d_next = (self.positions[nxt] - h) % np.uint64(1 << 32)
        d_prev = (h - self.positions[prv]) % np.uint64(1 << 32)
        return np.where(d_prev <= d_next, self.owners[prv], self.owners[nxt])

    def next_in_order(self) -> int:
        """The next point's owner walking the ring in order (a keyless request)."""
        self._cursor = (self._cursor + 1) % self.owners.size
        return int(self.owners[self._cursor])


def _servers(server_ids: Sequence[int] | None, weights: Sequence[int] | None,
             count: int) -> tuple[HaproxyServer, ...]:
    ids = list(server_ids) if server_ids is not None else list(range(1, count + 1))
    ws = list(weights) if weights is not None else [1] * len(ids)
    if len(ws) != len(ids):
        raise PolicyConfigError(f"weights(={ws!r}) must have one entry per server id "
                                f"(={ids!r})")
    for i in ids:
        positive_int("server id", i, error=PolicyConfigError)
    for w in ws:
        positive_int("weight", w, error=PolicyConfigError)
    return tuple(HaproxyServer(id=i, weight=w) for i, w in zip(ids, ws, strict=True))


class _OnHaproxyRing:
    """A ring per set of usable replicas, replica i being ``server_ids[i]`` (default
    ``i + 1``, HAProxy's numbering of servers in declaration order)."""

    def __init__(self, server_ids: Sequence[int] | None,
                 weights: Sequence[int] | None) -> None:
        self._ids, self._weights = server_ids, weights
        self._fleet: tuple[HaproxyServer, ...] = ()
        self._rings: PerCandidateSet[HaproxyRing] = PerCandidateSet(
            lambda alive: HaproxyRing(alive, self._fleet))

    def ring(self, replicas: Sequence[ReplicaView]) -> HaproxyRing:
        if len(self._fleet) != len(replicas):
            self._fleet = _servers(self._ids, self._weights, len(replicas))
            self._rings = PerCandidateSet(lambda alive: HaproxyRing(alive, self._fleet))
        return self._rings.get(tuple(alive_indices(replicas)))

    def on_replicas_changed(self, replicas: Sequence[ReplicaView]) -> None:
        """Rings are built per usable set on first use; nothing to do eagerly."""


class HaproxyChashBalancer(_OnHaproxyRing):
    """``balance hash <sample>`` + ``hash-type consistent``: the request's ``hash_by``
    field (default ``user``) hashed as HAProxy hashes it, sent to the nearest point's
    replica. A request whose field is -1 has no key and goes round the ring."""

    def __init__(self, *, hash_by: str = "user", server_ids: Sequence[int] | None = None,
                 weights: Sequence[int] | None = None) -> None:
        super().__init__(server_ids, weights)
        self.hash_by = one_of("hash_by", hash_by, KEY_FIELDS, error=PolicyConfigError)

    def choose(self, request: Request, replicas: Sequence[ReplicaView],
               rng: np.random.Generator) -> int:
        """The replica HAProxy picks for this request's key."""
        ring = self.ring(replicas)
        value = int(getattr(request, self.hash_by))
        if value < 0:
            return ring.next_in_order()
        return int(ring.nearest(key_hash(value)))


class HaproxyRingRandomBalancer(_OnHaproxyRing):
    """``balance random(draws)``: ``draws`` uniform 32-bit numbers looked up on HAProxy's
    ring; of two servers the one with fewer requests in flight per unit of weight wins, the
    later draw on a tie (``get_server_rnd``)."""

    def __init__(self, *, draws: int = 2, server_ids: Sequence[int] | None = None,
                 weights: Sequence[int] | None = None) -> None:
        super().__init__(server_ids, weights)
        self.draws = positive_int("draws", draws, error=PolicyConfigError)

    def choose(self, request: Request, replicas: Sequence[ReplicaView],
               rng: np.random.Generator) -> int:
        """The kept draw."""
        ring = self.ring(replicas)
        picks = ring.nearest(np.floor(rng.random(self.draws) * 2.0**32))
        best = int(picks[0])
        for pick in picks[1:].tolist():  # the later draw unless it is relatively busier
            if (replicas[pick].outstanding * self._fleet[best].weight
                    <= replicas[best].outstanding * self._fleet[pick].weight):
                best = pick
        return best

"""A sub-communicator: a subset of ranks seen as ranks ``0..len(ranks)-1``.

Hierarchical algorithms run the flat ones inside a node or across nodes by
wrapping the world transport in a :class:`GroupTransport`. Messages go straight
through to the parent transport (no bytes added), so the parent's counters stay
exact; ``bytes_sent`` here reports the parent's counters for the group's peers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mlfleet.comm.transport.base import Message, Pending, Transport


class GroupTransport:
    """The ranks ``ranks`` of ``parent``, renumbered by their position in ``ranks``."""

    def __init__(self, parent: Transport, ranks: Sequence[int]) -> None:
        self._parent = parent
        self._ranks = list(ranks)
        assert len(set(self._ranks)) == len(self._ranks), ranks
        assert parent.rank in self._ranks, (parent.rank, ranks)
        self._rank = self._ranks.index(parent.rank)

    @property
    def rank(self) -> int:
        """This process's rank inside the group."""
        return self._rank

    @property
    def world_size(self) -> int:
        """Number of ranks in the group."""
        return len(self._ranks)

    def send(self, dst: int, buf: np.ndarray) -> None:
        """Send to group rank ``dst``."""
        self._parent.send(self._ranks[dst], buf)

    def recv(self, src: int, buf: np.ndarray) -> None:
        """Receive from group rank ``src``."""
        self._parent.recv(self._ranks[src], buf)

    def sendrecv(self, dst: int, sendbuf: np.ndarray, src: int, recvbuf: np.ndarray) -> None:
        """Send to group rank ``dst`` while receiving from group rank ``src``."""
        self._parent.sendrecv(self._ranks[dst], sendbuf, self._ranks[src], recvbuf)

    def exchange(self, sends: Sequence[Message], recvs: Sequence[Message]) -> None:
        """Post sends and receives addressed by group rank."""
        self._parent.exchange([(self._ranks[p], b) for p, b in sends],
                              [(self._ranks[p], b) for p, b in recvs])

    def isend(self, dst: int, buf: np.ndarray) -> Pending:
        """Post a send to group rank ``dst``."""
        return self._parent.isend(self._ranks[dst], buf)

    def irecv(self, src: int, buf: np.ndarray) -> Pending:
        """Post a receive from group rank ``src``."""
        return self._parent.irecv(self._ranks[src], buf)

    def wait(self, pending: Pending) -> None:
        """Wait on a handle of the parent transport."""
        self._parent.wait(pending)

    def bytes_sent(self) -> dict[int, int]:
        """The parent's payload counters for the group's peers, keyed by group rank."""
        sent = self._parent.bytes_sent()
        return {i: sent[r] for i, r in enumerate(self._ranks) if i != self._rank}

    def barrier(self) -> None:
        """A dissemination barrier over the group only.

        Its one-byte tokens travel as payload of the parent (counted in its
        ``bytes_sent``); no algorithm calls it inside a collective.
        """
        token, got = np.zeros(1, np.uint8), np.zeros(1, np.uint8)
        n, distance = self.world_size, 1
        while distance < n:
            self.sendrecv((self._rank + distance) % n, token, (self._rank - distance) % n, got)
            distance *= 2

    def close(self) -> None:
        """A view owns nothing; the parent is closed by its owner."""

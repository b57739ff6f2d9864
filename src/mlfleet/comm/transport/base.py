"""The narrow interface every collective algorithm is written against.

Two backends implement it: ``socket`` (mlfleet's own single-threaded non-blocking
TCP transport, with optional injected latency and exact per-peer byte counters)
and ``torch`` (torch.distributed point-to-point: gloo on CPU, NCCL on GPU).
Buffers are contiguous numpy arrays; receives fill the given buffer in place.
Every blocking call honours the transport's timeout and raises
:class:`mlfleet.errors.RunError` naming the peer when it expires or a peer is lost.

Conventions shared by every backend (the algorithms rely on them):

* Messages carry no framing: both sides know every message's size. Messages
  between one pair of ranks are delivered in the order they were posted.
* A zero-byte buffer is a no-op on both sides: nothing is sent, nothing awaited.
* ``bytes_sent()`` has one key per peer rank (every rank but this one, zeros
  included) and counts payload bytes only.
* ``exchange`` (added beside the original methods) posts several sends and
  receives at once and progresses them together; ``sendrecv`` is its
  one-send-one-receive case. Algorithms whose ranks would otherwise both block
  in ``send`` (a parameter server with several servers) use it.
* ``isend`` / ``irecv`` post one message and return a :class:`Pending` handle at
  once; ``wait(handle)`` returns when that message has completed, progressing
  every posted message meanwhile. A posted send's buffer must not change, and a
  posted receive's buffer must not be read, until its handle is waited on.
  Messages between one pair of ranks match in posting order, whatever order
  they are waited in. A pipelined algorithm (the ring) keeps several messages
  in flight this way while it reduces the ones that have arrived.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from mlfleet.errors import InputError, RunError

# One posted message: (peer rank, contiguous buffer).
Message = tuple[int, np.ndarray]


class Pending:
    """Handle of one posted :meth:`Transport.isend` / :meth:`Transport.irecv`.

    Opaque: each backend subclasses it. Pass it to the same transport's ``wait``.
    """

    __slots__ = ()


@runtime_checkable
class Transport(Protocol):
    """Send/receive numpy buffers between ``world_size`` ranks."""

    @property
    def rank(self) -> int:
        """This process's rank, 0 <= rank < world_size."""
        ...

    @property
    def world_size(self) -> int:
        """Number of ranks."""
        ...

    def send(self, dst: int, buf: np.ndarray) -> None:
        """Send ``buf`` (contiguous) to rank ``dst``; returns when it may be reused."""
        ...

    def recv(self, src: int, buf: np.ndarray) -> None:
        """Receive exactly ``buf.nbytes`` bytes from rank ``src`` into ``buf``."""
        ...

    def sendrecv(self, dst: int, sendbuf: np.ndarray, src: int, recvbuf: np.ndarray) -> None:
        """Send to ``dst`` and receive from ``src`` concurrently (no deadlock in a ring)."""
        ...

    def exchange(self, sends: Sequence[Message], recvs: Sequence[Message]) -> None:
        """Post every send and receive at once; return when all have completed.

        Several messages to (or from) the same peer go in list order.
        """
        ...

    def isend(self, dst: int, buf: np.ndarray) -> Pending:
        """Post a send of ``buf`` to ``dst``; returns at once."""
        ...

    def irecv(self, src: int, buf: np.ndarray) -> Pending:
        """Post a receive of exactly ``buf.nbytes`` bytes from ``src`` into ``buf``."""
        ...

    def wait(self, pending: Pending) -> None:
        """Block until the posted message ``pending`` has completed."""
        ...

    def bytes_sent(self) -> dict[int, int]:
        """Payload bytes sent so far to each peer rank (exact, excluding framing)."""
        ...

    def barrier(self) -> None:
        """Block until every rank has reached the barrier."""
        ...

    def close(self) -> None:
        """Release sockets / process groups. Idempotent."""
        ...


class PeerLost(RunError):
    """A peer closed or reset its connection, or stayed silent past the timeout.

    Usually the consequence of a failure elsewhere; the launcher reports the
    rank that failed first rather than the ranks that lost it.
    """


def zero_counts(rank: int, world_size: int) -> dict[int, int]:
    """A byte-counter dict with a zero for every peer of ``rank``."""
    return {peer: 0 for peer in range(world_size) if peer != rank}


def as_bytes(buf: np.ndarray) -> memoryview:
    """A flat byte view of a C-contiguous array (no copy)."""
    if not buf.flags.c_contiguous:
        raise InputError(f"transport buffers must be C-contiguous; got shape {buf.shape} with "
                         f"strides {buf.strides} (pass np.ascontiguousarray(buf))")
    return buf.reshape(-1).view(np.uint8).data

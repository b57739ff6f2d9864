"""The narrow interface every collective algorithm is written against.

Two backends implement it: ``socket`` (mlfleet's own single-threaded non-blocking
TCP transport, with optional injected latency and exact per-peer byte counters)
and ``torch`` (torch.distributed point-to-point: gloo on CPU, NCCL on GPU).
Buffers are contiguous numpy arrays; receives fill the given buffer in place.
Every blocking call honours the transport's timeout and raises
:class:`mlfleet.errors.RunError` naming the peer when it expires or a peer is lost.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


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

    def bytes_sent(self) -> dict[int, int]:
        """Payload bytes sent so far to each peer rank (exact, excluding framing)."""
        ...

    def barrier(self) -> None:
        """Block until every rank has reached the barrier."""
        ...

    def close(self) -> None:
        """Release sockets / process groups. Idempotent."""
        ...

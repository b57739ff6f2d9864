"""An in-process Transport: ranks are threads, links are queues.

Runs the same data-parallel code path as the real socket transport without
processes or sockets, so unit tests of the exchange stay fast. Byte counters
count payload bytes exactly like the real transports; nothing else is modelled
(no latency, no bandwidth).
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import TypeVar, cast

import numpy as np

from mlfleet.comm.transport.base import Message, Pending
from mlfleet.errors import RunError

T = TypeVar("T")


class _Fabric:
    """The shared queues and barrier of one loopback world."""

    def __init__(self, world_size: int) -> None:
        self.world_size = world_size
        self.links = {
            (s, d): queue.Queue[np.ndarray]() for s in range(world_size) for d in range(world_size)
        }
        self.barrier = threading.Barrier(world_size)


class _LoopbackPending(Pending):
    """A posted message; a receive completes when waited on (or an earlier one from its peer)."""

    __slots__ = ("peer", "buf", "done")

    def __init__(self, peer: int, buf: np.ndarray, done: bool) -> None:
        self.peer, self.buf, self.done = peer, buf, done


class LoopbackTransport:
    """One rank's end of a loopback world (see :func:`run_loopback`)."""

    def __init__(self, fabric: _Fabric, rank: int, *, timeout_s: float = 60.0) -> None:
        self._fabric = fabric
        self._rank = rank
        self._timeout_s = timeout_s
        self._sent = {peer: 0 for peer in range(fabric.world_size) if peer != rank}
        self._posted: dict[int, deque[_LoopbackPending]] = {}

    @property
    def rank(self) -> int:
        """This rank."""
        return self._rank

    @property
    def world_size(self) -> int:
        """Number of ranks."""
        return self._fabric.world_size

    def send(self, dst: int, buf: np.ndarray) -> None:
        """Enqueue a copy of ``buf`` for ``dst`` (zero bytes: nothing, as on every backend)."""
        if buf.nbytes == 0:
            return
        self._fabric.links[(self._rank, dst)].put(np.ascontiguousarray(buf).copy())
        self._sent[dst] += int(buf.nbytes)

    def recv(self, src: int, buf: np.ndarray) -> None:
        """Dequeue the next message from ``src`` into ``buf`` (sizes must match)."""
        if buf.nbytes == 0:
            return
        try:
            msg = self._fabric.links[(src, self._rank)].get(timeout=self._timeout_s)
        except queue.Empty:
            raise RunError(
                f"rank {self._rank}: no message from rank {src} in {self._timeout_s}s"
            ) from None
        if msg.nbytes != buf.nbytes:
            raise RunError(
                f"rank {self._rank}: got {msg.nbytes} bytes from {src}, expected {buf.nbytes}"
            )
        buf.reshape(-1).view(np.uint8)[:] = msg.reshape(-1).view(np.uint8)

    def sendrecv(self, dst: int, sendbuf: np.ndarray, src: int, recvbuf: np.ndarray) -> None:
        """Send then receive (queues are unbounded, so a ring cannot deadlock)."""
        self.send(dst, sendbuf)
        self.recv(src, recvbuf)

    def exchange(self, sends: Sequence[Message], recvs: Sequence[Message]) -> None:
        """All sends first, then the receives in order (cannot deadlock: sends never block)."""
        for dst, buf in sends:
            self.send(dst, buf)
        for src, buf in recvs:
            self.recv(src, buf)

    def isend(self, dst: int, buf: np.ndarray) -> Pending:
        """Send now (queues are unbounded); the handle is already complete."""
        self.send(dst, buf)
        return _LoopbackPending(dst, buf, done=True)

    def irecv(self, src: int, buf: np.ndarray) -> Pending:
        """Post a receive; it is matched in posting order when waited on."""
        pending = _LoopbackPending(src, buf, done=buf.nbytes == 0)
        if not pending.done:
            self._posted.setdefault(src, deque()).append(pending)
        return pending

    def wait(self, pending: Pending) -> None:
        """Complete ``pending`` (and every receive posted before it from the same peer)."""
        if not isinstance(pending, _LoopbackPending):
            raise TypeError(f"wait() takes a handle from this transport, not {pending!r}")
        queue = self._posted.get(pending.peer)
        while not pending.done and queue:
            head = queue.popleft()
            self.recv(head.peer, head.buf)
            head.done = True

    def bytes_sent(self) -> dict[int, int]:
        """Payload bytes sent to each peer so far."""
        return dict(self._sent)

    def barrier(self) -> None:
        """Wait for all ranks."""
        try:
            self._fabric.barrier.wait(timeout=self._timeout_s)
        except threading.BrokenBarrierError:
            raise RunError(f"rank {self._rank}: barrier broken or timed out") from None

    def close(self) -> None:
        """Nothing to release."""


def run_loopback(world_size: int, fn: Callable[[LoopbackTransport], T]) -> list[T]:
    """Run ``fn(transport)`` on ``world_size`` threads; results in rank order.

    Raises the first rank's exception (as :class:`RunError` if it was not one).
    """
    fabric = _Fabric(world_size)
    results: list[T | None] = [None] * world_size
    errors: list[BaseException | None] = [None] * world_size

    def body(rank: int) -> None:
        try:
            results[rank] = fn(LoopbackTransport(fabric, rank))
        except BaseException as exc:  # reported to the caller below
            errors[rank] = exc
            fabric.barrier.abort()

    threads = [threading.Thread(target=body, args=(r,), daemon=True) for r in range(world_size)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for rank, err in enumerate(errors):
        if err is not None:
            raise (
                err if isinstance(err, RunError) else RunError(f"rank {rank} failed: {err!r}")
            ) from err
    return [cast(T, r) for r in results]

"""mlfleet's own point-to-point transport: plain TCP, one thread, non-blocking sockets.

Why not torch: it starts in a fraction of a second, puts *only payload bytes*
on the wire during a collective (so the bytes on an emulated link can be
predicted exactly), can inject per-message latency, and fails fast.

Connections. Every rank owns one listening socket on its own IP; rank ``r``
connects to every lower rank and accepts every higher one, so a full mesh of
``n(n-1)/2`` TCP connections exists after :meth:`SocketTransport.connect`. The
connecting side sends a 12-byte handshake (``b"MLFT"``, its rank, the world
size); after that a connection carries payload only. Control bytes (the
handshake, and one byte per round of :meth:`SocketTransport.barrier`) are
counted apart, in :meth:`SocketTransport.control_bytes_sent`, never in
:meth:`SocketTransport.bytes_sent`. Ranks may live on different IPs (one network
namespace per rank): the rendezvous is just the list of ``(ip, port)``
listeners, handed over by the launcher or fixed in advance
(:meth:`SocketTransport.from_static_ports`: rank ``r`` listens on
``hosts[r]:base_port + r``).

Progress. :meth:`SocketTransport.exchange` posts all its messages and then loops:
it writes what each socket will take and reads what each has, and only when
nothing moved waits in a selector for readiness. Both directions of a
``sendrecv`` advance together, so a ring never deadlocks and a shaped link
stays busy. Sockets use ``TCP_NODELAY`` and large kernel buffers.

Latency. With ``latency_s > 0`` every message starts leaving ``latency_s``
after it is posted: a message of ``m`` bytes over a link of bandwidth ``B``
completes no sooner than ``latency_s + m/B`` (the α of the α-β model, which a
kernel without netem cannot add). Zero-byte messages are not sent at all, so
they cost no latency either.

Failure. A peer that closes its connection (a crash closes it too) or resets it
raises :class:`~mlfleet.errors.RunError` naming the peer at once; a peer that
stays silent for ``timeout_s`` while we wait on it raises one too. Nothing here
blocks without a deadline.
"""

from __future__ import annotations

import math
import selectors
import socket
import struct
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from mlfleet.comm.transport.base import Message, PeerLost, Pending, as_bytes, zero_counts
from mlfleet.errors import InputError, RunError

DEFAULT_BUFFER_BYTES = 4 * 2**20  # kernel caps it at net.core.[rw]mem_max; <= 0: autotune
_HANDSHAKE = struct.Struct("!4sII")
_MAGIC = b"MLFT"
_RETRY_S = 0.05

Address = tuple[str, int]


def bind_listener(ip: str = "127.0.0.1", port: int = 0, *,
                  buffer_bytes: int = DEFAULT_BUFFER_BYTES) -> socket.socket:
    """A listening TCP socket on ``ip:port`` (``port=0``: the kernel picks one).

    Buffer sizes are set on the listener so accepted connections inherit them
    before the TCP window is negotiated.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    _set_buffers(sock, buffer_bytes)
    try:
        sock.bind((ip, port))
    except OSError as exc:
        sock.close()
        raise RunError(f"cannot listen on {ip}:{port}: {exc}") from exc
    sock.listen(128)
    return sock


class _Op(Pending):
    """One posted message: a byte view, how much of it has moved, when it may leave."""

    __slots__ = ("peer", "view", "done", "ready_at", "counter")

    def __init__(self, peer: int, buf: np.ndarray, ready_at: float,
                 counter: dict[int, int] | None) -> None:
        self.peer = peer
        self.view = as_bytes(buf)
        self.done = 0
        self.ready_at = ready_at
        self.counter = counter

    @property
    def complete(self) -> bool:
        return self.done == len(self.view)


class SocketTransport:
    """A full TCP mesh between ``world_size`` ranks (see the module docstring)."""

    def __init__(self, *, rank: int, addresses: Sequence[Address],
                 socks: dict[int, socket.socket], timeout_s: float, latency_s: float,
                 control_bytes: dict[int, int]) -> None:
        self._rank = rank
        self._addresses = list(addresses)
        self._socks = socks
        self._timeout_s = timeout_s
        self._latency_s = latency_s
        self._sent = zero_counts(rank, len(addresses))
        self._control = control_bytes
        self._sel = selectors.DefaultSelector()
        self._interest: dict[int, int] = {}
        self._sendq: dict[int, deque[_Op]] = {}
        self._recvq: dict[int, deque[_Op]] = {}
        self._closed = False
        for sock in socks.values():
            sock.setblocking(False)

    # --- construction -----------------------------------------------------------

    @classmethod
    def connect(cls, *, rank: int, addresses: Sequence[Address], listener: socket.socket,
                timeout_s: float = 30.0, latency_s: float = 0.0,
                buffer_bytes: int = DEFAULT_BUFFER_BYTES) -> SocketTransport:
        """Build the mesh: connect to lower ranks, accept higher ones, within ``timeout_s``.

        ``addresses[r]`` is rank ``r``'s listener; ``listener`` is this rank's own
        (already listening). Raises RunError naming the rank that could not be
        reached.
        """
        world_size = len(addresses)
        assert 0 <= rank < world_size, (rank, world_size)
        deadline = time.monotonic() + timeout_s
        control = zero_counts(rank, world_size)
        socks: dict[int, socket.socket] = {}
        try:
            for peer in range(rank):
                socks[peer] = _dial(rank, peer, addresses[peer], deadline, buffer_bytes)
                socks[peer].sendall(_HANDSHAKE.pack(_MAGIC, rank, world_size))
                control[peer] += _HANDSHAKE.size
            while len(socks) < world_size - 1:
                peer, sock = _accept(rank, world_size, listener, deadline)
                if peer in socks:
                    sock.close()
                    raise RunError(f"rank {rank}: rank {peer} connected twice")
                socks[peer] = sock
        except BaseException:
            for sock in socks.values():
                sock.close()
            raise
        finally:
            listener.close()
        return cls(rank=rank, addresses=addresses, socks=socks, timeout_s=timeout_s,
                   latency_s=latency_s, control_bytes=control)

    @classmethod
    def from_static_ports(cls, *, rank: int, hosts: Sequence[str], base_port: int,
                          timeout_s: float = 30.0, latency_s: float = 0.0,
                          buffer_bytes: int = DEFAULT_BUFFER_BYTES) -> SocketTransport:
        """Rendezvous without a launcher: rank ``r`` listens on ``hosts[r]:base_port + r``."""
        addresses = [(host, base_port + r) for r, host in enumerate(hosts)]
        listener = bind_listener(*addresses[rank], buffer_bytes=buffer_bytes)
        return cls.connect(rank=rank, addresses=addresses, listener=listener,
                           timeout_s=timeout_s, latency_s=latency_s, buffer_bytes=buffer_bytes)

    # --- the Transport protocol -----------------------------------------------

    @property
    def rank(self) -> int:
        """This process's rank."""
        return self._rank

    @property
    def world_size(self) -> int:
        """Number of ranks."""
        return len(self._addresses)

    def send(self, dst: int, buf: np.ndarray) -> None:
        """Send ``buf`` to ``dst``; returns once the kernel holds every byte."""
        self.exchange([(dst, buf)], [])

    def recv(self, src: int, buf: np.ndarray) -> None:
        """Receive exactly ``buf.nbytes`` bytes from ``src`` into ``buf``."""
        self.exchange([], [(src, buf)])

    def sendrecv(self, dst: int, sendbuf: np.ndarray, src: int, recvbuf: np.ndarray) -> None:
        """Send to ``dst`` while receiving from ``src``."""
        self.exchange([(dst, sendbuf)], [(src, recvbuf)])

    def exchange(self, sends: Sequence[Message], recvs: Sequence[Message]) -> None:
        """Progress all sends and receives together (payload, counted in bytes_sent)."""
        self._exchange(sends, recvs, self._sent)

    def isend(self, dst: int, buf: np.ndarray) -> Pending:
        """Post a send to ``dst``; it leaves ``latency_s`` after now, as the socket takes it."""
        return self._post(self._sendq, dst, buf, self._sent)

    def irecv(self, src: int, buf: np.ndarray) -> Pending:
        """Post a receive from ``src`` into ``buf``."""
        return self._post(self._recvq, src, buf, None)

    def wait(self, pending: Pending) -> None:
        """Progress every posted message until ``pending`` has completed."""
        if not isinstance(pending, _Op):
            raise TypeError(f"wait() takes a handle from this transport, not {pending!r}")
        if not pending.complete:
            self._progress_until([pending])

    def bytes_sent(self) -> dict[int, int]:
        """Payload bytes sent to each peer so far (no handshake, no barrier bytes)."""
        return dict(self._sent)

    def control_bytes_sent(self) -> dict[int, int]:
        """Non-payload bytes sent to each peer: the handshake and barrier tokens."""
        return dict(self._control)

    def barrier(self) -> None:
        """Dissemination barrier: ceil(log2 n) rounds of one control byte each way."""
        n, r = self.world_size, self._rank
        token, got = np.zeros(1, np.uint8), np.zeros(1, np.uint8)
        distance = 1
        while distance < n:
            self._exchange([((r + distance) % n, token)], [((r - distance) % n, got)],
                           self._control)
            distance *= 2

    def close(self) -> None:
        """Close every connection. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._sel.close()
        for sock in self._socks.values():
            sock.close()

    # --- the progress engine ----------------------------------------------------
    #
    # Posted messages wait in per-peer FIFO queues (``_sendq``, ``_recvq``) that live
    # across calls; only the head of each queue moves. Every wait pumps all queues,
    # so messages posted earlier keep flowing while the caller waits on another.

    def _post(self, queues: dict[int, deque[_Op]], peer: int, buf: np.ndarray,
              counter: dict[int, int] | None) -> _Op:
        if self._closed:
            raise RunError(f"rank {self._rank}: transport used after close()")
        if peer not in self._socks:
            raise InputError(f"rank {self._rank}: peer(={peer!r}) must be another rank in "
                             f"0..{self.world_size - 1}")
        ready_at = time.monotonic() + self._latency_s if self._latency_s else 0.0
        op = _Op(peer, buf, ready_at, counter)
        if len(op.view):
            queues.setdefault(peer, deque()).append(op)
        return op

    def _exchange(self, sends: Sequence[Message], recvs: Sequence[Message],
                  counter: dict[int, int]) -> None:
        ops = [self._post(self._sendq, peer, buf, counter) for peer, buf in sends]
        ops += [self._post(self._recvq, peer, buf, None) for peer, buf in recvs]
        self._progress_until(ops)

    def _progress_until(self, ops: list[_Op]) -> None:
        """Pump every queue until each of ``ops`` has completed."""
        if self._closed:
            raise RunError(f"rank {self._rank}: transport used after close()")
        quiet_since = time.monotonic()
        pending = [op for op in ops if not op.complete]
        while pending:
            moved = self._pump_recvs()
            now = time.monotonic()
            moved = self._pump_sends(now) or moved
            pending = [op for op in pending if not op.complete]
            if moved:
                quiet_since = now
            elif pending:
                self._wait(now, quiet_since)

    def _pump_sends(self, now: float) -> bool:
        moved = False
        sendq = self._sendq
        for peer in list(sendq):
            queue = sendq[peer]
            op = queue[0]
            if op.ready_at > now:
                continue
            try:
                n = self._socks[peer].send(op.view[op.done:])
            except BlockingIOError:
                continue
            except OSError as exc:
                raise self._lost(peer, f"send failed: {exc}") from exc
            op.done += n
            if op.counter is not None:
                op.counter[peer] += n
            moved = moved or n > 0
            if op.done == len(op.view):
                queue.popleft()
                if not queue:
                    del sendq[peer]
        return moved

    def _pump_recvs(self) -> bool:
        moved = False
        recvq = self._recvq
        for peer in list(recvq):
            queue = recvq[peer]
            op = queue[0]
            try:
                n = self._socks[peer].recv_into(op.view[op.done:], len(op.view) - op.done)
            except BlockingIOError:
                continue
            except OSError as exc:
                raise self._lost(peer, f"receive failed: {exc}") from exc
            if n == 0:
                raise self._lost(peer, "it closed the connection (crashed or exited early?)")
            op.done += n
            moved = True
            if op.done == len(op.view):
                queue.popleft()
                if not queue:
                    del recvq[peer]
        return moved

    def _wait(self, now: float, quiet_since: float) -> None:
        """Sleep until a socket is ready, a send's latency elapses, or the silence limit.

        Silence counts from the last byte moved or the latest time a posted send
        became ready, whichever is later.
        """
        want = dict.fromkeys(self._recvq, selectors.EVENT_READ)
        wake_at = math.inf
        ready_since = quiet_since
        for peer, queue in self._sendq.items():
            head = queue[0].ready_at
            if head <= now:
                want[peer] = want.get(peer, 0) | selectors.EVENT_WRITE
                ready_since = max(ready_since, head)
            else:
                wake_at = min(wake_at, head)
        deadline = ready_since + self._timeout_s
        if wake_at == math.inf and now >= deadline:
            raise self._silent()
        wake_at = min(wake_at, deadline)
        self._set_interest(want)
        self._sel.select(max(0.0, wake_at - now))

    def _set_interest(self, want: dict[int, int]) -> None:
        # Registrations persist across calls: a ring reuses the same two sockets.
        for peer in [p for p in self._interest if p not in want]:
            self._sel.unregister(self._socks[peer])
            del self._interest[peer]
        for peer, events in want.items():
            if peer not in self._interest:
                self._sel.register(self._socks[peer], events)
            elif self._interest[peer] != events:
                self._sel.modify(self._socks[peer], events)
            self._interest[peer] = events

    def _lost(self, peer: int, why: str) -> PeerLost:
        host, port = self._addresses[peer]
        return PeerLost(f"rank {self._rank}: lost rank {peer} ({host}:{port}): {why}")

    def _silent(self) -> PeerLost:
        sending, receiving = sorted(self._sendq), sorted(self._recvq)
        waiting = sorted(set(sending) | set(receiving))
        return PeerLost(f"rank {self._rank}: timed out after {self._timeout_s:g}s with no "
                        f"progress to/from rank(s) {waiting} (sending to {sending}, "
                        f"receiving from {receiving})")


def _set_buffers(sock: socket.socket, buffer_bytes: int) -> None:
    if buffer_bytes <= 0:
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, buffer_bytes)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buffer_bytes)


def _dial(rank: int, peer: int, address: Address, deadline: float,
          buffer_bytes: int) -> socket.socket:
    """Connect to ``peer``'s listener, retrying refusals until ``deadline``."""
    last_error: OSError | None = None
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            host, port = address
            raise RunError(f"rank {rank}: could not connect to rank {peer} at {host}:{port}: "
                           f"{last_error or 'timed out'}")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        _set_buffers(sock, buffer_bytes)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(remaining)
        try:
            sock.connect(address)
            return sock
        except OSError as exc:
            sock.close()
            last_error = exc
        time.sleep(min(_RETRY_S, max(0.0, deadline - time.monotonic())))


def _accept(rank: int, world_size: int, listener: socket.socket,
            deadline: float) -> tuple[int, socket.socket]:
    """Accept one higher rank and read its handshake, within ``deadline``."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise RunError(f"rank {rank}: timed out waiting for higher ranks to connect")
    listener.settimeout(remaining)
    try:
        sock, _ = listener.accept()
    except TimeoutError as exc:
        raise RunError(f"rank {rank}: timed out waiting for higher ranks to connect") from exc
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.settimeout(max(0.01, deadline - time.monotonic()))
    try:
        magic, peer, size = _HANDSHAKE.unpack(_read_exactly(sock, _HANDSHAKE.size))
    except (OSError, struct.error) as exc:
        sock.close()
        raise RunError(f"rank {rank}: bad handshake from a connecting peer: {exc}") from exc
    if magic != _MAGIC or size != world_size or not rank < peer < world_size:
        sock.close()
        raise RunError(f"rank {rank}: unexpected handshake (magic={magic!r}, rank={peer}, "
                       f"world_size={size}); expected a higher rank of {world_size}")
    return peer, sock


def _read_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("connection closed during handshake")
        data += chunk
    return data


def local_mesh(world_size: int, *, ip: str = "127.0.0.1", timeout_s: float = 30.0,
               latency_s: float = 0.0,
               buffer_bytes: int = DEFAULT_BUFFER_BYTES) -> list[SocketTransport]:
    """``world_size`` connected transports inside this process, one per rank.

    For running every rank on a thread of one process (tests, notebooks): each
    transport must then be driven by its own thread. Raises RunError like
    :meth:`SocketTransport.connect`.
    """
    import threading

    listeners = [bind_listener(ip, buffer_bytes=buffer_bytes) for _ in range(world_size)]
    addresses = [listener.getsockname()[:2] for listener in listeners]
    made: list[SocketTransport | None] = [None] * world_size
    errors: list[BaseException] = []

    def connect(rank: int) -> None:
        try:
            made[rank] = SocketTransport.connect(
                rank=rank, addresses=addresses, listener=listeners[rank], timeout_s=timeout_s,
                latency_s=latency_s, buffer_bytes=buffer_bytes)
        except BaseException as exc:  # noqa: BLE001 - re-raised below in the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=connect, args=(r,)) for r in range(world_size)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        for transport in made:
            if transport is not None:
                transport.close()
        raise errors[0]
    return [t for t in made if t is not None]


def run_on_threads(transports: Sequence[SocketTransport],
                   fn: Callable[[SocketTransport], Any]) -> list[Any]:
    """Run ``fn(transport)`` for every rank on its own thread; results in rank order.

    A rank that raises closes its transport, so the ranks waiting on it fail at
    once; the first exception (by rank) is re-raised after every thread finished.
    """
    import threading

    results: list[Any] = [None] * len(transports)
    errors: dict[int, BaseException] = {}

    def body(rank: int) -> None:
        try:
            results[rank] = fn(transports[rank])
        except BaseException as exc:  # noqa: BLE001 - re-raised below in the caller's thread
            errors[rank] = exc
            transports[rank].close()  # so peers waiting on this rank fail fast, not hang

    threads = [threading.Thread(target=body, args=(r,)) for r in range(len(transports))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[min(errors)]
    return results

"""The socket transport: progress, exact counters, latency, and failing fast (never hanging)."""

from __future__ import annotations

import socket
import threading
import time

import numpy as np
import pytest

from mlfleet.comm.transport import GroupTransport, Transport
from mlfleet.comm.transport.base import PeerLost
from mlfleet.comm.transport.socket import (
    SocketTransport,
    bind_listener,
    local_mesh,
    run_on_threads,
)
from mlfleet.errors import InputError, RunError

HANG_GUARD_S = 20.0  # an upper bound that only catches hangs; not a performance claim


def mesh(n: int, **overrides: float) -> list[SocketTransport]:
    options = {"timeout_s": 10.0, **overrides}
    return local_mesh(n, **options)  # type: ignore[arg-type]


def test_implements_the_protocol() -> None:
    transports = mesh(2)
    assert all(isinstance(t, Transport) for t in transports)
    assert [(t.rank, t.world_size) for t in transports] == [(0, 2), (1, 2)]
    for t in transports:
        t.close()
        t.close()  # idempotent


def test_misuse_is_input_error_naming_the_value() -> None:
    transports = mesh(2)
    try:
        with pytest.raises(InputError, match=r"peer\(=7\) must be another rank in 0..1"):
            transports[0].send(7, np.zeros(4, np.float32))
        with pytest.raises(InputError, match="C-contiguous"):
            transports[0].send(1, np.zeros((4, 4), np.float32)[:, 0])
    finally:
        for t in transports:
            t.close()


def test_ring_sendrecv_of_large_buffers_does_not_deadlock_and_counts_exact_bytes() -> None:
    n, numel = 4, 3_000_000  # 12 MB per message: far beyond the socket buffers
    transports = mesh(n)

    def step(t: SocketTransport) -> np.ndarray:
        out = np.empty(numel, np.float32)
        t.sendrecv((t.rank + 1) % n, np.full(numel, t.rank, np.float32), (t.rank - 1) % n, out)
        return out

    outs = run_on_threads(transports, step)
    for r, out in enumerate(outs):
        assert np.all(out == (r - 1) % n)
        sent = transports[r].bytes_sent()
        assert sent == {p: (numel * 4 if p == (r + 1) % n else 0) for p in range(n) if p != r}
        assert set(transports[r].control_bytes_sent()) == set(sent)


def test_two_ranks_exchange_both_ways_on_one_connection() -> None:
    transports = mesh(2)

    def swap(t: SocketTransport) -> np.ndarray:
        out = np.empty(1_000_000, np.int64)
        peer = 1 - t.rank
        t.sendrecv(peer, np.arange(1_000_000, dtype=np.int64) * (t.rank + 1), peer, out)
        return out

    outs = run_on_threads(transports, swap)
    assert np.array_equal(outs[0], np.arange(1_000_000) * 2)
    assert np.array_equal(outs[1], np.arange(1_000_000))


def test_exchange_delivers_several_messages_to_one_peer_in_order() -> None:
    transports = mesh(3)

    def body(t: SocketTransport) -> list[np.ndarray]:
        if t.rank == 0:
            t.exchange([(1, np.array([1.0])), (1, np.array([2.0, 3.0])), (2, np.array([4.0]))], [])
            return []
        if t.rank == 1:
            a, b = np.empty(1), np.empty(2)
            t.exchange([], [(0, a), (0, b)])
            return [a, b]
        c = np.empty(1)
        t.recv(0, c)
        return [c]

    outs = run_on_threads(transports, body)
    assert [x.tolist() for x in outs[1]] == [[1.0], [2.0, 3.0]]
    assert outs[2][0].tolist() == [4.0]


def test_zero_byte_messages_are_no_ops_on_both_sides() -> None:
    transports = mesh(2)

    def body(t: SocketTransport) -> None:
        if t.rank == 0:
            t.send(1, np.empty(0, np.float32))  # the peer never posts a matching recv
        t.barrier()

    run_on_threads(transports, body)
    assert transports[0].bytes_sent() == {1: 0}


def test_barrier_and_handshake_bytes_are_control_not_payload() -> None:
    n = 5
    transports = mesh(n)
    before = [t.control_bytes_sent() for t in transports]
    run_on_threads(transports, lambda t: t.barrier())
    rounds = 3  # ceil(log2 5)
    for r, t in enumerate(transports):
        assert sum(t.bytes_sent().values()) == 0
        assert sum(t.control_bytes_sent().values()) - sum(before[r].values()) == rounds
        assert sum(before[r].values()) == 12 * r  # one handshake to each lower rank


def test_injected_latency_delays_each_message() -> None:
    latency_s = 0.05
    transports = mesh(2, latency_s=latency_s)

    def body(t: SocketTransport) -> float:
        buf = np.zeros(4, np.float32)
        start = time.perf_counter()
        for _ in range(3):  # three dependent messages in a chain
            if t.rank == 0:
                t.send(1, buf)
                t.recv(1, buf)
            else:
                t.recv(0, buf)
                t.send(0, buf)
        return time.perf_counter() - start

    elapsed = run_on_threads(transports, body)
    assert elapsed[0] >= 6 * latency_s * 0.95


def test_a_silent_peer_raises_peer_lost_naming_it_after_the_timeout() -> None:
    transports = mesh(2, timeout_s=0.5)
    start = time.monotonic()
    with pytest.raises(PeerLost, match=r"rank 0: timed out after 0.5s .*rank\(s\) \[1\]"):
        transports[0].recv(1, np.empty(10))
    assert 0.4 < time.monotonic() - start < HANG_GUARD_S


def test_a_peer_that_closes_mid_message_raises_at_once() -> None:
    transports = mesh(2, timeout_s=30.0)

    def body(t: SocketTransport) -> None:
        if t.rank == 1:
            time.sleep(0.2)
            t.close()
            return
        t.recv(1, np.empty(10))

    start = time.monotonic()
    with pytest.raises(PeerLost, match="rank 0: lost rank 1"):
        run_on_threads(transports, body)
    assert time.monotonic() - start < 5.0  # far below the 30 s timeout: EOF, not silence


def test_sending_to_a_closed_peer_raises() -> None:
    transports = mesh(2, timeout_s=5.0)
    transports[1].close()
    with pytest.raises(PeerLost, match="lost rank 1"):
        for _ in range(50):  # the first writes may still fit in the kernel buffer
            transports[0].send(1, np.zeros(1 << 20, np.uint8))
            time.sleep(0.01)


def test_connecting_to_a_dead_address_raises_run_error_naming_the_peer() -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    listener = bind_listener()
    start = time.monotonic()
    with pytest.raises(RunError, match=rf"rank 1: could not connect to rank 0 at 127.0.0.1:{dead_port}"):
        SocketTransport.connect(rank=1, addresses=[("127.0.0.1", dead_port),
                                                   listener.getsockname()],
                                listener=listener, timeout_s=0.5)
    assert time.monotonic() - start < HANG_GUARD_S


def test_waiting_for_a_peer_that_never_connects_times_out() -> None:
    listener = bind_listener()
    with pytest.raises(RunError, match="rank 0: timed out waiting for higher ranks"):
        SocketTransport.connect(rank=0, addresses=[listener.getsockname(), ("127.0.0.1", 9)],
                                listener=listener, timeout_s=0.3)


def test_a_stranger_connecting_is_rejected() -> None:
    listener = bind_listener()
    address = listener.getsockname()

    def stranger() -> None:
        with socket.create_connection(address) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            time.sleep(0.5)

    thread = threading.Thread(target=stranger)
    thread.start()
    with pytest.raises(RunError, match="unexpected handshake"):
        SocketTransport.connect(rank=0, addresses=[address, ("127.0.0.1", 9)],
                                listener=listener, timeout_s=5.0)
    thread.join()


def test_static_ports_rendezvous() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        base_port = probe.getsockname()[1]
    made: list[SocketTransport | None] = [None, None]

    def make(rank: int) -> None:
        made[rank] = SocketTransport.from_static_ports(
            rank=rank, hosts=["127.0.0.1", "127.0.0.1"], base_port=base_port, timeout_s=5.0)

    threads = [threading.Thread(target=make, args=(r,)) for r in (1, 0)]
    for thread in threads:
        thread.start()
        time.sleep(0.1)  # rank 1 starts first and must retry until rank 0 listens
    for thread in threads:
        thread.join()
    pair = [t for t in made if t is not None]
    assert len(pair) == 2
    outs = run_on_threads(pair, lambda t: _swap_rank(t))
    assert outs == [1, 0]


def _swap_rank(t: SocketTransport) -> int:
    out = np.empty(1, np.int64)
    t.sendrecv(1 - t.rank, np.array([t.rank]), 1 - t.rank, out)
    return int(out[0])


def test_group_transport_renumbers_and_passes_bytes_through() -> None:
    transports = mesh(4)

    def body(t: SocketTransport) -> int:
        group = GroupTransport(t, [3, 1] if t.rank in (1, 3) else [0, 2])
        out = np.empty(1, np.int64)
        group.sendrecv(1 - group.rank, np.array([t.rank]), 1 - group.rank, out)
        return int(out[0])

    assert run_on_threads(transports, body) == [2, 3, 0, 1]
    assert transports[3].bytes_sent() == {0: 0, 1: 8, 2: 0}
    assert GroupTransport(transports[3], [3, 1]).bytes_sent() == {1: 8}


def test_transport_used_after_close_raises() -> None:
    transports = mesh(2)
    transports[0].close()
    with pytest.raises(RunError, match="after close"):
        transports[0].send(1, np.zeros(1))


def test_posted_messages_match_in_posting_order_whatever_order_they_are_waited_in() -> None:
    transports = mesh(2)
    sizes = [5, 0, 200_000, 3, 1_000_000]  # one zero-byte message, some beyond the buffers

    def body(t: SocketTransport) -> list[np.ndarray]:
        if t.rank == 0:
            handles = [t.isend(1, np.full(m, i, np.int32)) for i, m in enumerate(sizes)]
            for handle in reversed(handles):
                t.wait(handle)
            return []
        outs = [np.full(m, -1, np.int32) for m in sizes]
        handles = [t.irecv(0, out) for out in outs]
        for i in (4, 0, 2, 1, 3):  # the last posted first: it progresses the earlier ones
            t.wait(handles[i])
        return outs

    outs = run_on_threads(transports, body)[1]
    for i, out in enumerate(outs):
        assert out.size == sizes[i] and np.all(out == i)
    assert transports[0].bytes_sent() == {1: 4 * sum(sizes)}


def test_posted_sends_and_receives_progress_together_without_deadlock() -> None:
    n, numel, messages = 4, 300_000, 6  # every rank posts all its sends before any receive

    def body(t: SocketTransport) -> list[np.ndarray]:
        sends = [t.isend((t.rank + 1) % n, np.full(numel, 10 * t.rank + i, np.float32))
                 for i in range(messages)]
        outs = [np.empty(numel, np.float32) for _ in range(messages)]
        recvs = [t.irecv((t.rank - 1) % n, out) for out in outs]
        for handle in recvs + sends:
            t.wait(handle)
        return outs

    for r, outs in enumerate(run_on_threads(mesh(n), body)):
        left = (r - 1) % n
        assert [float(o[0]) for o in outs] == [10 * left + i for i in range(messages)]


def test_wait_rejects_a_handle_from_another_transport_and_silence_times_out() -> None:
    a, b = mesh(2, timeout_s=0.5)
    with pytest.raises(TypeError, match="handle"):
        a.wait(object())  # type: ignore[arg-type]
    handle = a.irecv(1, np.empty(8))
    with pytest.raises(PeerLost, match=r"rank 0: timed out after 0.5s"):
        a.wait(handle)
    b.close()
    a.close()

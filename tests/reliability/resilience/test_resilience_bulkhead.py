"""Bulkhead: threads hammering a pool never find more than N inside; a hypothesis state
machine drives the asyncio pool against a reference (FIFO hand-over, bounded queue)."""

from __future__ import annotations

import asyncio
import threading
from collections import deque

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from mlfleet.errors import InputError
from mlfleet.reliability.resilience.bulkhead import (
    AsyncBulkhead,
    Bulkhead,
    BulkheadConfig,
    BulkheadPools,
)


@pytest.mark.parametrize("max_waiting", [0, 3, 64])
def test_threads_never_exceed_the_pool(max_waiting: int) -> None:
    pool = Bulkhead(BulkheadConfig(max_concurrent=3, max_waiting=max_waiting, max_wait_s=5.0))
    inside, peak, admitted = [0], [0], [0]
    lock = threading.Lock()
    start = threading.Barrier(12)

    def worker() -> None:
        start.wait()
        for _ in range(300):
            if not pool.acquire():
                continue
            with lock:
                inside[0] += 1
                admitted[0] += 1
                peak[0] = max(peak[0], inside[0])
                assert inside[0] <= 3
            with lock:
                inside[0] -= 1
            pool.release()

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    snap = pool.snapshot()
    assert peak[0] <= 3 and snap.inside == 0 and snap.waiting == 0
    assert snap.admitted_total == admitted[0]
    assert snap.admitted_total + snap.rejected_total == 12 * 300


def test_full_pool_without_queue_rejects_at_once() -> None:
    pool = Bulkhead(BulkheadConfig(max_concurrent=1))
    assert pool.acquire() and not pool.acquire() and not pool.acquire(blocking=False)
    pool.release()
    assert pool.acquire(blocking=False)


def test_waiter_gives_up_after_max_wait() -> None:
    pool = Bulkhead(BulkheadConfig(max_concurrent=1, max_waiting=1, max_wait_s=0.01))
    assert pool.acquire()
    assert not pool.acquire()  # waited 10 ms, nobody released
    assert pool.snapshot().rejected_total == 1


def test_pools_are_separate_per_name() -> None:
    pools = BulkheadPools(Bulkhead, BulkheadConfig(max_concurrent=1))
    assert pools["ranker"].acquire() and pools["tenant-b"].acquire()
    assert not pools["ranker"].acquire()
    assert list(pools.snapshots()) == ["ranker", "tenant-b"]


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(InputError, match=r"max_concurrent\(=0\)"):
        BulkheadConfig(max_concurrent=0)
    with pytest.raises(InputError, match=r"max_waiting\(=-1\)"):
        BulkheadConfig(max_waiting=-1)


class AsyncBulkheadMachine(RuleBasedStateMachine):
    """Callers arrive, leave, or give up; the reference is a counter and a FIFO line."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.pool = AsyncBulkhead(BulkheadConfig(max_concurrent=2, max_waiting=2))
        self.inside: list[int] = []  # callers holding a slot (model)
        self.line: deque[int] = deque()  # callers waiting, in order (model)
        self.tasks: dict[int, asyncio.Task[bool]] = {}
        self.next_id = 0

    def settle(self) -> None:
        self.loop.run_until_complete(asyncio.sleep(0))
        self.loop.run_until_complete(asyncio.sleep(0))

    @rule()
    def arrive(self) -> None:
        cid, self.next_id = self.next_id, self.next_id + 1
        self.tasks[cid] = self.loop.create_task(self.pool.acquire())
        self.settle()
        if len(self.inside) < 2 and not self.line:
            self.inside.append(cid)
            assert self.tasks[cid].done() and self.tasks[cid].result()
        elif len(self.line) < 2:
            self.line.append(cid)
            assert not self.tasks[cid].done()
        else:
            assert self.tasks[cid].done() and not self.tasks[cid].result()

    @precondition(lambda self: bool(self.inside))
    @rule(index=st.integers(0, 5))
    def leave(self, index: int) -> None:
        self.inside.pop(index % len(self.inside))
        self.pool.release()
        if self.line:
            self.inside.append(self.line.popleft())
        self.settle()

    @precondition(lambda self: bool(self.line))
    @rule(index=st.integers(0, 5))
    def give_up(self, index: int) -> None:
        cid = self.line[index % len(self.line)]
        self.tasks[cid].cancel()
        self.settle()
        self.line.remove(cid)

    @invariant()
    def counts_match(self) -> None:
        snap = self.pool.snapshot()
        assert snap.inside == len(self.inside) <= 2
        assert snap.waiting == len(self.line) <= 2
        assert not (self.line and len(self.inside) < 2)  # nobody waits beside a free slot
        for cid in self.inside:
            assert self.tasks[cid].done() and self.tasks[cid].result()

    def teardown(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        self.settle()
        self.loop.close()


TestAsyncBulkheadMachine = AsyncBulkheadMachine.TestCase
TestAsyncBulkheadMachine.settings = settings(max_examples=100, stateful_step_count=30,
                                             deadline=None)

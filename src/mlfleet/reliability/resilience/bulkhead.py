"""Bulkhead: bounded concurrency per pool (per model or per tenant), a bounded wait queue,
and rejection beyond it, so one overloaded dependency cannot take every worker with it.

Semantics (resilience4j's SemaphoreBulkhead, https://resilience4j.readme.io/docs/bulkhead,
with Hystrix's bounded queue, https://github.com/Netflix/Hystrix/wiki/How-it-Works):
at most ``max_concurrent`` callers are inside; a caller that finds the pool full waits
if fewer than ``max_waiting`` are already waiting (first come, first served), else it is
rejected at once; a waiter gives up after ``max_wait_s``. Invariants, checked by the
tests with threads and a hypothesis state machine: ``0 <= inside <= max_concurrent``,
``0 <= waiting <= max_waiting``, and nobody waits while a slot is free.

:class:`Bulkhead` serves threads, :class:`AsyncBulkhead` one asyncio event loop (the
real server); :class:`BulkheadPools` keeps one of either per pool name.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from mlfleet.checks import positive, positive_int


@dataclass(frozen=True, kw_only=True)
class BulkheadConfig:
    """The size of one pool."""

    max_concurrent: int = 8
    """Callers inside at once."""
    max_waiting: int = 0
    """Callers allowed to wait for a slot (0: reject as soon as the pool is full)."""
    max_wait_s: float | None = None
    """Longest a caller waits before giving up (rejected); ``None``: no limit."""

    def __post_init__(self) -> None:
        positive_int("max_concurrent", self.max_concurrent)
        positive_int("max_waiting", self.max_waiting, minimum=0)
        if self.max_wait_s is not None:
            positive("max_wait_s", self.max_wait_s)


@dataclass(frozen=True, kw_only=True)
class BulkheadSnapshot:
    """A pool's counts at one instant."""

    inside: int
    waiting: int
    admitted_total: int
    rejected_total: int


class Bulkhead:
    """A pool for threads: :meth:`acquire` blocks (bounded), :meth:`release` frees a slot."""

    def __init__(self, config: BulkheadConfig | None = None) -> None:
        self.config = config or BulkheadConfig()
        self._cond = threading.Condition()
        self._inside = self._waiting = self._admitted = self._rejected = 0
        self._queue: deque[object] = deque()

    def acquire(self, *, blocking: bool = True) -> bool:
        """Enter the pool; False (rejected) when full and the wait queue is full, when
        ``blocking`` is False and no slot is free, or when ``max_wait_s`` passes."""
        with self._cond:
            if self._inside < self.config.max_concurrent and not self._queue:
                return self._admit()
            if not blocking or len(self._queue) >= self.config.max_waiting:
                self._rejected += 1
                return False
            me = object()
            self._queue.append(me)
            ok = self._cond.wait_for(
                lambda: self._queue[0] is me and self._inside < self.config.max_concurrent,
                timeout=self.config.max_wait_s)
            self._queue.remove(me)
            self._cond.notify_all()  # the next in line may be free to enter now
            if not ok:
                self._rejected += 1
                return False
            return self._admit()

    def release(self) -> None:
        """Leave the pool (once per successful :meth:`acquire`)."""
        with self._cond:
            assert self._inside > 0, "release without acquire"
            self._inside -= 1
            self._cond.notify_all()

    def snapshot(self) -> BulkheadSnapshot:
        with self._cond:
            return BulkheadSnapshot(inside=self._inside, waiting=len(self._queue),
                                    admitted_total=self._admitted,
                                    rejected_total=self._rejected)

    def _admit(self) -> bool:
        self._inside += 1
        self._admitted += 1
        assert 0 < self._inside <= self.config.max_concurrent
        return True


class AsyncBulkhead:
    """A pool for one asyncio event loop (not thread-safe): FIFO waiters on futures."""

    def __init__(self, config: BulkheadConfig | None = None) -> None:
        self.config = config or BulkheadConfig()
        self._inside = self._admitted = self._rejected = 0
        self._queue: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> bool:
        """Enter the pool, waiting in line if allowed; False when rejected."""
        if self._inside < self.config.max_concurrent and not self._queue:
            return self._admit()
        if len(self._queue) >= self.config.max_waiting:
            self._rejected += 1
            return False
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(turn)
        try:
            await asyncio.wait_for(asyncio.shield(turn), self.config.max_wait_s)
        except BaseException as exc:  # timeout or cancellation while waiting
            return self._give_up(turn, exc)
        return True  # the slot was handed over by release()

    def release(self) -> None:
        """Leave the pool; the first waiter (if any) takes the slot over directly."""
        assert self._inside > 0, "release without acquire"
        while self._queue:
            turn = self._queue.popleft()
            if not turn.done():
                self._admitted += 1
                turn.set_result(None)  # the slot passes on: ``inside`` stays the same
                return
        self._inside -= 1

    def _give_up(self, turn: asyncio.Future[None], exc: BaseException) -> bool:
        """A waiter stops waiting: keep a slot handed over at the last moment on a
        timeout, pass it on when cancelled; otherwise leave the line."""
        handed_over = turn.done() and not turn.cancelled()
        if handed_over and isinstance(exc, TimeoutError):
            return True
        if handed_over:
            self.release()
            raise exc
        turn.cancel()
        self._queue.remove(turn)
        if isinstance(exc, TimeoutError):
            self._rejected += 1
            return False
        raise exc

    def snapshot(self) -> BulkheadSnapshot:
        return BulkheadSnapshot(inside=self._inside, waiting=len(self._queue),
                                admitted_total=self._admitted, rejected_total=self._rejected)

    def _admit(self) -> bool:
        self._inside += 1
        self._admitted += 1
        assert 0 < self._inside <= self.config.max_concurrent
        return True


P = TypeVar("P", Bulkhead, AsyncBulkhead)


class BulkheadPools(Generic[P]):
    """One pool per name (a model, a tenant), each built from the same config."""

    def __init__(self, make: Callable[[BulkheadConfig], P], config: BulkheadConfig) -> None:
        self._make: Callable[[BulkheadConfig], P] = make
        self.config = config
        self._pools: dict[str, P] = {}
        self._lock = threading.Lock()

    def __getitem__(self, name: str) -> P:
        with self._lock:
            if name not in self._pools:
                self._pools[name] = self._make(self.config)
            return self._pools[name]

    def snapshots(self) -> dict[str, BulkheadSnapshot]:
        with self._lock:
            pools = dict(self._pools)
        return {name: pool.snapshot() for name, pool in sorted(pools.items())}

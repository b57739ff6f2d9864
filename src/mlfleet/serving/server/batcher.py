"""The two batchers: asyncio tasks that form batches and hand them to the worker thread.

* :class:`DynamicBatcher` (ranker path). Policy, exactly (the calibrated simulator in
  :mod:`mlfleet.serving.calibrate` replays the same rules): whenever the worker is free,
  if at least ``max_batch_size`` requests wait, dispatch that many at once (FIFO);
  otherwise dispatch everything waiting as soon as the oldest request has waited
  ``max_queue_delay_s``. One batch runs at a time.
* :class:`ContinuousBatcher` (generate path, Orca's iteration-level scheduling). Each
  iteration decodes one token for every running sequence and prefills the sequences
  admitted since the last iteration into free KV-cache slots; finished sequences leave
  between iterations, so short requests never wait for long ones.

Both run the torch work with ``loop.run_in_executor`` on a one-thread executor so the
event loop keeps serving HTTP while a batch computes. Every item has a ``started``
future (set when it leaves the queue) and a ``done`` future; a request whose deadline
passes while it is still queued is failed with :class:`DeadlineExceeded` and never runs.
"""

from __future__ import annotations

import asyncio
import enum
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from mlfleet.serving.server.config import ContinuousBatchingConfig, DynamicBatchingConfig
from mlfleet.serving.server.runner import ModelRunner, PrefillInput, RankInput


class DeadlineExceeded(Exception):
    """The request's deadline passed before it left the queue."""


class ShuttingDown(Exception):
    """The server stopped before the request ran."""


class ItemState(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"


@dataclass(eq=False, kw_only=True)
class WorkItem:
    """One request inside a batcher; times are ``loop.time()`` seconds."""

    payload: Any
    enqueued_s: float
    deadline_s: float | None
    started: asyncio.Future[None]
    done: asyncio.Future[Any]
    state: ItemState = ItemState.QUEUED
    dispatched_s: float = float("nan")
    finished_s: float = float("nan")
    batch_size: int = 0


@dataclass(eq=False, kw_only=True)
class GenerationItem(WorkItem):
    """A sequence: its prompt, its tokens so far and a queue streaming them out (``None`` ends)."""

    max_new_tokens: int
    slot: int = -1
    generated: list[int] = field(default_factory=list)
    first_token_s: float = float("nan")
    tokens: asyncio.Queue[int | None] = field(default_factory=asyncio.Queue)


@dataclass(frozen=True, slots=True)
class BatchRecord:
    """One executed batch (rank) or iteration (generate), for ``/v1/stats`` and calibration."""

    route: str
    dispatched_s: float
    size: int
    """Requests in the batch (rank) or running sequences decoded (generate)."""
    prefill: int
    """Sequences prefilled in this iteration (generate), 0 for rank."""
    cycle_s: float
    """Dispatch to results back on the loop: the time the server was busy with it."""
    run_s: float
    """Compute time measured on the worker thread."""


class _Batcher:
    """Shared queue, deadline and lifecycle handling."""

    route = ""

    def __init__(self, *, queue_capacity: int, executor: Executor,
                 on_batch: Callable[[BatchRecord], None]) -> None:
        self.queue_capacity = queue_capacity
        self._executor = executor
        self._on_batch = on_batch
        self._queue: deque[WorkItem] = deque()
        self._queued = 0
        self._arrived = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.served_per_s_ewma = 0.0
        """Recent throughput (requests per busy second), for Retry-After estimates."""

    @property
    def queued(self) -> int:
        """Live requests waiting (cancelled ones excluded)."""
        return self._queued

    @property
    def running(self) -> int:
        return 0

    @property
    def alive(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run(), name=f"batcher-{self.route}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        while self._queue:
            self._fail(self._queue.popleft(), ShuttingDown("server stopped"))

    async def run(self) -> None:
        raise NotImplementedError

    def _enqueue(self, item: WorkItem) -> WorkItem:
        self._queue.append(item)
        self._queued += 1
        self._arrived.set()
        return item

    def cancel(self, item: WorkItem) -> bool:
        """Withdraw a queued item (deadline, client gone); False if it already started."""
        if item.state is not ItemState.QUEUED:
            return False
        item.state = ItemState.CANCELLED
        self._queued -= 1
        return True

    def _pop_live(self, now_s: float) -> WorkItem | None:
        """The oldest queued item still wanted; expired ones are failed on the way."""
        while self._queue:
            item = self._queue.popleft()
            if item.state is ItemState.CANCELLED:
                continue
            self._queued -= 1
            if item.deadline_s is not None and now_s > item.deadline_s:
                self._fail(item, DeadlineExceeded("deadline exceeded in queue"))
                continue
            return item
        return None

    def _peek_live(self) -> WorkItem | None:
        while self._queue and self._queue[0].state is ItemState.CANCELLED:
            self._queue.popleft()
        return self._queue[0] if self._queue else None

    @staticmethod
    def _fail(item: WorkItem, exc: Exception) -> None:
        if item.state is ItemState.QUEUED:
            item.state = ItemState.CANCELLED
        for fut in (item.started, item.done):
            if not fut.done():
                fut.set_exception(exc)
                fut.exception()  # mark retrieved: the handler may have gone already

    @staticmethod
    def _start(item: WorkItem, now_s: float, batch_size: int) -> None:
        item.state = ItemState.RUNNING
        item.dispatched_s = now_s
        item.batch_size = batch_size
        if not item.started.done():
            item.started.set_result(None)

    def _observe_rate(self, served: int, cycle_s: float) -> None:
        rate = served / max(cycle_s, 1e-6)
        alpha = 0.2
        self.served_per_s_ewma = rate if self.served_per_s_ewma == 0 else (
            (1 - alpha) * self.served_per_s_ewma + alpha * rate)


class DynamicBatcher(_Batcher):
    """Max-batch / max-delay dynamic batching of rank requests (see module docstring)."""

    route = "rank"

    def __init__(self, *, config: DynamicBatchingConfig, runner: ModelRunner, executor: Executor,
                 on_batch: Callable[[BatchRecord], None]) -> None:
        super().__init__(queue_capacity=config.queue_capacity, executor=executor,
                         on_batch=on_batch)
        self.config = config
        self._runner = runner
        self._full = asyncio.Event()

    def submit(self, payload: RankInput, *, deadline_s: float | None) -> WorkItem:
        """Queue a request (admission already passed); await ``item.done`` for its scores."""
        loop = asyncio.get_running_loop()
        item = WorkItem(payload=payload, enqueued_s=loop.time(), deadline_s=deadline_s,
                        started=loop.create_future(), done=loop.create_future())
        self._enqueue(item)
        if self._queued >= self.config.max_batch_size:
            self._full.set()
        return item

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wait_until_ready(loop)
            now = loop.time()
            batch: list[WorkItem] = []
            while len(batch) < self.config.max_batch_size:
                item = self._pop_live(now)
                if item is None:
                    break
                batch.append(item)
            if batch:
                await self._execute(batch, loop)

    async def _wait_until_ready(self, loop: asyncio.AbstractEventLoop) -> None:
        """Return when a full batch waits or the oldest waiter reached the max delay."""
        while True:
            oldest = self._peek_live()
            if oldest is None:
                self._arrived.clear()
                await self._arrived.wait()
                continue
            if self._queued >= self.config.max_batch_size:
                return
            dispatch_at = oldest.enqueued_s + self.config.max_queue_delay_s
            if loop.time() >= dispatch_at:
                return
            self._full.clear()
            try:
                async with asyncio.timeout_at(dispatch_at):
                    await self._full.wait()
            except TimeoutError:
                pass

    async def _execute(self, batch: list[WorkItem], loop: asyncio.AbstractEventLoop) -> None:
        t0 = loop.time()
        for item in batch:
            self._start(item, t0, len(batch))
        try:
            scores, run_s = await loop.run_in_executor(
                self._executor, self._runner.rank, [item.payload for item in batch])
        except Exception as exc:  # a model failure fails this batch, not the server
            for item in batch:
                self._fail(item, exc)
            return
        t1 = loop.time()
        for item, result in zip(batch, scores, strict=True):
            item.state = ItemState.DONE
            item.finished_s = t1
            if not item.done.done():
                item.done.set_result(result)
        self._observe_rate(len(batch), t1 - t0)
        self._on_batch(BatchRecord(route=self.route, dispatched_s=t0, size=len(batch), prefill=0,
                                   cycle_s=t1 - t0, run_s=run_s))


class ContinuousBatcher(_Batcher):
    """Iteration-level batching of generation over the runner's KV-cache slots."""

    route = "generate"

    def __init__(self, *, config: ContinuousBatchingConfig, runner: ModelRunner,
                 executor: Executor, on_batch: Callable[[BatchRecord], None]) -> None:
        super().__init__(queue_capacity=config.queue_capacity, executor=executor,
                         on_batch=on_batch)
        self.config = config
        self._runner = runner
        self._free_slots = list(range(config.max_running - 1, -1, -1))
        self._running: list[GenerationItem] = []

    @property
    def running(self) -> int:
        return len(self._running)

    def submit(self, prompt: tuple[int, ...], *, max_new_tokens: int,
               deadline_s: float | None) -> GenerationItem:
        """Queue a sequence; read ``item.tokens`` to stream, or await ``item.done``."""
        loop = asyncio.get_running_loop()
        item = GenerationItem(payload=prompt, enqueued_s=loop.time(), deadline_s=deadline_s,
                              started=loop.create_future(), done=loop.create_future(),
                              max_new_tokens=max_new_tokens)
        self._enqueue(item)
        return item

    def abandon(self, item: GenerationItem) -> None:
        """The client went away: withdraw it if queued, or stop it at the next iteration."""
        if not self.cancel(item) and item.state is ItemState.RUNNING:
            item.state = ItemState.CANCELLED

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._release([it for it in self._running if it.state is ItemState.CANCELLED])
            new = self._admit(loop.time())
            if not new and not self._running:
                self._arrived.clear()
                await self._arrived.wait()
                continue
            await self._iterate(new, loop)

    def _admit(self, now_s: float) -> list[GenerationItem]:
        new: list[GenerationItem] = []
        while self._free_slots:
            item = self._pop_live(now_s)
            if item is None:
                break
            assert isinstance(item, GenerationItem)
            item.slot = self._free_slots.pop()
            self._start(item, now_s, len(self._running) + len(new) + 1)
            new.append(item)
        return new

    async def _iterate(self, new: list[GenerationItem], loop: asyncio.AbstractEventLoop) -> None:
        decoding = list(self._running)
        t0 = loop.time()
        try:
            out = await loop.run_in_executor(
                self._executor, self._runner.step,
                [PrefillInput(slot=it.slot, prompt=it.payload) for it in new],
                [it.slot for it in decoding], [it.generated[-1] for it in decoding])
        except Exception as exc:  # a model failure fails these sequences, not the server
            for item in new + decoding:
                self._fail(item, exc)
                item.tokens.put_nowait(None)
            self._release(new + decoding)
            return
        t1 = loop.time()
        for item, token in zip(new, out.first_tokens, strict=True):
            item.first_token_s = t1
            self._running.append(item)
            self._emit(item, token, t1)
        for item, token in zip(decoding, out.next_tokens, strict=True):
            self._emit(item, token, t1)
        self._release([it for it in self._running if it.state is ItemState.DONE])
        self._observe_rate(len(new) + len(decoding), t1 - t0)
        self._on_batch(BatchRecord(route=self.route, dispatched_s=t0, size=len(decoding),
                                   prefill=len(new), cycle_s=t1 - t0, run_s=out.run_s))

    def _emit(self, item: GenerationItem, token: int, now_s: float) -> None:
        if item.state is not ItemState.RUNNING:
            return
        item.generated.append(token)
        item.tokens.put_nowait(token)
        if len(item.generated) >= item.max_new_tokens:
            item.state = ItemState.DONE
            item.finished_s = now_s
            item.tokens.put_nowait(None)
            if not item.done.done():
                item.done.set_result(list(item.generated))

    def _release(self, items: list[GenerationItem]) -> None:
        for item in items:
            if item in self._running:
                self._running.remove(item)
            if item.slot >= 0:
                self._free_slots.append(item.slot)
                item.slot = -1

    async def stop(self) -> None:
        await super().stop()
        for item in self._running:
            self._fail(item, ShuttingDown("server stopped"))
            item.tokens.put_nowait(None)
        self._release(list(self._running))

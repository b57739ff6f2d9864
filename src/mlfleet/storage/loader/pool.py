"""The multi-process loader: one process per worker, a bounded queue each, round-robin.

Like PyTorch's ``DataLoader`` with ``num_workers=W, prefetch_factor=P``: worker ``w``
runs :func:`~mlfleet.storage.loader.reader.worker_batches` and puts each batch on its
own queue of ``P`` batches (a full queue blocks it: that is the prefetch depth); the
consumer takes batches from the workers in turn. Batches cross the process boundary
pickled through a pipe (PyTorch uses shared memory for tensors; here the copy is the
IPC cost the starvation model's ``main_s_per_sample`` stands for).

Workers ignore SIGINT; the consumer stops them on any exit (Ctrl-C included): a stop
event they poll between samples, then SIGTERM after 0.3 s, then SIGKILL, so nothing
outlives the loader. A worker also quits when its parent is gone.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from types import TracebackType
from typing import Any

from mlfleet.errors import RunError
from mlfleet.storage.loader.reader import Batch, LoaderConfig, worker_batches
from mlfleet.storage.loader.write import Dataset

POLL_S = 0.1
"""How often a blocked worker or consumer looks at the stop event and its peers."""
GRACE_S = 0.3
"""How long stopped workers get to exit before SIGTERM (and again before SIGKILL)."""
KILL_WAIT_S = 5.0
"""How long to wait for killed workers to be reaped (a loaded host can take a while)."""


@dataclass(frozen=True, kw_only=True)
class WorkerStats:
    """What one worker did in an epoch."""

    worker: int
    """Worker index."""
    samples: int
    """Samples it produced."""
    cpu_s: float
    """CPU seconds it spent (read, decompress, decode, batch, pickle)."""


@dataclass(kw_only=True)
class EpochStats:
    """Counters and clocks of one epoch, filled while it runs."""

    samples: int = 0
    """Samples the consumer received."""
    batches: int = 0
    """Batches the consumer received."""
    first_batch_samples: int = 0
    """Size of the first batch (excluded from the steady-state rate)."""
    start_s: float = 0.0
    """perf_counter at the start (before the workers start)."""
    first_batch_s: float = 0.0
    """perf_counter when the first batch arrived."""
    end_s: float = 0.0
    """perf_counter when the last batch arrived."""
    main_cpu_s: float = 0.0
    """CPU seconds of the consumer process over the epoch."""
    workers: list[WorkerStats] = field(default_factory=list)
    """Per-worker counters (complete once the epoch ends)."""

    @property
    def steady_samples_per_s(self) -> float:
        """Samples/s from the first batch's arrival to the last (startup excluded)."""
        span_s = self.end_s - self.first_batch_s
        steady = self.samples - self.first_batch_samples
        return steady / span_s if span_s > 0 and steady > 0 else self.samples_per_s

    @property
    def samples_per_s(self) -> float:
        """Samples/s over the whole epoch, worker startup included."""
        span_s = self.end_s - self.start_s
        return self.samples / span_s if span_s > 0 else 0.0


def _context(dataset: Dataset) -> Any:
    """Fork, after importing the reader's library here, so no worker pays for the import
    and worker CPU time is the data path's."""
    if dataset.format == "parquet":
        import pyarrow.parquet  # noqa: F401
    return mp.get_context("fork")


def _worker_main(dataset: Dataset, config: LoaderConfig, worker: int, epoch: int,
                 out: Any, stop: Event) -> None:
    """Entry point of a worker process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the CLI's handler: die quietly
    start_cpu_s, samples = time.process_time(), 0
    try:
        for batch in worker_batches(dataset, config, worker=worker, epoch=epoch,
                                    stop=stop.is_set):
            samples += len(batch.keys)
            if not _put(out, batch, stop):
                out.cancel_join_thread()
                return
        stats = WorkerStats(worker=worker, samples=samples,
                            cpu_s=time.process_time() - start_cpu_s)
        _put(out, ("done", stats), stop)
    except Exception as exc:  # noqa: BLE001 - reported to the consumer, which raises it
        _put(out, ("error", f"{type(exc).__name__}: {exc}"), stop)


def _parent_alive() -> bool:
    parent = mp.parent_process()
    return parent is None or parent.is_alive()


def _put(out: Any, item: object, stop: Event) -> bool:
    """Put ``item``, waiting while the queue is full; False once stopped or orphaned."""
    while not stop.is_set() and _parent_alive():
        try:
            out.put(item, timeout=POLL_S)
            return True
        except queue.Full:
            continue
    return False


class EpochRun:
    """One epoch of the loader: ``with EpochRun(...) as run: for batch in run: ...``."""

    def __init__(self, dataset: Dataset, config: LoaderConfig, *, epoch: int = 0) -> None:
        self.dataset, self.config, self.epoch = dataset, config, epoch
        self.stats = EpochStats()
        self._procs: list[BaseProcess] = []
        self._queues: list[Any] = []
        self._stop: Event | None = None

    def __enter__(self) -> EpochRun:
        ctx = _context(self.dataset)
        self.stats.start_s, self._cpu0 = time.perf_counter(), time.process_time()
        self._stop = ctx.Event()
        try:  # a Ctrl-C between two starts must still reap the first (no __exit__ then)
            for w in range(self.config.workers):
                q = ctx.Queue(maxsize=self.config.prefetch_batches)
                p = ctx.Process(target=_worker_main, name=f"mlfleet-loader-{w}", daemon=True,
                                args=(self.dataset, self.config, w, self.epoch, q, self._stop))
                self._queues.append(q)
                self._procs.append(p)
                p.start()
        except BaseException:
            self.close()
            raise
        return self

    def __iter__(self) -> Iterator[Batch]:
        active = list(range(self.config.workers))
        turn = 0
        while active:
            w = active[turn % len(active)]
            item = self._get(w)
            if isinstance(item, Batch):
                self._count(item)
                yield item
                turn += 1
            else:  # ("done", stats): the worker finished its shards
                self.stats.workers.append(item[1])
                active.remove(w)
        self.stats.main_cpu_s = time.process_time() - self._cpu0

    def pids(self) -> list[int]:
        """Process ids of the running workers."""
        return [p.pid for p in self._procs if p.pid is not None]

    def _get(self, w: int) -> Any:
        while True:
            try:
                item = self._queues[w].get(timeout=POLL_S)
            except queue.Empty:
                if not self._procs[w].is_alive():
                    raise RunError(f"loader worker {w} died (exit code "
                                   f"{self._procs[w].exitcode})") from None
                continue
            if isinstance(item, tuple) and item[0] == "error":
                raise RunError(f"loader worker {w} failed: {item[1]}")
            return item

    def _count(self, batch: Batch) -> None:
        now = time.perf_counter()
        if self.stats.batches == 0:
            self.stats.first_batch_s, self.stats.first_batch_samples = now, len(batch.keys)
        self.stats.batches += 1
        self.stats.samples += len(batch.keys)
        self.stats.end_s = now

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Stop and reap every worker (idempotent)."""
        if self._stop is not None:
            self._stop.set()
        _reap(self._procs)
        for q in self._queues:
            q.close()
        self._procs, self._queues = [], []


def _reap(procs: list[BaseProcess]) -> None:
    """Join, then SIGTERM, then SIGKILL (after which a join cannot hang: KILL_WAIT_S)."""
    started = [p for p in procs if p.pid is not None]
    for step, wait_s in (("join", GRACE_S), ("terminate", GRACE_S), ("kill", KILL_WAIT_S)):
        alive = [p for p in started if p.is_alive()]
        if step != "join":
            for p in alive:
                getattr(p, step)()
        deadline = time.monotonic() + wait_s
        for p in alive:
            p.join(timeout=max(0.0, deadline - time.monotonic()))
    for p in started:
        if not p.is_alive():
            p.close()


def run_epoch(dataset: Dataset, config: LoaderConfig, *, epoch: int = 0,
              on_batch: Callable[[Batch], None] | None = None) -> EpochStats:
    """Run one epoch, handing each batch to ``on_batch`` (if given), and return its counters."""
    with EpochRun(dataset, config, epoch=epoch) as run:
        for batch in run:
            if on_batch is not None:
                on_batch(batch)
    return run.stats

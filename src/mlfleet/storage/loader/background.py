"""Background CPU load: what other scheduling groups want of the cores during a run.

On a shared host other jobs compete with the loader for the cores, and Linux's fair
scheduler shares the cores between scheduling groups (one per session with
``sched_autogroup``, one per process otherwise). :class:`BackgroundLoad` samples
``/proc`` on a thread while a run goes on: every runnable process outside our own
group, counted per group; the mean per group is the ``background`` the starvation
model takes (:func:`mlfleet.storage.starvation.loader_samples_per_s`). A process
counts once (its main thread's state), so a multi-threaded neighbour is undercounted.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType

PERIOD_S = 0.1
"""Sampling period."""


def _autogroup(pid: str) -> str | None:
    try:
        return Path(f"/proc/{pid}/autogroup").read_text().split()[0]
    except (OSError, IndexError):
        return None


def runnable_groups(own_group: str | None, own_pids: frozenset[str] = frozenset()
                    ) -> Counter[str]:
    """Runnable processes now per scheduling group, our own group (or, without autogroup,
    ``own_pids``) left out."""
    counts: Counter[str] = Counter()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state = stat.read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "R":
            continue
        pid = stat.parent.name
        if own_group is None and pid in own_pids:
            continue
        group = _autogroup(pid) if own_group is not None else None
        if own_group is None or (group is not None and group != own_group):
            counts[group or f"pid-{pid}"] += 1
    return counts


class BackgroundLoad:
    """Mean runnable processes per other scheduling group, sampled inside ``with``.

    Without autogroup every process is its own group and ``own_pids`` (called at each
    sample) names ours to leave out.
    """

    def __init__(self, own_pids: Callable[[], Iterable[int]] = lambda: ()) -> None:
        self._own_group = _autogroup("self")
        self._own_pids = own_pids
        self._totals: Counter[str] = Counter()
        self._samples = 0
        self.cpu_s = 0.0
        """CPU seconds the sampling thread spent (to subtract from the process's)."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="background-load", daemon=True)

    def _run(self) -> None:
        start = time.thread_time()
        while not self._stop.wait(PERIOD_S):
            ours = frozenset(map(str, [os.getpid(), *self._own_pids()]))
            self._totals.update(runnable_groups(self._own_group, ours))
            self._samples += 1
        self.cpu_s = time.thread_time() - start

    def __enter__(self) -> BackgroundLoad:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def groups(self) -> tuple[float, ...]:
        """Mean runnable processes of each other group, largest first (empty before a sample)."""
        if not self._samples:
            return ()
        return tuple(sorted((n / self._samples for n in self._totals.values()), reverse=True))

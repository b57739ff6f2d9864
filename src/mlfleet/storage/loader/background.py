"""Background CPU load: how many runnable threads that are not ours share the cores.

On a shared host other jobs compete with the loader's processes for the cores. The
kernel's ``procs_running`` (``/proc/stat``) counts every runnable thread; minus the
threads of the processes we watch that are runnable at the same instant (and the
sampling thread itself) it is the background load ``L`` the starvation model takes
(:func:`mlfleet.storage.starvation.loader_samples_per_s`, ``background_load``).
:class:`BackgroundLoad` samples it on a thread while a run goes on.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType

PERIOD_S = 0.05
"""Sampling period."""


def procs_running(stat: Path = Path("/proc/stat")) -> int:
    """Runnable threads on the machine now (the kernel's ``procs_running``)."""
    for line in stat.read_text().splitlines():
        if line.startswith("procs_running "):
            return int(line.split()[1])
    raise OSError(f"{stat}: no procs_running line")


def runnable_threads(pid: int) -> int:
    """Threads of process ``pid`` in state R now (0 once it is gone)."""
    count = 0
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return 0
    for task in tasks:
        try:
            state = (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        count += state == "R"
    return count


class BackgroundLoad:
    """Mean runnable threads not ours, sampled every :data:`PERIOD_S` inside ``with``."""

    def __init__(self, pids: Callable[[], Iterable[int]]) -> None:
        self._pids = pids
        self._samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="background-load", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(PERIOD_S):
            try:
                ours = runnable_threads(os.getpid()) + sum(runnable_threads(p)
                                                           for p in self._pids())
                self._samples.append(max(0, procs_running() - ours))
            except OSError:
                return

    def __enter__(self) -> BackgroundLoad:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def mean(self) -> float:
        """Mean background runnable threads over the samples (0.0 before any)."""
        return sum(self._samples) / len(self._samples) if self._samples else 0.0

"""CPU that *other* work used on this host while a measurement ran (Linux ``/proc``).

Timing measurements on a shared host are only as good as the host is quiet. A
:class:`HostCpuMeter` reads the host's busy CPU time (``/proc/stat``: user, nice, system,
irq, softirq, steal) and the CPU time of the processes under test (``/proc/PID/stat``:
utime + stime, all threads), and reports the difference as cores used by everything
else. It reads files only (``proc_root`` can point at a fake tree in tests); where
``/proc`` is missing (not Linux) it reports ``nan`` rather than failing, since the number
only qualifies a measurement.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

_BUSY_FIELDS = (0, 1, 2, 5, 6, 7)
"""user, nice, system, irq, softirq, steal in the ``cpu`` line of ``/proc/stat`` (not
idle, iowait, or guest time, which is already counted in user)."""


@dataclass(frozen=True, kw_only=True)
class CpuSample:
    """Cumulative CPU seconds at one instant."""

    t_s: float
    """Monotonic clock, seconds."""
    host_busy_s: float
    """Busy CPU seconds of the whole host since boot (all cores)."""
    ours_s: float
    """CPU seconds of the watched processes (all their threads)."""


class HostCpuMeter:
    """Cores used by other processes between :meth:`start` and :meth:`others_cores`."""

    def __init__(self, pids: Sequence[int], *, proc_root: Path = Path("/proc"),
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.pids = tuple(pids)
        self.proc_root = proc_root
        self.clock = clock
        self._ticks_per_s = float(os.sysconf("SC_CLK_TCK")) if hasattr(os, "sysconf") else 100.0
        self._start: CpuSample | None = None

    def sample(self) -> CpuSample | None:
        """Now, or None where ``/proc`` cannot be read."""
        try:
            fields = (self.proc_root / "stat").read_text().splitlines()[0].split()[1:]
            host = sum(int(fields[i]) for i in _BUSY_FIELDS)
            ours = sum(self._process_ticks(pid) for pid in self.pids)
        except (OSError, IndexError, ValueError):
            return None
        return CpuSample(t_s=self.clock(), host_busy_s=host / self._ticks_per_s,
                         ours_s=ours / self._ticks_per_s)

    def _process_ticks(self, pid: int) -> int:
        # The command name may contain spaces and parentheses: fields follow the last ")".
        rest = (self.proc_root / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
        return int(rest[11]) + int(rest[12])  # utime, stime (fields 14 and 15 of proc(5))

    def start(self) -> None:
        self._start = self.sample()

    def others_cores(self) -> float:
        """Mean cores busy with work other than the watched processes since :meth:`start`
        (``nan`` if ``/proc`` was unreadable). Tick granularity makes it ±0.02 on a 5 s run."""
        end = self.sample()
        if self._start is None or end is None or end.t_s <= self._start.t_s:
            return math.nan
        busy = (end.host_busy_s - self._start.host_busy_s) - (end.ours_s - self._start.ours_s)
        return max(busy, 0.0) / (end.t_s - self._start.t_s)

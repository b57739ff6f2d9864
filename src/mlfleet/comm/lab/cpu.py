"""How much of the machine's CPU other work used while a measurement ran.

The lab's links are shaped in software by the same CPUs that run the ranks, so a
timing is only as good as the CPUs left to it. "Other work" must exclude the
measurement itself: at 100% CPU under its own four ranks the host is busy, but
not with anything that would disturb them. So:

    other = Δ(user + nice + system over all CPUs, /proc/stat)
            − Δ(CPU time of this process and every descendant it has reaped)

over the same window, as a fraction of ``window × CPUs``. A process's own and its
reaped children's user and system times come from ``os.times()`` (the kernel
adds a child's times, and its reaped descendants', to the parent's ``cutime`` and
``cstime`` when it is waited for), so the ranks, ``ip netns exec`` and ``tc``
started during the window are all counted as ours once they have exited.
Interrupt and softirq time (where ``tc`` shapes packets) is left out of both
sides: the kernel charges it to no process. Steal time (a hypervisor running
other guests) is reported on its own.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

_USER, _NICE, _SYSTEM, _STEAL = 0, 1, 2, 7


@dataclass(frozen=True, kw_only=True)
class CpuSample:
    """Cumulative CPU counters at one instant."""

    wall_s: float
    """``time.monotonic()``."""
    busy_s: float
    """user + nice + system over all CPUs since boot."""
    steal_s: float
    """Time the hypervisor ran something else while a CPU of ours wanted to run."""
    own_s: float
    """User + system of this process and its reaped descendants."""


@dataclass(frozen=True, kw_only=True)
class CpuUse:
    """CPU use over one window, as fractions of ``wall × cpus``."""

    wall_s: float
    cpus: int
    other_fraction: float
    """Busy time of everything but this process tree."""
    own_fraction: float
    """Busy time of this process tree (the measurement)."""
    steal_fraction: float
    """Time stolen by the hypervisor."""


def sample(stat_path: Path = Path("/proc/stat")) -> CpuSample:
    """Read the counters now (Linux)."""
    first = stat_path.read_text().split("\n", 1)[0].split()
    if first[0] != "cpu":
        raise OSError(f"{stat_path}: first line is not the all-CPU total: {first[:2]}")
    ticks = [int(v) for v in first[1:]]
    tick_s = 1.0 / os.sysconf("SC_CLK_TCK")
    own = os.times()
    return CpuSample(wall_s=time.monotonic(),
                     busy_s=(ticks[_USER] + ticks[_NICE] + ticks[_SYSTEM]) * tick_s,
                     steal_s=ticks[_STEAL] * tick_s if len(ticks) > _STEAL else 0.0,
                     own_s=own.user + own.system + own.children_user + own.children_system)


def cpu_use(before: CpuSample, after: CpuSample, cpus: int | None = None) -> CpuUse:
    """CPU use between two samples; ``other_fraction`` is clamped at 0 (tick rounding)."""
    n = cpus or os.cpu_count() or 1
    capacity_s = max(after.wall_s - before.wall_s, 1e-9) * n
    own_s = after.own_s - before.own_s
    other_s = max(0.0, after.busy_s - before.busy_s - own_s)
    return CpuUse(wall_s=after.wall_s - before.wall_s, cpus=n,
                  other_fraction=other_s / capacity_s, own_fraction=own_s / capacity_s,
                  steal_fraction=(after.steal_s - before.steal_s) / capacity_s)

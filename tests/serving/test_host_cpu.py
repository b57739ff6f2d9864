"""The host CPU meter against a fake /proc tree (and once against the real one)."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest

from mlfleet.serving.host_cpu import HostCpuMeter

TICKS = float(os.sysconf("SC_CLK_TCK"))


def write_proc(root: Path, *, host: list[int], procs: dict[int, tuple[int, int]]) -> None:
    """``host``: the ``cpu`` line's counters; ``procs``: pid -> (utime, stime) ticks."""
    root.mkdir(exist_ok=True)
    (root / "stat").write_text("cpu  " + " ".join(map(str, host)) + "\ncpu0 1 2 3\n")
    for pid, (utime, stime) in procs.items():
        (root / str(pid)).mkdir(exist_ok=True)
        fields = ["S"] + ["0"] * 10 + [str(utime), str(stime)] + ["0"] * 30
        (root / str(pid) / "stat").write_text(f"{pid} (odd) name) " + " ".join(fields))


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_others_are_host_busy_minus_watched_processes(tmp_path: Path) -> None:
    clock = Clock()
    meter = HostCpuMeter([10, 11], proc_root=tmp_path, clock=clock)
    write_proc(tmp_path, host=[100, 0, 50, 1000, 7, 0, 0, 0, 0, 0], procs={10: (20, 5), 11: (1, 1)})
    meter.start()
    # 2 s later: host busy grew by 3 cores-worth of 2 s... of which ours 1 core; iowait ignored
    busy = int(3.0 * TICKS)
    ours = int(1.0 * TICKS)
    write_proc(tmp_path, host=[100 + busy, 0, 50, 1200, 500, 0, 0, 0, 0, 0],
               procs={10: (20 + ours, 5), 11: (1, 1)})
    clock.t = 2.0
    assert meter.others_cores() == pytest.approx((busy - ours) / TICKS / 2.0)


def test_unreadable_proc_gives_nan(tmp_path: Path) -> None:
    meter = HostCpuMeter([10], proc_root=tmp_path / "missing")
    meter.start()
    assert math.isnan(meter.others_cores())


def test_real_proc_reads_when_present() -> None:
    if not Path("/proc/stat").exists():
        pytest.skip("no /proc on this platform")
    meter = HostCpuMeter([os.getpid()])
    sample = meter.sample()
    assert sample is not None and sample.host_busy_s > 0 and sample.ours_s >= 0

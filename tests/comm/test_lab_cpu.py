"""Other work on the CPUs, excluding the measurement's own process tree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mlfleet.comm.lab.cpu import CpuSample, cpu_use, sample


def test_other_work_is_busy_time_minus_our_own() -> None:
    before = CpuSample(wall_s=10.0, busy_s=100.0, steal_s=1.0, own_s=5.0)
    after = CpuSample(wall_s=12.0, busy_s=103.0, steal_s=1.2, own_s=7.5)
    use = cpu_use(before, after, cpus=2)
    # 4 CPU-seconds of capacity: 3 busy, 2.5 of them ours
    assert use.own_fraction == pytest.approx(2.5 / 4)
    assert use.other_fraction == pytest.approx(0.5 / 4)
    assert use.steal_fraction == pytest.approx(0.2 / 4)


def test_tick_rounding_never_gives_negative_other_work() -> None:
    before = CpuSample(wall_s=0.0, busy_s=10.0, steal_s=0.0, own_s=1.0)
    after = CpuSample(wall_s=1.0, busy_s=10.5, steal_s=0.0, own_s=1.6)
    assert cpu_use(before, after, cpus=1).other_fraction == 0.0


def test_sample_reads_user_nice_system_and_steal(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    stat.write_text("cpu  100 20 30 999 5 7 8 4 0 0\ncpu0 50 10 15 500 2 3 4 2 0 0\n")
    s = sample(stat)
    tick_s = s.busy_s / 150
    assert s.steal_s == pytest.approx(4 * tick_s)
    other = tmp_path / "other"
    other.write_text("intr 1 2\n")
    with pytest.raises(OSError, match="all-CPU total"):
        sample(other)


def test_a_child_that_has_exited_counts_as_our_own_work() -> None:
    """A rank process burns CPU and exits: its time lands in our own share (os.times()
    children), so it is not mistaken for other work."""
    before = sample()
    subprocess.run([sys.executable, "-c", "import time\nend = time.process_time() + 0.3\n"
                    "while time.process_time() < end: pass"], check=True)
    after = sample()
    assert after.own_s - before.own_s >= 0.25

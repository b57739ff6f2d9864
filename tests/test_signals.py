"""Ctrl-C (SIGINT) and SIGTERM stop every long command promptly, cleanly, with no orphans.

Each test starts a real ``mlfleet`` run that would last well over 3 s, signals the
``mlfleet`` process alone (as ``kill -INT PID`` does; a terminal's Ctrl-C also
reaches the foreground group, but run ranks sit in their own sessions), and asserts
the exit status, the time to exit (3 s, generous against the 1 s goal), at most one
line on stderr with no traceback, and that every descendant process seen before the
signal is gone (terminated and reaped, not left a zombie or an orphan).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.serial

MLFLEET = str(Path(sys.executable).with_name("mlfleet"))
EXIT_WITHIN_S = 3.0
SIM_SERVE = ["sim", "serve", "-n", "5000000", "--replicas", "8", "--batching", "continuous",
             "--qps", "48"]
RUN_COLLECTIVE = ["run", "collective", "allreduce", "--ranks", "4", "--sizes", "16M",
                  "--repeats", "1000", "--warmup", "0"]
RUN_COMPRESSION = ["run", "compression", "--steps", "100000"]


def _proc_stat(pid: int) -> tuple[int, str] | None:
    """``(ppid, start time)`` of a process from /proc (a zombie too: it is not reaped yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
    return int(fields[1]), fields[19]


def _descendants(root_pid: int) -> dict[int, str]:
    """Every process whose PPid chain leads to ``root_pid``: pid -> start time."""
    parents: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _proc_stat(int(entry.name))) is not None:
            parents[int(entry.name)] = stat
    found: dict[int, str] = {}
    frontier = [root_pid]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, started) in parents.items():
            if ppid == parent and pid not in found:
                found[pid] = started
                frontier.append(pid)
    return found


def _survivors(seen: dict[int, str]) -> list[int]:
    """The processes of ``seen`` that still exist (same pid and start time)."""
    return [pid for pid, started in seen.items()
            if (stat := _proc_stat(pid)) is not None and stat[1] == started]


def _start(args: list[str], *, run_for_s: float, want_children: int = 0
           ) -> tuple[subprocess.Popen[bytes], dict[int, str]]:
    """Start ``mlfleet args``, let it run ``run_for_s``; the process and its descendants."""
    child = subprocess.Popen([MLFLEET, *args], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    deadline = time.monotonic() + run_for_s
    seen: dict[int, str] = {}
    while time.monotonic() < deadline or len(seen) < want_children:
        assert child.poll() is None, child.communicate()[1].decode()  # still running
        seen.update(_descendants(child.pid))
        assert time.monotonic() < deadline + 60, f"only {len(seen)} child processes started"
        time.sleep(0.1)
    return child, seen


def _stop(child: subprocess.Popen[bytes], *signals: signal.Signals,
          gap_s: float = 0.05) -> tuple[int, float, str]:
    """Send ``signals`` ``gap_s`` apart; exit status, seconds from the first to exit, stderr."""
    sent = time.monotonic()
    for i, signum in enumerate(signals):
        if i:
            time.sleep(gap_s)
        if child.poll() is None:
            child.send_signal(signum)
    _, err = child.communicate(timeout=60)
    return child.returncode, time.monotonic() - sent, err.decode(errors="replace")


def _assert_clean_stop(status: int, took_s: float, err: str, *, expected: int) -> None:
    assert status == expected, err
    assert took_s < EXIT_WITHIN_S, took_s
    assert "Traceback" not in err, err
    assert len([line for line in err.splitlines() if line.strip()]) <= 1, err


def test_sigint_stops_sim_serve_with_130() -> None:
    child, seen = _start(SIM_SERVE, run_for_s=2.0)
    _assert_clean_stop(*_stop(child, signal.SIGINT), expected=130)
    assert _survivors(seen) == []


def test_sigterm_stops_sim_serve_with_143() -> None:
    """SIGTERM is the 'please stop' of kill and of service managers: exit 128 + 15."""
    child, seen = _start(SIM_SERVE, run_for_s=2.0)
    _assert_clean_stop(*_stop(child, signal.SIGTERM), expected=143)
    assert _survivors(seen) == []


def test_sigint_stops_run_collective_and_reaps_its_ranks() -> None:
    child, seen = _start(RUN_COLLECTIVE, run_for_s=1.5, want_children=4)
    _assert_clean_stop(*_stop(child, signal.SIGINT), expected=130)
    assert _survivors(seen) == []


@pytest.mark.parametrize("gap_s", [0.002, 0.02])
def test_more_sigints_during_cleanup_change_nothing(gap_s: float) -> None:
    """Before the fix, 2 ms apart left a rank running; 20 ms apart died of SIGINT (-2)."""
    child, seen = _start(RUN_COLLECTIVE, run_for_s=1.5, want_children=4)
    _assert_clean_stop(*_stop(child, signal.SIGINT, signal.SIGINT, signal.SIGINT, gap_s=gap_s),
                       expected=130)
    assert _survivors(seen) == []


def test_sigterm_stops_run_collective_and_reaps_its_ranks() -> None:
    """Before the fix SIGTERM killed the launcher outright and left its four ranks running."""
    child, seen = _start(RUN_COLLECTIVE, run_for_s=1.5, want_children=4)
    _assert_clean_stop(*_stop(child, signal.SIGTERM), expected=143)
    assert _survivors(seen) == []


def test_sigint_stops_run_compression_and_reaps_its_ranks() -> None:
    child, seen = _start(RUN_COMPRESSION, run_for_s=1.5, want_children=4)
    _assert_clean_stop(*_stop(child, signal.SIGINT), expected=130)
    assert _survivors(seen) == []

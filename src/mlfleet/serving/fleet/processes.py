"""Child processes of a fleet: each in its own session, stopped as a group, never by PID alone.

Each child leads its own process group, so a terminal's Ctrl-C reaches only the fleet's
owner, which then stops every child itself (and, through the group, anything a child
spawned). A child is signalled only while its :class:`subprocess.Popen` has not reaped
it: until then its PID cannot have been reused.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path


def spawn(argv: Sequence[str], *, log: Path) -> subprocess.Popen[bytes]:
    """Start ``argv`` in a new session with stdout and stderr appended to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(list(argv), stdout=out, stderr=out, stdin=subprocess.DEVNULL,
                                start_new_session=True)


def signal_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    """Send ``signum`` to ``proc``'s process group, if ``proc`` has not been reaped."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signum)


def stop_all(procs: Sequence[subprocess.Popen[bytes]], *, grace_s: float = 0.4) -> None:
    """SIGINT every group at once, SIGKILL what is left after ``grace_s``, reap them all.

    SIGINT, not SIGTERM: a replica drains on SIGTERM (``mlfleet serve --drain``, seconds)
    and stops at once on SIGINT, as HAProxy does. The grace is short on purpose: a fleet
    stops within a second of Ctrl-C.
    """
    live = [p for p in procs if p.poll() is None]
    for proc in live:
        signal_group(proc, signal.SIGINT)
        signal_group(proc, signal.SIGCONT)  # a paused (SIGSTOP) replica must see the signal
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(p.poll() is None for p in live):
        time.sleep(0.02)
    for proc in live:
        signal_group(proc, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5.0)


def log_tail(log: Path, lines: int = 3) -> str:
    """The last ``lines`` lines of ``log`` joined on one line ('' if none)."""
    if not log.exists():
        return ""
    return " | ".join(log.read_text(errors="replace").strip().splitlines()[-lines:])

"""Child processes of a fleet: each in its own session, stopped as a group, never by PID alone.

Each child leads its own process group, so a terminal's Ctrl-C reaches only the fleet's
owner, which then stops every child itself (and, through the group, anything a child
spawned). A child is signalled only while its :class:`subprocess.Popen` has not reaped
it: until then its PID cannot have been reused.

A child started from the main thread also dies with its owner (Linux
``PR_SET_PDEATHSIG``): a fleet leader killed with SIGKILL, which cannot stop its children
itself, leaves no replica or HAProxy behind. Not from another thread: the signal follows
the *thread* that forked, and a worker thread (a chaos restart) ends before the fleet.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path


def spawn(argv: Sequence[str], *, log: Path) -> subprocess.Popen[bytes]:
    """Start ``argv`` in a new session with stdout and stderr appended to ``log``."""
    on_death = _die_with_parent(os.getpid()) \
        if threading.current_thread() is threading.main_thread() else None
    with log.open("ab") as out:
        return subprocess.Popen(list(argv), stdout=out, stderr=out, stdin=subprocess.DEVNULL,
                                start_new_session=True, preexec_fn=on_death)


PR_SET_PDEATHSIG = 1
"""``prctl`` option: the signal a process gets when its parent thread ends
(``<linux/prctl.h>``)."""


def _die_with_parent(parent_pid: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` that asks Linux to SIGKILL the child when its parent ends (None
    off Linux). If the parent is already gone by then, the child exits at once."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)

    def arm() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before the call
            os._exit(1)
    return arm


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

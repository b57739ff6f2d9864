"""Start the lab's daemons inside a network namespace, wait for them, stop them all.

Every daemon runs in the foreground of its own session (so it outlives ``mlfleet lab
slurm up`` and a Ctrl-C in the shell does not reach it), inside a lab namespace through
``nsenter --net`` (not ``ip netns exec``, which remounts /sys and breaks slurmd's cgroup
probe). Stopping never trusts a PID alone: PIDs wrap, so a process is signalled only if
it still runs in one of the lab's namespaces.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from mlfleet.errors import RunError

NETNS_DIR = Path("/var/run/netns")


def in_namespace(namespace: str, argv: Sequence[str]) -> list[str]:
    """``argv`` run inside network namespace ``namespace``."""
    return ["nsenter", f"--net={NETNS_DIR / namespace}", *argv]


def start(namespace: str, argv: Sequence[str], *, log: Path,
          env: dict[str, str] | None = None) -> int:
    """Start a daemon (foreground mode) in ``namespace``; returns its PID."""
    with log.open("ab") as out:
        proc = subprocess.Popen(in_namespace(namespace, argv), stdout=out, stderr=out,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                env={**os.environ, **(env or {})})
    return proc.pid


def run(namespace: str, argv: Sequence[str], *, env: dict[str, str] | None = None,
        timeout_s: float = 30.0, check: bool = True) -> str:
    """Run a client command in ``namespace``; RunError with its stderr if it fails."""
    try:
        proc = subprocess.run(in_namespace(namespace, argv), capture_output=True, text=True,
                              timeout=timeout_s, env={**os.environ, **(env or {})},
                              check=False)
    except subprocess.TimeoutExpired:
        raise RunError(f"{argv[0]} did not answer within {timeout_s:g} s") from None
    if check and proc.returncode != 0:
        detail = " ".join((proc.stderr or proc.stdout).split())[:300]
        raise RunError(f"{' '.join(argv[:3])} failed: {detail or proc.returncode}")
    return proc.stdout


def wait_until(what: str, ready: Callable[[], bool], *, timeout_s: float,
               log: Path | None = None) -> None:
    """Poll ``ready`` every 0.1 s; RunError naming ``what`` (and the log) on timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.1)
    tail = ""
    if log is not None and log.exists():
        tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-3:])
    raise RunError(f"{what} did not come up within {timeout_s:g} s" + (f": {tail}" if tail
                                                                         else ""))


def namespace_pids(namespace: str) -> list[int]:
    """PIDs of every process in ``namespace`` (``ip netns pids``)."""
    out = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True,
                         check=False).stdout
    return [int(p) for p in out.split() if p.isdigit()]


def comm(pid: int) -> str | None:
    """The process's command name, or None if it is gone."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None


def stop_namespaces(namespaces: Sequence[str], *, grace_s: float = 5.0) -> None:
    """SIGTERM every process in the namespaces, SIGKILL what is left after ``grace_s``."""
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 2.0)):
        pids = [p for ns in namespaces for p in namespace_pids(ns)]
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if not any(namespace_pids(ns) for ns in namespaces):
                return
            time.sleep(0.1)
    left = [f"{p} ({comm(p)})" for ns in namespaces for p in namespace_pids(ns)]
    if left:
        raise RunError(f"processes survived SIGKILL in the lab: {', '.join(left)}")

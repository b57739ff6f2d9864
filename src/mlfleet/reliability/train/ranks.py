"""The rank processes of one attempt: start them, read their events, kill them.

Each rank is ``python -m mlfleet.reliability.train.worker`` in its own session (process
group), with a pipe on stdin (EOF = the supervisor is gone: the rank exits) and one on
stdout for its JSON-line events. :meth:`World.poll` returns the events that arrived and,
for each rank whose stdout closed, an ``exit`` event with its return code.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from mlfleet.errors import RunError
from mlfleet.reliability.train.job import RankJob


@dataclass
class RankProcess:
    """One rank's process and what was last heard from it."""

    rank: int
    proc: subprocess.Popen[bytes]
    stderr_path: Path
    pending: bytes = b""
    last_heard_t: float = 0.0
    exited: bool = False

    def stderr_tail(self) -> str:
        """The last line the rank wrote to stderr ('' if none)."""
        try:
            lines = self.stderr_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1] if lines else ""


class World:
    """The ranks of one attempt."""

    def __init__(self, jobs: list[RankJob], *, log_dir: Path) -> None:
        self.sel = selectors.DefaultSelector()
        self.ranks: list[RankProcess] = []
        self.started_t = time.monotonic()
        env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1"}
        for job in jobs:
            stderr_path = log_dir / f"rank{job.rank}.stderr"
            argv = [sys.executable, "-m", "mlfleet.reliability.train.worker"]
            try:
                with stderr_path.open("wb") as stderr:
                    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=stderr, env=env, start_new_session=True)
            except OSError as exc:
                self.stop()
                raise RunError(f"cannot start rank {job.rank}: {exc}") from exc
            rank = RankProcess(job.rank, proc, stderr_path, last_heard_t=self.started_t)
            self.ranks.append(rank)
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(json.dumps(job.as_json_dict()).encode() + b"\n")
            proc.stdin.flush()
            os.set_blocking(proc.stdout.fileno(), False)
            self.sel.register(proc.stdout, selectors.EVENT_READ, rank)

    def poll(self, timeout_s: float) -> list[tuple[int, dict[str, Any]]]:
        """``(rank, event)`` pairs that arrived within ``timeout_s``."""
        events: list[tuple[int, dict[str, Any]]] = []
        for key, _ in self.sel.select(timeout_s):
            events.extend(self._read(key.data, key.fileobj))  # type: ignore[arg-type]
        return events

    def _read(self, rank: RankProcess, stream: IO[bytes]) -> list[tuple[int, dict[str, Any]]]:
        try:
            data = os.read(stream.fileno(), 1 << 16)
        except BlockingIOError:
            return []
        now = time.monotonic()
        if not data:
            self.sel.unregister(stream)
            rank.exited = True
            code = rank.proc.wait()
            return [(rank.rank, {"event": "exit", "t": now, "code": code,
                                 "stderr": rank.stderr_tail()})]
        rank.last_heard_t = now
        rank.pending += data
        *lines, rank.pending = rank.pending.split(b"\n")
        return [(rank.rank, json.loads(line)) for line in lines if line.strip()]

    def stop(self) -> None:
        """SIGKILL every rank's process group (stopped ones too) and reap them."""
        with _signals_held():
            for rank in self.ranks:
                _kill_group(rank.proc)
            for rank in self.ranks:
                with contextlib.suppress(OSError):
                    if rank.proc.stdin is not None:
                        rank.proc.stdin.close()
                rank.proc.wait()
                if rank.proc.stdout is not None:
                    rank.proc.stdout.close()
            self.sel.close()


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            proc.kill()


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM while ranks are killed and reaped, so a second Ctrl-C cannot
    cut the clean-up short; one that came meanwhile is raised afterwards unless we are
    already unwinding from one."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = {s: signal.signal(s, lambda n, _f: held.append(n))
                for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        if held and not isinstance(sys.exc_info()[1], KeyboardInterrupt):
            signal.raise_signal(held[0])

"""The rank processes of one attempt: fork them, read their events, kill them.

Ranks are forked by the run's :class:`ForkServer` (see
:mod:`mlfleet.reliability.train.forkserver`); each is its own session (process group),
with a pipe on stdin (EOF = the supervisor is gone: the rank exits) and one on stdout for
its JSON-line events. :meth:`World.poll` returns the events that arrived and, for each
rank whose stdout closed, an ``exit`` event with its exit code (``-signal`` if killed).
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlfleet.errors import RunError
from mlfleet.reliability.train.forkserver import send
from mlfleet.reliability.train.job import RankJob
from mlfleet.stop_signals import signals_held

_STOP_WAIT_S = 10.0


class ForkServer:
    """Client of the fork server process: start it, ask for ranks, learn their exit codes."""

    def __init__(self, *, log_path: Path, timeout_s: float) -> None:
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1"}
        with log_path.open("wb") as log, theirs:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "mlfleet.reliability.train.forkserver",
                 str(theirs.fileno())], pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
                stdout=log, stderr=log, env=env, start_new_session=True)
        self.exits: dict[int, int] = {}
        self._expect("ready", timeout_s)

    def receive(self, timeout_s: float) -> dict[str, Any] | None:
        """The next message (exit reports are also kept in :attr:`exits`), None on timeout."""
        self.sock.settimeout(timeout_s)
        try:
            data = self.sock.recv(4096)
        except (TimeoutError, BlockingIOError):
            return None
        if not data:
            raise RunError(f"the fork server exited (status {self.proc.poll()})")
        message: dict[str, Any] = json.loads(data)
        if "exited" in message:
            self.exits[int(message["exited"])] = int(message["code"])
        return message

    def _expect(self, key: str, timeout_s: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            message = self.receive(left)
            if message is not None and key in message:
                return message
        raise RunError(f"the fork server did not answer {key!r} within {timeout_s:g} s")

    def drain(self) -> None:
        """Take every exit report waiting on the socket."""
        while self.receive(0.0) is not None:
            pass

    def spawn(self, rank: int, fds: list[int]) -> int:
        """Fork rank ``rank`` with ``fds`` as its stdin, stdout, stderr; its pid."""
        send(self.sock, {"rank": rank}, fds)
        return int(self._expect("spawned", 30.0)["pid"])

    def close(self) -> None:
        """Stop the server (it kills whatever it still has) and reap it."""
        self.sock.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


@dataclass
class RankProcess:
    """One rank's process and what was last heard from it."""

    rank: int
    pid: int
    stdin_fd: int
    stdout_fd: int
    stderr_path: Path
    pending: bytes = b""
    last_heard_t: float = 0.0
    eof: bool = False
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

    def __init__(self, jobs: list[RankJob], *, server: ForkServer, log_dir: Path) -> None:
        self.server = server
        self.sel = selectors.DefaultSelector()
        self.sel.register(server.sock, selectors.EVENT_READ, None)
        self.ranks: list[RankProcess] = []
        self.started_t = time.monotonic()
        try:
            for job in jobs:
                self._start(job, log_dir / f"rank{job.rank}.stderr")
        except BaseException:
            self.stop()
            raise

    def _start(self, job: RankJob, stderr_path: Path) -> None:
        stdin_r, stdin_w = os.pipe()
        stdout_r, stdout_w = os.pipe()
        stderr_fd = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            pid = self.server.spawn(job.rank, [stdin_r, stdout_w, stderr_fd])
        finally:
            for fd in (stdin_r, stdout_w, stderr_fd):
                os.close(fd)
        rank = RankProcess(job.rank, pid, stdin_w, stdout_r, stderr_path,
                           last_heard_t=self.started_t)
        self.ranks.append(rank)
        with contextlib.suppress(BrokenPipeError):
            os.write(stdin_w, json.dumps(job.as_json_dict()).encode() + b"\n")
        os.set_blocking(stdout_r, False)
        self.sel.register(stdout_r, selectors.EVENT_READ, rank)

    def poll(self, timeout_s: float) -> list[tuple[int, dict[str, Any]]]:
        """``(rank, event)`` pairs that arrived within ``timeout_s``."""
        events: list[tuple[int, dict[str, Any]]] = []
        for key, _ in self.sel.select(timeout_s):
            if key.data is None:
                self.server.drain()
            else:
                events.extend(self._read(key.data))
        now = time.monotonic()
        for rank in self.ranks:
            if rank.eof and not rank.exited and rank.pid in self.server.exits:
                rank.exited = True
                events.append((rank.rank, {"event": "exit", "t": now,
                                           "code": self.server.exits[rank.pid],
                                           "stderr": rank.stderr_tail()}))
        return events

    def _read(self, rank: RankProcess) -> list[tuple[int, dict[str, Any]]]:
        try:
            data = os.read(rank.stdout_fd, 1 << 16)
        except BlockingIOError:
            return []
        if not data:
            self.sel.unregister(rank.stdout_fd)
            rank.eof = True
            return []
        rank.last_heard_t = time.monotonic()
        rank.pending += data
        *lines, rank.pending = rank.pending.split(b"\n")
        return [(rank.rank, json.loads(line)) for line in lines if line.strip()]

    def stop(self) -> None:
        """SIGKILL every rank's process group (stopped ones too) and wait for their reaping."""
        with signals_held():
            for rank in self.ranks:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(rank.pid, signal.SIGKILL)
            deadline = time.monotonic() + _STOP_WAIT_S
            while any(r.pid not in self.server.exits for r in self.ranks) and \
                    time.monotonic() < deadline:
                self.server.receive(0.05)
            for rank in self.ranks:
                for fd in (rank.stdin_fd, rank.stdout_fd):
                    with contextlib.suppress(OSError):
                        os.close(fd)
            self.sel.close()


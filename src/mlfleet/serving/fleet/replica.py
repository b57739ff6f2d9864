"""One ``mlfleet serve`` replica of a fleet: start, wait until ready, signal, restart."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from mlfleet.errors import RunError
from mlfleet.serving.fleet.processes import log_tail, signal_group, spawn, stop_all

_READY = re.compile(r"ready on http://127\.0\.0\.1:(\d+)")


class Replica:
    """A ``python -m mlfleet.serving.server`` child on a loopback port, in its own session.

    The first start binds any free port (``--port 0``) and reads it back from the
    server's ``ready on`` line; a restart binds the same port again, so HAProxy's
    configuration stays valid and its health checks bring the replica back.
    """

    def __init__(self, *, name: str, server_args: tuple[str, ...], log: Path,
                 ready_timeout_s: float) -> None:
        self.name = name
        self.port = 0
        self._args = server_args
        self._log = log
        self._ready_timeout_s = ready_timeout_s
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` of this replica (bypassing HAProxy)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The server process's PID (also its process group)."""
        if self._proc is None:
            raise RunError(f"replica {self.name} was never started")
        return self._proc.pid

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        """The live (or last) child process, for the fleet's clean-up."""
        return self._proc

    def alive(self) -> bool:
        """True while the process has not exited (a SIGSTOPped one is alive)."""
        return self._proc is not None and self._proc.poll() is None

    def spawn(self) -> None:
        """Start the server process (not waiting for it)."""
        self._log_offset = self._log.stat().st_size if self._log.exists() else 0
        argv = [sys.executable, "-m", "mlfleet.serving.server", "--host", "127.0.0.1",
                "--port", str(self.port), *self._args]
        self._proc = spawn(argv, log=self._log)

    def wait_ready(self) -> None:
        """Block until the server prints ``ready``; RunError if it exits or times out."""
        deadline = time.monotonic() + self._ready_timeout_s
        while time.monotonic() < deadline:
            port = self._ready_port()
            if port is not None:
                self.port = port
                return
            if not self.alive():
                raise RunError(f"replica {self.name} exited before it was ready: "
                               f"{log_tail(self._log)}")
            time.sleep(0.05)
        raise RunError(f"replica {self.name} not ready within {self._ready_timeout_s:g} s: "
                       f"{log_tail(self._log)}")

    def _ready_port(self) -> int | None:
        with self._log.open("rb") as log:
            log.seek(self._log_offset)
            match = _READY.search(log.read().decode(errors="replace"))
        return int(match.group(1)) if match else None

    def kill(self, signum: int = signal.SIGKILL) -> None:
        """Send ``signum`` (SIGKILL, SIGSTOP, SIGCONT, SIGTERM...) to the replica's group."""
        if self._proc is not None:
            signal_group(self._proc, signum)
            if signum == signal.SIGKILL:
                self._proc.wait()

    def stop(self) -> None:
        """Stop the replica (SIGTERM, then SIGKILL) and reap it."""
        if self._proc is not None:
            stop_all([self._proc])

    def restart(self) -> None:
        """Stop it if it runs, then start it again on the same port and wait until ready."""
        self.stop()
        self.spawn()
        self.wait_ready()

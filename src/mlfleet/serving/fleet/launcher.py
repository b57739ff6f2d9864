"""Start a fleet (N replicas, then HAProxy in front), hand it out, stop every process.

    with Fleet.start(FleetSpec(replicas=3, balance="random2")) as fleet:
        fleet.url            # HAProxy's frontend
        fleet.replicas[0]    # .url .pid .name .port .kill(signal) .restart()
        fleet.stats()        # per-server counters from HAProxy's stats socket

Every file (config, stats socket, logs) lives in a temporary directory the fleet owns.
On every exit path (normal, error, failed start, Ctrl-C) all replicas and HAProxy are
stopped and reaped before the directory is removed.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from mlfleet.errors import RunError, ServingInputError
from mlfleet.loopback import free_port
from mlfleet.serving.fleet.haproxy_config import BACKEND, render_config, server_name
from mlfleet.serving.fleet.processes import log_tail, spawn, stop_all
from mlfleet.serving.fleet.replica import Replica
from mlfleet.serving.fleet.spec import FleetSpec
from mlfleet.serving.fleet.stats import ServerStats, read_servers
from mlfleet.stop_signals import signals_held

_BIND_ATTEMPTS = 3


def haproxy_binary() -> str:
    """The ``haproxy`` executable on PATH; ServingInputError naming the package if absent."""
    found = shutil.which("haproxy")
    if found is None:
        raise ServingInputError("haproxy is not on PATH: install the Debian package "
                                "'haproxy' (apt-get install haproxy)")
    return found



class Fleet:
    """A running fleet; build it with :meth:`start`."""

    def __init__(self, spec: FleetSpec, workdir: Path, haproxy: str) -> None:
        self.spec = spec
        self.workdir = workdir
        self.port = 0
        self.replicas = tuple(
            Replica(name=server_name(i), server_args=spec.server_args,
                    log=workdir / f"{server_name(i)}.log", ready_timeout_s=spec.ready_timeout_s)
            for i in range(spec.replicas))
        self._haproxy_bin = haproxy
        self._haproxy: subprocess.Popen[bytes] | None = None
        self._socket = workdir / "haproxy.sock"
        self._config = workdir / "haproxy.cfg"
        self._haproxy_log = workdir / "haproxy.log"

    @classmethod
    @contextlib.contextmanager
    def start(cls, spec: FleetSpec) -> Iterator[Fleet]:
        """Start ``spec``'s replicas, wait until each is ready, then HAProxy; yield the fleet.

        Raises ServingInputError if HAProxy is not installed, RunError if a replica or
        HAProxy fails to start (nothing is left running).
        """
        haproxy = haproxy_binary()
        with tempfile.TemporaryDirectory(prefix="mlfleet-fleet-") as tmp:
            fleet = cls(spec, Path(tmp), haproxy)
            try:
                fleet._start_replicas()
                fleet._start_haproxy()
                yield fleet
            finally:
                with signals_held():
                    fleet.stop()

    @property
    def url(self) -> str:
        """HAProxy's frontend, ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def haproxy_pid(self) -> int:
        """HAProxy's PID."""
        return self._haproxy_proc().pid

    @property
    def config_text(self) -> str:
        """The generated ``haproxy.cfg``."""
        return self._config.read_text()

    def stats(self) -> tuple[ServerStats, ...]:
        """Per-replica counters from HAProxy's stats socket, in replica order."""
        return read_servers(self._socket, BACKEND)

    def haproxy_alive(self) -> bool:
        """True while HAProxy runs."""
        return self._haproxy is not None and self._haproxy_proc().poll() is None

    def stop(self) -> None:
        """Stop HAProxy and every replica (all at once; SIGKILL after a short grace)."""
        procs = [r.process for r in self.replicas if r.process is not None]
        if self._haproxy is not None:
            procs.append(self._haproxy_proc())
        stop_all(procs)

    def _haproxy_proc(self) -> subprocess.Popen[bytes]:
        if self._haproxy is None:
            raise RunError("HAProxy was never started")
        return self._haproxy

    def _start_replicas(self) -> None:
        for replica in self.replicas:
            replica.spawn()
        for replica in self.replicas:
            replica.wait_ready()

    def _start_haproxy(self) -> None:
        attempts = 1 if self.spec.frontend_port else _BIND_ATTEMPTS
        for _ in range(attempts):
            self.port = self.spec.frontend_port or free_port()
            self._config.write_text(render_config(
                self.spec, frontend_port=self.port,
                replica_ports=[r.port for r in self.replicas], stats_socket=self._socket))
            self._haproxy = spawn([self._haproxy_bin, "-f", str(self._config), "-db"],
                                  log=self._haproxy_log)
            if self._wait_haproxy():
                return
            if "bind" not in log_tail(self._haproxy_log, 5).lower():
                break  # not a port race: retrying would not help
        raise RunError(f"HAProxy exited at start: {log_tail(self._haproxy_log, 5)}")

    def _wait_haproxy(self) -> bool:
        """True once every server is UP; False if HAProxy exited; RunError on timeout."""
        deadline = time.monotonic() + self.spec.ready_timeout_s
        while time.monotonic() < deadline:
            if not self.haproxy_alive():
                return False
            if self._socket.exists() and self._all_up():
                return True
            time.sleep(0.05)
        raise RunError(f"HAProxy servers not UP within {self.spec.ready_timeout_s:g} s: "
                       f"{log_tail(self._haproxy_log, 5)}")

    def _all_up(self) -> bool:
        with contextlib.suppress(RunError):
            servers = self.stats()
            return len(servers) == len(self.replicas) and all(
                s.status.startswith("UP") for s in servers)
        return False

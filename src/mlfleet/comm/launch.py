"""Start ``world_size`` real OS processes, give each a transport, run one function, collect results.

Each rank is ``[*exec_prefix, python, -m, mlfleet.comm.worker]`` (the prefix lets
the lab run rank ``i`` under ``ip netns exec <ns_i>`` with its own IP). The
launcher is also the rendezvous: over each child's stdin/stdout it sends a job
header, collects the address the child listens on (socket backend: its
listener; torch backend: rank 0's ``TCPStore``), and sends the full address list
back, so ports are chosen by the kernel and parallel launches never collide.
Results come back as pickle files in a private temporary directory.

Failure is fast and total: a rank that reports an error, exits early, or is
killed makes :func:`launch` kill every other rank (its whole process group) and
raise :class:`~mlfleet.errors.RunError` naming the rank that failed first. A
child whose parent disappears exits on its own (it watches stdin for EOF), so
nothing is orphaned.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from mlfleet.errors import InputError, RunError
from mlfleet.stop_signals import signals_held

BACKENDS = ("socket", "torch")
ProgressFn = Callable[[int, dict[str, Any]], None]
# After the first failure, how long to wait for the root cause (a rank that died)
# to show up before reporting.
_GRACE_S = 0.5
# Importing torch on a loaded 2-core machine has taken ~50 s per process; a rank that
# dies meanwhile is noticed at once, so this only bounds a rank stuck before listening.
_STARTUP_S = 300.0


@dataclass(frozen=True, kw_only=True)
class HostSpec:
    """Where one rank runs."""

    ip: str = "127.0.0.1"
    """The IP this rank listens on (and its peers connect to)."""
    exec_prefix: list[str] = field(default_factory=list)
    """Command prefix that runs a program there, e.g. ``["ip", "netns", "exec", "h0"]``."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Extra environment for the rank, e.g. ``{"GLOO_SOCKET_IFNAME": "eth0"}`` for gloo."""


def resolve_hosts(name: str) -> list[HostSpec]:
    """Hosts of the lab called ``name`` (``mlfleet run ... --hosts NAME``), rank i on host i.

    Asks :mod:`mlfleet.comm.lab` (``hosts_for(name)``); raises InputError when there
    is no such lab or no lab support at all.
    """
    try:
        from mlfleet.comm.lab import hosts_for
    except ImportError:
        raise InputError(f"no lab named {name!r}: emulated-host labs are not available "
                         "here (mlfleet.comm.lab is missing)") from None
    return [HostSpec(ip=h.ip, exec_prefix=list(h.exec_prefix),
                     env={"GLOO_SOCKET_IFNAME": h.ifname} if getattr(h, "ifname", "") else {})
            for h in hosts_for(name)]


def function_ref(fn: Callable[..., Any] | str) -> str:
    """``"module:qualname"`` for a module-level function (or a ``"path.py:name"`` ref)."""
    if isinstance(fn, str):
        if ":" not in fn:
            raise InputError(f"function reference {fn!r} must look like 'package.module:function'")
        return fn
    module = fn.__module__
    if module == "__main__":
        module = str(Path(sys.modules["__main__"].__file__ or "").resolve())
    if "<" in fn.__qualname__:
        raise InputError(f"{fn.__qualname__!r} is not a module-level function; a rank "
                         "process must be able to import it")
    return f"{module}:{fn.__qualname__}"


def launch(world_size: int, fn: Callable[..., Any] | str, *, backend: str = "socket",
           args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None,
           hosts: Sequence[HostSpec] | None = None, timeout_s: float = 30.0,
           latency_s: float = 0.0, wall_timeout_s: float | None = None,
           on_progress: ProgressFn | None = None) -> list[Any]:
    """Run ``fn(transport, *args, **kwargs)`` on ``world_size`` processes; results by rank.

    ``fn`` is a module-level function or its ``"module:function"`` reference.
    ``timeout_s`` bounds start-up, connection and every wait on a peer;
    ``latency_s`` is injected per message (socket backend only);
    ``wall_timeout_s`` (None: unbounded) bounds the whole run. ``on_progress`` gets
    ``(rank, payload)`` for each :func:`mlfleet.comm.progress.report_progress` call.
    Raises InputError for bad arguments and RunError if any rank fails.
    """
    hosts = _check(world_size, backend, hosts, timeout_s, latency_s)
    with tempfile.TemporaryDirectory(prefix="mlfleet-launch-") as tmp:
        job = _write_job(Path(tmp), fn, args, kwargs or {})
        group = _Group(Path(tmp), hosts, on_progress)
        try:
            group.start(job, backend=backend, timeout_s=timeout_s, latency_s=latency_s)
            group.rendezvous(deadline=time.monotonic() + max(timeout_s, _STARTUP_S))
            group.wait_done(deadline=None if wall_timeout_s is None
                            else time.monotonic() + wall_timeout_s)
        finally:
            with signals_held():
                group.stop()
        return [group.result(rank) for rank in range(world_size)]


def _check(world_size: int, backend: str, hosts: Sequence[HostSpec] | None,
           timeout_s: float, latency_s: float) -> list[HostSpec]:
    if not isinstance(world_size, int) or world_size < 1:
        raise InputError(f"world_size(={world_size!r}) must be an integer >= 1")
    if backend not in BACKENDS:
        raise InputError(f"backend(={backend!r}) must be one of {', '.join(BACKENDS)}")
    if not timeout_s > 0:
        raise InputError(f"timeout_s(={timeout_s!r}) must be > 0")
    if latency_s < 0 or (latency_s and backend != "socket"):
        raise InputError(f"latency_s(={latency_s!r}) must be >= 0, and 0 unless backend "
                         "is 'socket'")
    if hosts is None:
        return [HostSpec() for _ in range(world_size)]
    if len(hosts) < world_size:
        raise InputError(f"{len(hosts)} hosts given for {world_size} ranks; need one per rank")
    return list(hosts[:world_size])


def _write_job(tmp: Path, fn: Callable[..., Any] | str, args: Sequence[Any],
               kwargs: Mapping[str, Any]) -> dict[str, Any]:
    args_path = tmp / "args.pkl"
    with args_path.open("wb") as f:
        pickle.dump((tuple(args), dict(kwargs)), f)
    return {"fn": function_ref(fn), "args_path": str(args_path), "sys_path": list(sys.path)}


class _Child:
    """One rank's process and the line-oriented pipe protocol to it."""

    def __init__(self, rank: int, proc: subprocess.Popen[bytes], stderr_path: Path) -> None:
        self.rank = rank
        self.proc = proc
        self.stderr_path = stderr_path
        self.pending = b""
        self.address: Any = None
        self.listening = False
        self.done = False
        self.reported = False

    def send(self, message: dict[str, Any]) -> None:
        stdin = self.proc.stdin
        assert stdin is not None
        try:
            stdin.write(json.dumps(message).encode() + b"\n")
            stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # the child is gone; its exit is reported by the reader

    def stderr_tail(self) -> str:
        try:
            lines = self.stderr_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1] if lines else ""


class _Group:
    """All ranks of one launch: start, rendezvous, wait, kill."""

    def __init__(self, tmp: Path, hosts: list[HostSpec], on_progress: ProgressFn | None) -> None:
        self.tmp = tmp
        self.hosts = hosts
        self.on_progress = on_progress
        self.children: list[_Child] = []
        self.sel = selectors.DefaultSelector()
        # (severity, time, rank, why): 0 died without a word, 1 reported an error,
        # 2 only lost a peer (a consequence of another rank's failure).
        self.failures: list[tuple[int, float, int, str]] = []

    def start(self, job: dict[str, Any], *, backend: str, timeout_s: float,
              latency_s: float) -> None:
        for rank, host in enumerate(self.hosts):
            stderr_path = self.tmp / f"rank{rank}.stderr"
            argv = [*host.exec_prefix, sys.executable, "-m", "mlfleet.comm.worker"]
            try:
                with stderr_path.open("wb") as stderr:
                    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=stderr, env={**os.environ, **host.env},
                                            start_new_session=True)
            except OSError as exc:
                raise RunError(f"cannot start rank {rank} ({' '.join(argv)}): {exc}") from exc
            child = _Child(rank, proc, stderr_path)
            self.children.append(child)
            assert proc.stdout is not None
            os.set_blocking(proc.stdout.fileno(), False)
            self.sel.register(proc.stdout, selectors.EVENT_READ, child)
            child.send({**job, "rank": rank, "world_size": len(self.hosts), "ip": host.ip,
                        "backend": backend, "timeout_s": timeout_s, "latency_s": latency_s,
                        "result_path": str(self.tmp / f"rank{rank}.result")})

    def rendezvous(self, *, deadline: float) -> None:
        self._pump(lambda: all(c.listening for c in self.children), deadline, "start up")
        addresses = [c.address for c in self.children]
        for child in self.children:
            child.send({"addresses": addresses})

    def wait_done(self, *, deadline: float | None) -> None:
        self._pump(lambda: all(c.done for c in self.children), deadline, "finish")

    def result(self, rank: int) -> Any:
        with (self.tmp / f"rank{rank}.result").open("rb") as f:
            return pickle.load(f)

    def stop(self) -> None:
        """Kill whatever still runs (each rank's whole process group) and reap it."""
        for child in self.children:
            if child.proc.poll() is None and not child.done:
                _kill_group(child.proc)
        for child in self.children:
            if child.proc.stdin is not None:
                child.proc.stdin.close()
            try:
                child.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _kill_group(child.proc)
                child.proc.wait()
            assert child.proc.stdout is not None
            child.proc.stdout.close()
        self.sel.close()

    def _pump(self, finished: Callable[[], bool], deadline: float | None, what: str) -> None:
        while not finished():
            if self.failures:
                self._raise_failure()
            if deadline is not None and time.monotonic() > deadline:
                waiting = [c.rank for c in self.children if not (c.done or c.listening)]
                raise RunError(f"ranks did not {what} in time (waiting for ranks {waiting})")
            timeout = 0.5 if deadline is None else max(0.0, min(0.5, deadline - time.monotonic()))
            for key, _ in self.sel.select(timeout):
                self._read(key.data, key.fileobj)  # type: ignore[arg-type]

    def _read(self, child: _Child, stream: IO[bytes]) -> None:
        try:
            data = os.read(stream.fileno(), 1 << 16)
        except BlockingIOError:
            return
        if not data:
            self.sel.unregister(stream)
            if not (child.done or child.reported):
                child.proc.wait()
                tail = child.stderr_tail()
                why = f"exited with status {child.proc.returncode}" + (f": {tail}" if tail else "")
                self.failures.append((0, time.monotonic(), child.rank, why))
            return
        child.pending += data
        *lines, child.pending = child.pending.split(b"\n")
        for line in lines:
            self._handle(child, json.loads(line))

    def _handle(self, child: _Child, message: dict[str, Any]) -> None:
        event = message.get("event")
        if event == "listening":
            child.address, child.listening = message.get("address"), True
        elif event == "progress" and self.on_progress is not None:
            self.on_progress(child.rank, message.get("payload", {}))
        elif event == "done":
            child.done = True
        elif event == "error":
            child.reported = True
            severity = 2 if message.get("peer_lost") else 1
            self.failures.append((severity, time.monotonic(), child.rank,
                                  message.get("message", "")))

    def _raise_failure(self) -> None:
        """Report the root cause: wait briefly for a worse failure than the ones seen."""
        end = time.monotonic() + _GRACE_S
        while time.monotonic() < end and min(self.failures)[0] > 0:
            for key, _ in self.sel.select(max(0.0, end - time.monotonic())):
                self._read(key.data, key.fileobj)  # type: ignore[arg-type]
        severity, _, rank, why = min(self.failures)
        silent = [c.rank for c in self.children if not (c.done or c.reported)]
        if severity == 2 and silent:
            why += f"; ranks still running without an error (stalled?): {silent}"
        raise RunError(f"rank {rank} failed: {why}")



def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            proc.kill()

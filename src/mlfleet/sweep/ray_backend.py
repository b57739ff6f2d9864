"""Fan a sweep's simulation points out on Ray: one Ray task per point.

:func:`run_points` runs ``"module:function"`` on every point and returns the results
in input order. Without ``address`` it starts a private local Ray (``num_cpus``
workers, no dashboard, its session under a fresh temporary directory, no usage
statistics, no auth token written to the home directory) and shuts it down on every
path; with ``address`` (``"HOST:PORT"`` of a head's GCS, as ``ray start --head``
prints it) it joins that cluster and leaves it running. A Ray already initialised in
this process (a notebook's ``ray.init()``) is used as it is.

Progress is reported as tasks complete (``ray.wait``), not in submission order.
SIGINT and SIGTERM are recorded while the driver waits and acted on between
``ray.wait`` calls (:data:`POLL_S`), so they cannot be lost in one of Ray's threads;
then the outstanding tasks are cancelled (a joined cluster) or the private Ray is shut
down and any of its processes still alive killed (found by the session directory in
``/proc/*/cmdline``, and their ``ray::…`` descendants), and the signal is raised as
the caller's handler would (KeyboardInterrupt for Ctrl-C).

Ray is the ``ray`` extra: importing it fails with ModuleNotFoundError('ray'), which
:mod:`mlfleet.entry` turns into a one-line ``pip install 'mlfleet[ray]'`` message.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from mlfleet.checks import positive_int
from mlfleet.errors import InputError, RunError, one_line
from mlfleet.stop_signals import signals_held

RAY_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
"""Set before Ray starts: no token under ``~/.ray``, no usage report (REAL-COMPONENTS.md)."""
STOP_GRACE_S = 1.0
"""How long :func:`stop_processes` waits for a local Ray's killed leftovers to vanish."""
CONNECT_TIMEOUT_S = 5.0
"""How long :func:`check_reachable` waits for the head's GCS port to answer."""
POLL_S = 0.2
"""Longest ``ray.wait`` call: how soon a Ctrl-C is seen."""

PointFunction = Callable[[Mapping[str, Any]], dict[str, Any]]


def resolve(func: str) -> PointFunction:
    """The callable named ``"module:function"``; InputError naming it when it is not one."""
    module_name, sep, attr = func.partition(":")
    if not sep or not module_name or not attr:
        raise InputError(f"func(={func!r}) must be 'module:function', e.g. "
                         "'mlfleet.sweep.points:serving_point'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InputError(f"func(={func!r}): cannot import {module_name!r} ({exc})") from None
    target = getattr(module, attr, None)
    if not callable(target):
        raise InputError(f"func(={func!r}): {module_name} has no function {attr!r}")
    return target  # type: ignore[no-any-return]


def call_point(func: str, point: Mapping[str, Any]) -> dict[str, Any]:
    """Run one point in this process: what each Ray task does (and the in-process reference)."""
    result = resolve(func)(point)
    if not isinstance(result, dict):
        raise RunError(f"{func} returned {type(result).__name__}, not a dict of metrics")
    return result


def run_points(func: str, points: list[dict[str, Any]], *, address: str | None = None,
               num_cpus: int | None = None,
               progress: Callable[[int], None] | None = None) -> list[dict[str, Any]]:
    """Run ``func`` on each point as a Ray task; the results in the order of ``points``.

    ``progress(done)`` is called with the number of points finished so far. A point
    whose function raises becomes RunError naming the point's index and fields
    (InputError when the function refused its input). InputError for a bad ``func``,
    ``num_cpus`` < 1 or an ``address`` that is not ``HOST:PORT``; RunError when Ray
    cannot start, or nothing answers at ``address``.
    """
    resolve(func)  # a bad name fails here, once, not in every task
    if num_cpus is not None:
        positive_int("num_cpus", num_cpus)
    if address is not None:
        check_reachable(address)
    if not points:
        return []
    with ray_session(address=address, num_cpus=num_cpus) as private:
        return _run_tasks(func, points, progress, cancel=not private)


def check_reachable(address: str) -> None:
    """InputError unless ``address`` is ``HOST:PORT``; RunError unless something listens
    there (Ray itself retries an unreachable head for minutes before giving up)."""
    host, sep, port = address.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(f"address(={address!r}) must be HOST:PORT of a Ray head's GCS, "
                         "e.g. 10.0.0.1:6379")
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise RunError(f"cannot reach the Ray cluster at {address}: "
                       f"{exc.strerror or exc or 'timed out'}") from None


@contextlib.contextmanager
def ray_session(*, address: str | None, num_cpus: int | None) -> Iterator[bool]:
    """Ray for the duration of the block: joined, started locally, or the one already up.

    Yields True when the Ray is a private local one that ends with the block.
    """
    import ray

    if ray.is_initialized():
        yield False
        return
    for key, value in RAY_ENV.items():
        os.environ.setdefault(key, value)
    temp_dir = None if address is not None else tempfile.mkdtemp(prefix="mlfleet-ray-")
    try:
        _init(ray, address=address, num_cpus=num_cpus, temp_dir=temp_dir)
        yield temp_dir is not None
    finally:
        # a second Ctrl-C must not cut the clean-up short. (Killing the session before
        # ray.shutdown() would not be faster: shutdown then waits 5 s for the dead GCS.)
        with signals_held():
            ray.shutdown()
            if temp_dir is not None:
                stop_processes(temp_dir)
                shutil.rmtree(temp_dir, ignore_errors=True)


def _init(ray: Any, *, address: str | None, num_cpus: int | None, temp_dir: str | None) -> None:
    """``ray.init``, keeping the caller's SIGTERM handler (Ray installs one that exits
    with status 15, past ``mlfleet``'s own, which reports 143 after cleaning up)."""
    main = threading.current_thread() is threading.main_thread()
    sigterm = signal.getsignal(signal.SIGTERM) if main else None
    try:
        if address is not None:
            ray.init(address=address, log_to_driver=False, logging_level="ERROR")
        else:
            ray.init(num_cpus=num_cpus, include_dashboard=False, _temp_dir=temp_dir,
                     log_to_driver=False, logging_level="ERROR")
    except (ConnectionError, RuntimeError, ValueError, OSError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        raise RunError(f"cannot start {where}: {one_line(str(exc))}") from None
    finally:
        if sigterm is not None:
            signal.signal(signal.SIGTERM, sigterm)


def _run_tasks(func: str, points: list[dict[str, Any]],
               progress: Callable[[int], None] | None, *, cancel: bool) -> list[dict[str, Any]]:
    """Submit every point, collect as they finish; on any exit with tasks still pending,
    ``cancel`` them (a private Ray is shut down instead, which is faster)."""
    import ray

    task = ray.remote(call_point).options(num_cpus=1, max_retries=0)
    refs = [task.remote(func, point) for point in points]
    index = {ref: i for i, ref in enumerate(refs)}
    results: list[dict[str, Any] | None] = [None] * len(points)
    pending = list(refs)
    try:
        with _stop_requests() as stop:
            while pending and not stop:
                done, pending = ray.wait(pending, num_returns=1, timeout=POLL_S)
                for ref in done:
                    results[index[ref]] = _result(ray, ref, index[ref], points[index[ref]])
                if done and progress is not None:
                    progress(len(points) - len(pending))
        if stop:
            _reraise(stop[0])
    finally:
        for ref in pending if cancel else ():  # a joined cluster outlives us: free it
            ray.cancel(ref, force=True)
    return [r for r in results if r is not None]


@contextlib.contextmanager
def _stop_requests() -> Iterator[list[int]]:
    """SIGINT/SIGTERM recorded, not raised, inside the block; the caller polls the list.

    A KeyboardInterrupt raised at an arbitrary bytecode can land in a finaliser or in
    one of Ray's threads' callbacks, where Python prints "Exception ignored" and the
    sweep runs on; polling the flag between ``ray.wait`` calls cannot be lost.
    """
    stop: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {signum: signal.signal(signum, lambda s, _f: stop.append(s))
                for signum in (signal.SIGINT, signal.SIGTERM)
                if signal.getsignal(signum) != signal.SIG_IGN}
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)


def _result(ray: Any, ref: Any, i: int, point: Mapping[str, Any]) -> dict[str, Any]:
    try:
        value: dict[str, Any] = ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        cause = exc.cause if isinstance(exc.cause, BaseException) else exc
        what = f"point {i} {dict(point)} failed: {type(cause).__name__}: {one_line(str(cause))}"
        raise (InputError(what) if isinstance(cause, InputError) else RunError(what)) from None
    except ray.exceptions.RayError as exc:
        raise RunError(f"point {i} {dict(point)} failed: {one_line(str(exc))}") from None
    return value


def _reraise(signum: int) -> None:
    """Stop as the caller's handler for ``signum`` says, from here, where it cannot be lost."""
    handler = signal.getsignal(signum)
    if callable(handler):
        signal.raise_signal(signum)  # e.g. KeyboardInterrupt, or mlfleet's Terminated
    elif signum == signal.SIGINT:
        raise KeyboardInterrupt
    else:  # the default action would end the process without our clean-up: exit instead
        raise SystemExit(128 + signum)


def session_processes(temp_dir: str) -> list[int]:
    """Live PIDs of a Ray session: processes whose command line names ``temp_dir`` and their
    descendants (Ray's workers and agents rewrite their titles to ``ray::…``). Zombies,
    which nothing here can reap, are not counted."""
    needle = temp_dir.encode()
    parent: dict[int, int] = {}
    roots = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if stat[0] == "Z":
                continue
            parent[int(entry.name)] = int(stat[1])
            if needle in (entry / "cmdline").read_bytes():
                roots.add(int(entry.name))
    return sorted(_with_descendants(roots, parent))


def _with_descendants(roots: set[int], parent: dict[int, int]) -> set[int]:
    found = set(roots)
    grew = True
    while grew:
        more = {pid for pid, ppid in parent.items() if ppid in found and pid not in found}
        found |= more
        grew = bool(more)
    return found


def stop_processes(temp_dir: str) -> None:
    """SIGKILL every process of the Ray session under ``temp_dir`` (for a local Ray: what
    outlived ``ray.shutdown()``, which has already asked them nicely), and wait up to
    :data:`STOP_GRACE_S` for them to go."""
    deadline = time.monotonic() + STOP_GRACE_S
    pids = session_processes(temp_dir)
    while pids and time.monotonic() < deadline:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.02)
        pids = session_processes(temp_dir)

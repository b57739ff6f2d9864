"""Start ``mlfleet serve`` in a child process and wait until it is ready.

Used by the calibration benchmark and the tests: the server must run in its own
process so the load generator never shares its event loop, GIL or CPU accounting.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence

from mlfleet.errors import RunError

_READY = re.compile(r"ready on (http://\S+)")


@contextlib.contextmanager
def server_process(args: Sequence[str] = (), *, timeout_s: float = 180.0,
                   env: dict[str, str] | None = None,
                   launcher: Sequence[str] = ("-m", "mlfleet.serving.server")) -> Iterator[str]:
    """Run ``python -m mlfleet.serving.server --port 0 ARGS``; yields its base URL.
    ``launcher`` replaces ``-m mlfleet.serving.server`` (e.g. ``-c CODE`` serving a
    config the CLI does not build).

    Raises :class:`RunError` if it exits or is not ready within ``timeout_s``. The child
    is stopped with SIGINT (then SIGKILL) on exit: SIGINT stops at once, where SIGTERM
    would drain first (:mod:`.draining`).
    """
    cmd = [sys.executable, *launcher, "--port", "0", *args]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            env={**os.environ, **(env or {})})
    try:
        yield _wait_ready(proc, timeout_s)
    finally:
        _stop(proc)


def _wait_ready(proc: subprocess.Popen[str], timeout_s: float) -> str:
    assert proc.stderr is not None
    found: list[str] = []
    lines: list[str] = []

    def reader() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            match = _READY.search(line)
            if match and not found:
                found.append(match.group(1))

    threading.Thread(target=reader, daemon=True).start()
    deadline = time.monotonic() + timeout_s
    while not found:
        if proc.poll() is not None:
            raise RunError(f"server exited with {proc.returncode}: {''.join(lines)[-2000:]}")
        if time.monotonic() > deadline:
            raise RunError(f"server not ready after {timeout_s:g} s: {''.join(lines)[-2000:]}")
        time.sleep(0.05)
    return found[0]


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

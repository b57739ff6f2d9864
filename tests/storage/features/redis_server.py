"""A real ``redis-server`` for the online-store tests, started and stopped by the tests.

``redis_server`` (session scope) starts ``redis-server`` on a free port of 127.0.0.1 with
no persistence and its directory under a temporary folder, waits until it answers PING,
and sends SIGTERM at the end. ``redis_url`` (per test) gives a URL to a flushed database.
Without the binary the tests skip locally but FAIL under ``CI`` (``scripts/test.sh``
installs the Debian package there).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlfleet.loopback import free_port

START_TIMEOUT_S = 10.0


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _start(binary: str, workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--daemonize", "no", "--dir", str(workdir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and proc.poll() is None:
        if _answers_ping(port):
            return proc, port
        time.sleep(0.02)
    _stop(proc)
    raise RuntimeError(f"redis-server on port {port} did not answer PING")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The port of a running ``redis-server`` (skips locally, fails under CI, without it)."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed (scripts/test.sh installs it)")
        pytest.skip("redis-server is not installed")
    proc, port = _start(binary, tmp_path_factory.mktemp("redis"))
    try:
        yield port
    finally:
        _stop(proc)


@pytest.fixture
def redis_url(redis_server: int) -> str:
    """A URL to database 0 of the session's server, flushed before the test."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=redis_server)
    client.flushdb()
    client.close()
    return f"redis://127.0.0.1:{redis_server}/0"

"""``mlfleet serve`` on SIGTERM: readiness 503 at once, keeps serving through the drain,
then exits 0; a second SIGTERM stops at once; a bad ``--drain`` is one line, exit 2."""

from __future__ import annotations

import json
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cli_helpers import assert_one_line_error, run_cli
from mlfleet.serving.fleet.replica import Replica

SMALL = ("--max-batch", "8", "--torch-threads", "1")


@contextmanager
def draining(tmp_path: Path, drain: str) -> Iterator[Replica]:
    """A ready server with ``--drain drain``, sent SIGTERM, once its readiness says 503."""
    rep = Replica(name="r0", server_args=(*SMALL, "--drain", drain), log=tmp_path / "r0.log",
                  ready_timeout_s=180.0)
    rep.spawn()
    try:
        rep.wait_ready()
        assert status(rep.url + "/readyz") == 200
        rep.kill(signal.SIGTERM)
        wait_for(lambda: status(rep.url + "/readyz") == 503)
        yield rep
    finally:
        rep.kill(signal.SIGKILL)


def status(url: str, body: dict[str, object] | None = None) -> int:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def wait_for(predicate: Callable[[], bool], *, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def exit_code(rep: Replica, timeout_s: float = 60.0) -> int:
    proc = rep.process
    assert proc is not None
    return proc.wait(timeout=timeout_s)


@pytest.mark.slow
@pytest.mark.serial
def test_draining_replica_answers_new_requests_until_it_exits_zero(tmp_path: Path) -> None:
    with draining(tmp_path, "2s") as rep:
        reasons = _readyz_reasons(rep.url)
        assert "check draining failing" in reasons, reasons
        # Still serving while draining: the balancer stops sending, nothing is refused yet.
        assert status(rep.url + "/v1/rank", {"user": 1, "items": [1, 2, 3]}) == 200
        assert exit_code(rep) == 0


@pytest.mark.slow
@pytest.mark.serial
def test_second_sigterm_stops_at_once(tmp_path: Path) -> None:
    with draining(tmp_path, "10min") as rep:
        rep.kill(signal.SIGTERM)
        assert exit_code(rep, timeout_s=60.0) == 0  # far less than the 10 min drain


def _readyz_reasons(url: str) -> list[str]:
    try:
        urllib.request.urlopen(url + "/readyz", timeout=30)
    except urllib.error.HTTPError as exc:
        return list(json.loads(exc.read())["reasons"])
    return []


@pytest.mark.parametrize("drain", ["-1s", "soon"])
def test_bad_drain_is_one_line(drain: str) -> None:
    assert_one_line_error(run_cli("serve", "--drain", drain), "--drain")

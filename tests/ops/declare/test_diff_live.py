"""``ops diff`` against real ``mlfleet serve`` processes: in sync exits 0, a server started
with another batch size is named field by field (exit 3), replicas are counted."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cli_helpers import assert_one_line_error, run_cli, run_main
from mlfleet.serving.server.process import server_process

DECLARED = (Path(__file__).parent / "data" / "declared.yaml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("diff") / "declared.yaml"
    path.write_text(DECLARED, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def servers(scenario: Path) -> Iterator[tuple[str, str]]:
    """Two real servers: one started from the scenario (writing a deployment record), one
    from it with --max-batch 8."""
    record = scenario.parent / "deployment-record.json"
    with server_process(["--scenario", str(scenario), "--record", str(record)]) as in_sync, \
            server_process(["--scenario", str(scenario), "--max-batch", "8"]) as drifted:
        yield in_sync, drifted


@pytest.mark.slow
def test_serve_writes_a_deployment_record_when_ready(scenario: Path,
                                                     servers: tuple[str, str]) -> None:
    from mlfleet.ops.declare.record_verify import read_record

    record = read_record(scenario.parent / "deployment-record.json")
    assert record.kind == "deployment" and record.extra == {"url": servers[0]}
    assert record.configuration is not None
    server = record.configuration.canonical["server"]
    assert server["model_version"] == "ranker-v7" and server["rank"]["max_batch_size"] == 16
    assert record.configuration.canonical["declared"]["rank.queue_capacity"] == 32


@pytest.mark.slow
def test_a_server_started_from_the_scenario_is_in_sync(scenario: Path,
                                                       servers: tuple[str, str]) -> None:
    done = run_cli("ops", "diff", str(scenario), "--against", servers[0], "--against",
                   servers[0].replace("127.0.0.1", "localhost"))
    assert done.returncode == 0, done.stderr
    assert done.stdout == (f"in sync: 2 replica(s) report the 11 declared field(s) of "
                           f"{scenario}\n")


@pytest.mark.slow
def test_a_different_batch_size_is_named(scenario: Path, servers: tuple[str, str]) -> None:
    in_sync, drifted = servers
    done = run_cli("ops", "diff", str(scenario), "--against", in_sync, "--against", drifted,
                   "--json")
    assert done.returncode == 3, done.stderr
    payload = json.loads(done.stdout)
    assert payload["in_sync"] is False
    assert [r["drift"] for r in payload["replicas"]] == [
        [], [{"field": "rank.max_batch_size", "declared": 16, "running": 8}]]
    assert payload["drift"] == [f"{drifted}: rank.max_batch_size: declared 16, running 8"]
    assert done.stderr.strip() == (f"error: 1 drifted field(s) between {scenario} and the "
                                   "running deployment")


@pytest.mark.slow
def test_the_replica_count_and_an_unreachable_replica(scenario: Path,
                                                      servers: tuple[str, str]) -> None:
    one = run_cli("ops", "diff", str(scenario), "--against", servers[0])
    assert one.returncode == 3 and one.stdout == "drift: replicas: declared 2, running 1\n"
    gone = run_cli("ops", "diff", str(scenario), "--against", servers[0], "--against",
                   "http://127.0.0.1:9")
    assert gone.returncode == 3
    assert gone.stdout == ("drift: cannot reach http://127.0.0.1:9/v1/info: Connection "
                           "refused\n")


class _NotMlfleet(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server hook's name
        body = json.dumps({"hello": "world"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def other_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotMlfleet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_server_that_is_not_mlfleet_is_exit_2(scenario: Path, other_server: str) -> None:
    assert_one_line_error(run_cli("ops", "diff", str(scenario), "--against", other_server),
                          f"GET {other_server}/v1/info answered JSON without a server "
                          "configuration; not an mlfleet serve")


def one_line_exit_2(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code, out, err = run_main(capsys, *args)
    lines = err.strip().splitlines()
    assert code == 2 and out == "" and len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


@pytest.mark.parametrize("url", ["ftp://127.0.0.1:8000", "127.0.0.1:8000", "http://",
                                 "http://h:99999", "http://h/?q=1", "http://h /x"])
def test_a_url_that_is_not_http_is_exit_2(capsys: pytest.CaptureFixture[str], scenario: Path,
                                          url: str) -> None:
    line = one_line_exit_2(capsys, "ops", "diff", str(scenario), "--against", url)
    assert f"--against(={url!r}) must be an http:// or https:// URL" in line


def test_a_scenario_without_deployment_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    line = one_line_exit_2(capsys, "ops", "diff", "recsys-serving", "--against",
                           "http://127.0.0.1:9")
    assert "recsys-serving declares no deployment: section" in line


def test_the_same_url_twice_is_exit_2(capsys: pytest.CaptureFixture[str], scenario: Path) -> None:
    line = one_line_exit_2(capsys, "ops", "diff", str(scenario), "--against", "http://h:1/",
                           "--against", "http://h:1")
    assert "--against(='http://h:1') is given twice" in line

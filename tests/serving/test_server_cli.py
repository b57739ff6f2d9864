"""``mlfleet serve`` as a process: binds loopback, serves, stops cleanly, one-line errors."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.request

import pytest

from mlfleet.errors import RunError
from mlfleet.serving.server.process import server_process


def torch_has_cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


ENTRY = [sys.executable, "-m", "mlfleet.serving.server"]


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return resp.status, resp.read()


@pytest.mark.slow
def test_serve_process_binds_loopback_and_answers() -> None:
    with server_process(["--max-batch", "8"]) as url:
        assert url.startswith("http://127.0.0.1:")
        assert get(url + "/readyz")[0] == 200
        req = urllib.request.Request(url + "/v1/rank", data=json.dumps(
            {"user": 1, "items": [1, 2, 3]}).encode(), headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert len(json.loads(resp.read())["scores"]) == 3
        info = json.loads(get(url + "/v1/info")[1])
        assert info["config"]["rank"]["max_batch_size"] == 8
        assert info["config"]["host"] == "127.0.0.1"
        assert b"mlfleet_ready 1" in get(url + "/metrics")[1]


@pytest.mark.parametrize(("args", "fragment"), [
    (["--admission", "nope"], "known: "),
    (["--admission", "token_bucket", "--admission-param", "oops"], "KEY=VALUE"),
    (["--max-batch", "0"], "max_batch_size(=0)"),
    (["--torch-threads", "0"], "--torch-threads(=0)"),
    (["--device", "tpu"], "--device(='tpu') must be auto, cpu, cuda or cuda:N"),
    (["--device", "cuda:99"], "--device(='cuda:99')"),
])
def test_bad_options_are_one_line_errors(args: list[str], fragment: str) -> None:
    proc = subprocess.run([*ENTRY, *args], capture_output=True, text=True, timeout=180,
                          check=False)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]


@pytest.mark.skipif(torch_has_cuda(), reason="this test is about a machine without CUDA")
def test_cuda_on_a_machine_without_it_is_one_line() -> None:
    proc = subprocess.run([*ENTRY, "--device", "cuda"], capture_output=True, text=True,
                          timeout=180, check=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == ("error: --device(='cuda') needs CUDA, which this machine "
                                   "does not have; use --device cpu or auto")


@pytest.mark.slow
def test_port_in_use_is_reported() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run([*ENTRY, "--port", str(port)], capture_output=True, text=True,
                              timeout=180, check=False)
    assert proc.returncode == 2 and f"cannot bind 127.0.0.1:{port}" in proc.stderr


def test_server_process_reports_early_exit() -> None:
    with pytest.raises(RunError, match="exited"), server_process(["--max-batch", "0"]):
        pass

"""``mlfleet run collective``: the nccl-tests-like table, its JSON, and one-line errors."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
from typing import Any

import pytest

from cli_helpers import assert_one_line_error, run_cli
from mlfleet.cli import main
from mlfleet.comm.run_cli import parse_sizes
from mlfleet.errors import InputError


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code = main(["run", "collective", *args, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    document: dict[str, Any] = json.loads(out)
    return document


def test_parse_sizes_doubles_like_nccl_tests() -> None:
    assert parse_sizes("4K:64M")[:3] == (4096, 8192, 16384)
    assert parse_sizes("4K:64M")[-1] == 64 * 2**20
    assert len(parse_sizes("4K:64M")) == 15
    assert parse_sizes("1K,1M") == (1024, 2**20)
    with pytest.raises(InputError, match="must be a whole number of bytes > 0"):
        parse_sizes("0")
    assert parse_sizes("3K:7K") == (3072, 6144)


def test_allreduce_json_has_times_bandwidths_model_and_checks(
        capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "allreduce", "--ranks", "3", "--sizes", "1K:4K", "--repeats", "2")
    assert (doc["fidelity"], doc["collective"], doc["algorithm"], doc["ranks"]) == (
        "run", "allreduce", "ring", 3)
    assert [r["size_bytes"] for r in doc["rows"]] == [1024, 2048, 4096]
    for row in doc["rows"]:
        assert row["correct"] is True and row["bytes_exact"] is True
        assert row["time_s"] > 0
        assert row["busbw_bytes_per_s"] == pytest.approx(row["algbw_bytes_per_s"] * 4 / 3)
        assert row["predicted_s"] is None or row["predicted_s"] > 0
    assert doc["link"] is None or doc["link"]["source"] == "measured ring step"


@pytest.mark.parametrize("args", [
    ["alltoall", "--ranks", "4", "--hot-fraction", "0.5"],
    ["allreduce", "--algo", "hierarchical", "--ranks", "4", "--ranks-per-node", "2"],
    ["allreduce", "--algo", "ps", "--ranks", "3", "--servers", "2"],
    ["allreduce", "--algo", "rhd", "--ranks", "3", "--dtype", "int64"],
    ["broadcast", "--ranks", "3", "--root", "2"],
    ["reduce", "--ranks", "2"],
    ["allgather", "--ranks", "2"],
    ["reducescatter", "--ranks", "2", "--latency", "1ms"],
])
def test_every_collective_runs_correctly(capsys: pytest.CaptureFixture[str],
                                         args: list[str]) -> None:
    doc = run_json(capsys, *args, "--sizes", "1K,5K", "--repeats", "1", "--warmup", "0",
                   "--alpha", "10us", "--bw", "1GB/s")
    assert all(r["correct"] and r["bytes_exact"] for r in doc["rows"])
    assert doc["link"] == {"alpha_s": 1e-5, "bw_bytes_per_s": 1e9, "source": "given"}


def test_the_table_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "collective", "allgather", "--ranks", "2", "--sizes", "4K",
                 "--repeats", "1", "--no-check"]) == 0
    out = capsys.readouterr().out
    assert "allgather/ring on 2 ranks" in out and "busbw" in out


@pytest.mark.parametrize("args,fragment", [
    (["allsum"], "unknown collective 'allsum'"),
    (["allreduce", "--algo", "rong"], "unknown allreduce algorithm 'rong'; known: ring"),
    (["allreduce", "--sizes", "4K:1K"], "0 < START <= END"),
    (["allreduce", "--sizes", "lots"], "lots"),
    (["allreduce", "--ranks", "0"], "--ranks '0' must be an integer in 2..64"),
    (["allreduce", "--ranks", "1"], "--ranks '1' must be an integer in 2..64"),
    (["allgather", "--ranks", "1", "--sizes", "4K"], "at least two ranks"),
    (["broadcast", "--ranks", "4", "--root", "7"], "--root 7 must be a rank in 0..3"),
    (["reduce", "--ranks", "4", "--root", "-1"], "--root -1 must be a rank in 0..3"),
    (["allreduce", "--algo", "hierarchical", "--ranks", "4", "--ranks-per-node", "3"],
     "--ranks-per-node 3 must divide --ranks 4"),
    (["allreduce", "--dtype", "float128"], "--dtype 'float128' must be a numeric dtype"),
    (["allreduce", "--sizes", "3"], "3 bytes is not a whole number of float32 elements"),
    (["allreduce", "--sizes", "6", "--dtype", "int32"], "not a whole number of int32"),
    (["allreduce", "--sizes", "0"], "'0' must be a whole number of bytes > 0"),
    (["allreduce", "--backend", "mpi"], "--backend 'mpi' is not one of: socket, torch"),
    (["allreduce", "--hosts", "no-such-lab"], "no-such-lab"),
    (["allreduce", "--hot-fraction", "0.5"], "--hot-fraction applies to alltoall only"),
    (["allreduce", "--root", "1"], "--root does not apply to allreduce/ring"),
    (["allreduce", "--algo", "builtin"], "--algo 'builtin' needs --backend torch"),
    (["allreduce", "--dtype", "complex64"], "--dtype 'complex64' must be a numeric"),
    (["allreduce", "--alpha", "1us"], "--alpha and --bw go together"),
    (["allreduce", "--repeats", "0"], "--repeats(=0) must be >= 1"),
    (["allreduce", "--timeout", "-1s"], "--timeout '-1s' must be > 0"),
])
def test_bad_input_exits_2_with_one_line(capsys: pytest.CaptureFixture[str], args: list[str],
                                         fragment: str) -> None:
    assert main(["run", "collective", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and fragment in err[0], err


def test_bad_input_in_a_real_process_is_one_line_without_traceback() -> None:
    assert_one_line_error(run_cli("run", "collective", "allreduce", "--algo", "rong"), "rong")


def test_iters_times_calls_back_to_back_and_keeps_bytes_per_call(
        capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "allreduce", "--ranks", "3", "--sizes", "4K", "--repeats", "2",
                   "--iters", "4")
    assert doc["iters"] == 4
    row = doc["rows"][0]
    assert row["correct"] is True and row["bytes_exact"] is True  # bytes of one call, not four
    assert_one_line_error(run_cli("run", "collective", "allreduce", "--iters", "0"), "--iters")


def test_standalone_worker_on_static_ports() -> None:
    base_port = _two_free_ports()
    argv = [sys.executable, "-m", "mlfleet.comm.worker", "allreduce", "--backend", "socket",
            "--hosts", "127.0.0.1,127.0.0.1", "--base-port", str(base_port), "--sizes", "1K",
            "--repeats", "1", "--json", "--timeout", "20s"]
    procs = [subprocess.Popen(argv, env={**os.environ, "RANK": str(r), "WORLD_SIZE": "2"},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for r in range(2)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    doc = json.loads(outs[0][0])
    assert doc["ranks"] == 2 and doc["rows"][0]["correct"] is True
    assert outs[1][0] == ""  # only rank 0 prints


@pytest.mark.parametrize(("env", "fragment"), [
    ({}, "needs RANK"),
    ({"RANK": "0", "WORLD_SIZE": "4", "LOCAL_WORLD_SIZE": "2"}, "across nodes needs --hosts"),
])
def test_standalone_socket_without_hosts_says_what_is_missing(env: dict[str, str],
                                                              fragment: str) -> None:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE")}
    proc = subprocess.run([sys.executable, "-m", "mlfleet.comm.worker", "allreduce", "--backend",
                           "socket", "--sizes", "1K"], env={**clean, **env},
                          capture_output=True, text=True, timeout=60, check=False)
    err = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(err) == 1 and fragment in err[0], proc.stderr


def _two_free_ports() -> int:
    """A port p with p and p + 1 free, below the kernel's ephemeral range (so no
    outgoing connection takes one of them meanwhile)."""
    rng = random.Random(os.getpid())
    for _ in range(200):
        port = rng.randrange(20000, 32000)
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        return port
    raise AssertionError("no two adjacent free ports")


@pytest.mark.slow
def test_torch_backend_and_gloo_builtin(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch.distributed")
    doc = run_json(capsys, "allreduce", "--backend", "torch", "--algo", "builtin", "--ranks",
                   "2", "--sizes", "4K", "--repeats", "1")
    assert doc["rows"][0]["correct"] is True
    assert doc["rows"][0]["bytes_exact"] is None and doc["rows"][0]["predicted_s"] is None


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["torch", "socket"])
def test_torchrun_runs_the_worker_standalone(backend: str) -> None:
    """Both backends under torchrun on one node (socket: loopback ports, no --hosts needed)."""
    torchrun = os.path.join(os.path.dirname(sys.executable), "torchrun")
    if not os.path.exists(torchrun):
        pytest.skip("torchrun is not installed")
    proc = subprocess.run(
        [torchrun, "--standalone", "--nproc-per-node", "2", "-m", "mlfleet.comm.worker",
         "allreduce", "--backend", backend, "--sizes", "1K", "--repeats", "1", "--json",
         "--base-port", str(_two_free_ports())],
        capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    assert doc["rows"][0]["correct"] is True and doc["rows"][0]["bytes_exact"] is True


@pytest.mark.parametrize("args", [
    ["broadcast", "--ranks", "4", "--root", "7"],
    ["allreduce", "--algo", "hierarchical", "--ranks", "4", "--ranks-per-node", "3"],
    ["allreduce", "--ranks", "1"],
])
def test_rank_dependent_input_is_refused_before_any_process_starts(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        args: list[str]) -> None:
    from mlfleet.comm import run_cli

    def no_launch(*_: object, **__: object) -> None:
        raise AssertionError("workers were started for input that is refused")

    monkeypatch.setattr(run_cli, "launch", no_launch)
    assert main(["run", "collective", *args, "--sizes", "4K"]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_a_run_that_cannot_fit_in_memory_is_refused_before_any_process_starts(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """64 GiB per message on 4 ranks: one line naming the need and what is available."""
    from mlfleet.comm import run_cli as run_cli_module

    def no_launch(*_: object, **__: object) -> None:
        raise AssertionError("workers were started for a run that cannot fit")

    monkeypatch.setattr(run_cli_module, "launch", no_launch)
    assert main(["run", "collective", "allreduce", "--ranks", "4", "--sizes", "64G"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--ranks 4 × --sizes up to 68_719_476_736 bytes" in err[0], err
    assert "GB is available: use smaller --sizes or fewer --ranks" in err[0]
    assert_one_line_error(run_cli("run", "collective", "allreduce", "--ranks", "4",
                                  "--sizes", "1T"), "GB is available")


def test_the_memory_bound_counts_every_rank_and_buffer() -> None:
    from mlfleet.comm.run_cli import build_job
    from mlfleet.comm.run_memory import PROCESS_BYTES, check_run_memory, rank_bytes

    job = build_job("allreduce", algo="ring", sizes="4K:64M", dtype="float32", repeats=1,
                    warmup=0, params={}, hot_fraction=None, check=True, calibrate=False)
    assert rank_bytes(job, 4) == PROCESS_BYTES + 5 * 64 * 2**20  # 3 buffers + check's 2
    check_run_memory(job, 4, 4 * rank_bytes(job, 4))  # exactly fits: no error
    with pytest.raises(InputError, match="--ranks 4 × --sizes up to 67_108_864 bytes"):
        check_run_memory(job, 4, 4 * rank_bytes(job, 4) - 1)

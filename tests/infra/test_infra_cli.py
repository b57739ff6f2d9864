"""``mlfleet infra roofline`` and ``mlfleet infra probe``."""

from __future__ import annotations

import json

import pytest

from cli_helpers import assert_one_line_error, run_cli
from mlfleet.catalog.types import Workload
from mlfleet.cli import main
from mlfleet.errors import InputError
from mlfleet.infra.cli import parse_counts, parse_gemm


@pytest.fixture
def toy_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    """A catalog-free 'toy-8b' workload (Llama-3-8B-like shape)."""
    toy = Workload(name="toy-8b", family="llm", unit="token", params=8.03e9,
                   active_params=8.03e9, fwd_flop=2 * 8.03e9, bwd_flop=4 * 8.03e9,
                   shape={"n_layers": 32, "d_model": 4096, "n_heads": 32, "n_kv_heads": 8,
                          "seq_len": 8192})
    real = Workload.from_name

    def from_name(name: str) -> Workload:
        return toy if name == "toy-8b" else real(name)

    monkeypatch.setattr(Workload, "from_name", staticmethod(from_name))


def test_gemm_prints_time_bound_intensity_mfu(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["infra", "roofline", "--accelerator", "H100", "--precision", "bf16",
                 "--gemm", "8192x8192x8192"]) == 0
    out = capsys.readouterr().out
    for fragment in ("1.11 ms", "compute", "2,731", "100.0%"):
        assert fragment in out


def test_flop_bytes_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["infra", "roofline", "-a", "H100", "--flop", "1e9", "--bytes", "1GB",
                 "--overhead", "1ms", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (row,) = doc["rows"]
    assert row["bound"] == "overhead"
    assert row["memory_s"] == pytest.approx(1e9 / 3.35e12)
    assert doc["device"]["name"] == "H100-SXM/bf16"


def test_custom_device_without_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["infra", "roofline", "--peak-flops", "100GFLOP/s", "--mem-bw", "10GB/s",
                 "--precision", "fp32", "--gemm", "1x4096x4096", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["rows"]
    assert row["bound"] == "memory"


def test_workload_batch_sweep_is_one_row_per_batch(toy_llm: None,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["infra", "roofline", "-a", "H100", "-w", "toy-8b", "--phase", "decode",
                 "--batch", "1,8,64,256", "--seq-len", "2048", "--overhead", "2ms",
                 "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert [r["batch"] for r in rows] == [1, 8, 64, 256]
    assert rows[0]["bound"] == "memory"
    assert [r["tokens_per_s"] for r in rows] == sorted(r["tokens_per_s"] for r in rows)


def test_workload_gpu_sweep_table(toy_llm: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["infra", "roofline", "-a", "H100", "-w", "toy-8b", "--phase", "train",
                 "--batch", "512", "--gpus", "8,64", "--compute-efficiency", "0.45"]) == 0
    out = capsys.readouterr().out
    assert "45.0%" in out and "tokens/s" in out


@pytest.mark.parametrize(("args", "fragment"), [
    (["--gemm", "8192x8192"], "--gemm '8192x8192' must look like MxNxK"),
    (["--gemm", "0x1x1"], "MxNxK with positive integers"),
    (["-w", "toy-8b", "--batch", "1,-4"], "--batch '1,-4' must be a comma-separated list"),
    (["--flop", "1e9"], "exactly one of"),
    (["--gemm", "8x8x8", "--batch", "4"], "--batch and --gpus sweep a --workload"),
    (["--flop", "1e9", "--bytes", "2 parsecs"], "2 parsecs"),
    (["--gemm", "8x8x8", "--compute-efficiency", "2"], "compute_efficiency(=2)"),
])
def test_bad_input_raises_input_error(toy_llm: None, args: list[str], fragment: str) -> None:
    with pytest.raises(InputError) as excinfo:
        _invoke(args)
    assert fragment in str(excinfo.value)


def _invoke(args: list[str]) -> None:
    from mlfleet.cli import cli

    cli.main(args=["infra", "roofline", "-a", "H100", *args], standalone_mode=False)


def test_unknown_accelerator_is_one_line_exit_2() -> None:
    assert_one_line_error(run_cli("infra", "roofline", "-a", "H1OO", "--gemm", "8x8x8"),
                          "unknown accelerator name 'H1OO'")


def test_missing_device_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["infra", "roofline", "--gemm", "8x8x8"]) == 2
    assert "--accelerator" in capsys.readouterr().err


def test_parsers() -> None:
    assert parse_gemm(" 2 x 3 x 4 ") == (2, 3, 4)
    assert parse_counts("1, 8,64", "--batch").tolist() == [1, 8, 64]
    with pytest.raises(InputError, match="'a'"):
        parse_counts("a", "--gpus")


def test_probe_json_runs_on_this_host(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["infra", "probe", "--rounds", "1", "--json"]) == 0
    host = json.loads(capsys.readouterr().out)["host"]
    assert host["matmul_flops_per_s"] > 1e8 and host["mem_bw_bytes_per_s"] > 1e8


def test_cpu_clock_needs_one_blas_thread(monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    assert main(["infra", "probe", "--clock", "cpu"]) == 2
    assert "OPENBLAS_NUM_THREADS=1" in capsys.readouterr().err


def test_catalog_workload_decode_sweep(capsys: pytest.CaptureFixture[str]) -> None:
    """Llama-3-8B from the catalog: decode is memory-bound at every batch up to 256, and
    batch 1 reads the bf16 weights once (8.03e9 × 2 bytes over 3.35 TB/s)."""
    assert main(["infra", "roofline", "-a", "H100", "-w", "llama3-8b", "--phase", "decode",
                 "--batch", "1,8,64,256", "--seq-len", "2048", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert [r["bound"] for r in rows] == ["memory"] * 4
    assert rows[0]["time_s"] == pytest.approx(8.03e9 * 2 / 3.35e12, rel=0.02)


def test_405b_decode_on_one_h100_reports_fits_false_and_exits_3() -> None:
    """Issue 10 item 12: the repro printed 243 ms/token for 812 GB of weights on 80 GB."""
    proc = run_cli("infra", "roofline", "-a", "H100", "-w", "llama3-405b", "--phase", "decode",
                   "--batch", "1", "--json")
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("error: does not fit") and "816 GB per GPU against 80 GB" in line
    assert "736 GB short" in line and "smallest --gpus that fits is 11" in line
    (row,) = json.loads(proc.stdout)["rows"]
    assert row["fits"] is False and row["min_gpus_to_fit"] == 11
    assert row["need_bytes"] == 405_853_388_800 * 2 + 8193 * 516_096 + 17 * 2 * 16384
    assert row["shortfall_bytes"] == row["need_bytes"] - 80e9


def test_a_sweep_that_partly_fits_warns_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["infra", "roofline", "-a", "H100", "-w", "llama3-405b", "--gpus", "1,16"]) == 0
    out, err = capsys.readouterr()
    assert "NO" in out and "yes" in out and "memory/GPU" in out
    assert err.startswith("warning: does not fit: 1 of 2 point(s)")

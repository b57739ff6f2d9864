"""Validation of the roofline: against published MFU/throughput, and against this machine.

Observed errors are stated in each docstring and in docs/validation.md ("Roofline").
(a) Published figures: the FLOP model (6N + 12·L·H·Q·T per token, PaLM appendix B) with
    the catalog/datasheet peaks reproduces the MFU papers report from their throughput.
(b) This host: the roofline of the numpy-measured ceilings predicts GEMMs and streaming
    ops; measured in a subprocess with BLAS pinned to one thread (see test docstring),
    run alone (``serial``); ops near the ridge point are printed, not asserted.
(c) GPU: not run here (no GPU in the sessions that wrote this); see docs/validation.md.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from mlfleet.catalog.types import Accelerator
from mlfleet.infra import roofline as rl
from mlfleet.infra.hostprobe import NEAR_RIDGE_BALANCE

A100_BF16_PEAK = 312e12  # NVIDIA A100 datasheet (2020), dense BF16 tensor core
TPU_V4_BF16_PEAK = 275e12  # Jouppi et al. 2023 (ISCA), TPU v4; also PaLM's MFU denominator
TPU_V4_HBM_BW = 1.2e12  # Jouppi et al. 2023, 1200 GB/s
#: Host ops not near the ridge point must be predicted within this factor (worst
#: observed 1.52, in-place add; see test_roofline_predicts_large_ops_on_this_host).
STABLE_FACTOR = 1.7
#: Large square GEMMs, the ceiling's own kernel at another size (observed within 1.09).
SQUARE_GEMM_FACTOR = 1.25


def h100_peak() -> float:
    return float(Accelerator.from_name("H100-SXM").flops_per_s("bf16"))


@dataclass(frozen=True, kw_only=True)
class Run:
    """One published training run: model shape, hardware, throughput and reported MFU."""

    name: str
    params: float
    n_layers: int
    d_model: int
    n_heads: int
    chips: int
    tokens_per_s: float
    mfu: float
    peak_flops_per_s: float
    seq_len: int = 2048
    head_dim: int | None = None
    batch_tokens: float = 2**20

    @property
    def shape(self) -> rl.TransformerShape:
        return rl.TransformerShape(params=self.params, n_layers=self.n_layers,
                                   d_model=self.d_model, n_heads=self.n_heads,
                                   head_dim=self.head_dim)

    def implied_mfu(self) -> float:
        cost = rl.llm_training_step(self.shape, tokens=self.tokens_per_s, seq_len=self.seq_len,
                                    n_gpus=self.chips)
        return float(cost.model_flop) / self.peak_flops_per_s


# MosaicML llm-foundry, scripts/train/benchmarking/README.md, "H100 80GB BF16" table, all
# rows at SeqLen 2048 (MPT shapes from scripts/train/yamls/pretrain/mpt-*.yaml). Columns:
# model, params (NumParams), layers, d_model, heads, GPUs, tokens/s, MFU, global batch tokens.
_MPT = {"70b": (64862437376, 80, 8192, 64), "30b": (29975214080, 48, 7168, 56),
        "13b": (12853954560, 40, 5120, 40), "7b": (6658859008, 32, 4096, 32),
        "3b": (2651837440, 32, 2560, 20), "1b": (1315950592, 24, 2048, 16),
        "760m": (760470528, 24, 1536, 12)}
_MPT_H100_ROWS = [
    ("70b", 64, 66523, .4257, 4194304), ("70b", 32, 28242, .3615, 2097152),
    ("30b", 32, 73860, .4392, 2752512), ("30b", 16, 36209, .4307, 983040),
    ("30b", 8, 16022, .3811, 1032192), ("13b", 64, 307209, .3986, 262144),
    ("13b", 32, 153960, .3995, 131072), ("13b", 16, 76280, .3958, 65536),
    ("13b", 8, 38336, .3979, 32768), ("7b", 8, 85144, .4644, 98304),
    ("3b", 64, 1441663, .4080, 2359296), ("3b", 32, 736701, .4170, 1179648),
    ("3b", 16, 386285, .4373, 983040), ("1b", 64, 2841754, .4085, 2621440),
    ("1b", 32, 1444183, .4152, 1310720), ("1b", 16, 736596, .4236, 655360),
    ("1b", 8, 363645, .4182, 229376), ("760m", 32, 2175091, .3757, 1572864),
    ("760m", 16, 1096819, .3789, 786432), ("760m", 8, 505177, .3490, 786432),
]


def mpt_h100_runs() -> list[Run]:
    peak = h100_peak()
    return [Run(name=f"MPT-{m} x{g} H100", params=_MPT[m][0], n_layers=_MPT[m][1],
                d_model=_MPT[m][2], n_heads=_MPT[m][3], chips=g, tokens_per_s=tps, mfu=mfu,
                peak_flops_per_s=peak, batch_tokens=batch)
            for m, g, tps, mfu, batch in _MPT_H100_ROWS]


OTHER_RUNS = [
    # Chowdhery et al. 2022 (PaLM), Table 3 and appendix B: 238.3K tokens/s on 6144 TPU v4,
    # MFU 46.2%; 118 layers, d_model 18432, 48 heads of 256 (H·Q = 12288 != d_model).
    Run(name="PaLM 540B TPUv4", params=540e9, n_layers=118, d_model=18432, n_heads=48,
        head_dim=256, chips=6144, tokens_per_s=238.3e3, mfu=0.462,
        peak_flops_per_s=TPU_V4_BF16_PEAK),
    # MosaicML llm-foundry benchmarking README, "A100 80GB" table, SeqLen 2048 rows.
    Run(name="MPT-13b x8 A100", params=12853954560, n_layers=40, d_model=5120, n_heads=40,
        chips=8, tokens_per_s=18097, mfu=0.5957, peak_flops_per_s=A100_BF16_PEAK),
    Run(name="MPT-70b x64 A100", params=64862437376, n_layers=80, d_model=8192, n_heads=64,
        chips=64, tokens_per_s=26274, mfu=0.5333, peak_flops_per_s=A100_BF16_PEAK),
]


# --------------------------------------------------------------------------- (a) published


@pytest.mark.parametrize("run", [*OTHER_RUNS, *mpt_h100_runs()], ids=lambda r: r.name)
def test_flop_model_reproduces_published_mfu(run: Run) -> None:
    """Implied MFU = (6N + 12·L·H·Q·T)·tokens/s / (chips·peak) against the published MFU.

    Observed: PaLM 540B 46.20% vs 46.2% (|Δ| < 0.01 pp); all 20 MPT H100 rows and both
    A100 rows within 0.01 pp (MosaicML uses the same FLOP count and the 989.5 TFLOP/s peak
    the catalog holds). Tolerance 0.1 percentage point.
    """
    assert run.implied_mfu() == pytest.approx(run.mfu, abs=1e-3)


def test_one_assumed_efficiency_predicts_throughput_across_configs() -> None:
    """Leave-one-out: predict each MPT H100 row's tokens/s with efficiency = median MFU of
    the other 19 rows (what `mlfleet plan` does with an assumed MFU).

    Observed: median |error| 4.5%, worst +16.6% (MPT-760m on 8 GPUs, MFU 34.9%) and
    -12.0% (MPT-7b, MFU 46.4%). Asserted: median < 10%, worst < 25%.
    """
    runs = mpt_h100_runs()
    errors = []
    for i, run in enumerate(runs):
        efficiency = float(np.median([r.mfu for j, r in enumerate(runs) if j != i]))
        result = rl.training_step(workload=run.shape, accelerator="H100-SXM", precision="bf16",
                                  global_batch_tokens=run.batch_tokens, n_gpus=run.chips,
                                  seq_len=run.seq_len, compute_efficiency=efficiency)
        assert str(result.bound) == "compute", run.name
        errors.append(float(result.tokens_per_s) / run.tokens_per_s - 1.0)
    abs_errors = np.abs(errors)
    print(f"\nleave-one-out tokens/s error: median {np.median(abs_errors):.1%}, "
          f"min {min(errors):+.1%}, max {max(errors):+.1%}")
    assert np.median(abs_errors) < 0.10
    assert abs_errors.max() < 0.25


def test_megatron_gpt3_hardware_flops_with_recomputation() -> None:
    """Narayanan et al. 2021 (SC21), Table 1: GPT-3 175B on 1024 A100s at 140 TFLOP/s per
    GPU (44.9% of 312), counted with their eq. (3), F = 96·B·s·l·h²(1 + s/6h + V/16lh),
    which includes activation recomputation.

    Take tokens/s from their number and formula, then count FLOP with ours
    (``recompute=True``: 8N + 16·L·h·s per token; N from their eq. (2)). Observed: HFU
    44.92% vs 44.87% (+0.11% relative: our count includes the recomputed logit layer).
    The same run's MFU (no recomputation) is 33.7%. Tolerance 0.5 pp.
    """
    layers, hidden, vocab, seq = 96, 12288, 51200, 2048
    lh = layers * hidden
    params = 12 * lh * hidden * (1 + 13 / (12 * hidden) + (vocab + seq) / (12 * lh))  # eq. (2)
    their_flop_per_token = 96 * lh * hidden * (1 + seq / (6 * hidden) + vocab / (16 * lh))
    tokens_per_s = 140e12 * 1024 / their_flop_per_token
    shape = rl.TransformerShape(params=params, n_layers=layers, d_model=hidden, n_heads=96)
    cost = rl.llm_training_step(shape, tokens=tokens_per_s, seq_len=seq, n_gpus=1024,
                                recompute=True)
    assert float(cost.flop) / A100_BF16_PEAK == pytest.approx(140 / 312, abs=0.005)
    assert float(cost.model_flop) / A100_BF16_PEAK == pytest.approx(0.337, abs=0.005)


@pytest.mark.parametrize(("tflops_per_gpu", "published_mfu"), [(430, 0.43), (400, 0.41),
                                                               (380, 0.38)])
def test_llama3_mfu_uses_the_catalog_h100_peak(tflops_per_gpu: float,
                                               published_mfu: float) -> None:
    """Dubey et al. 2024 (Llama 3), Table 4: 430/400/380 TFLOP/s per H100 = 43/41/38% MFU.

    Observed with the catalog's 989.5 TFLOP/s: 43.5%, 40.4%, 38.4% (the paper rounds to
    whole percent; |Δ| <= 0.6 pp). Tolerance 1 pp.
    """
    assert tflops_per_gpu * 1e12 / h100_peak() == pytest.approx(published_mfu, abs=0.01)


def test_palm_decode_latency_is_above_the_memory_roofline() -> None:
    """Pope et al. 2022 (MLSys 2023): PaLM 540B generates at 29 ms/token at low batch with
    int8 weights and 2048-token context on 64 TPU v4 chips.

    The roofline is a lower bound: reading 540 GB of weights plus the multi-query KV cache
    over 64 x 1.2 TB/s takes 7.0 ms at batch 1 to 64, memory-bound. Observed: the published
    latency is 4.1x the bound; the rest is the per-layer all-reduces and overheads the
    paper analyses, which this roofline leaves to the comm chapter and `overhead_s`.
    """
    palm = rl.TransformerShape(params=540e9, n_layers=118, d_model=18432, n_heads=48,
                               head_dim=256, n_kv_heads=1)
    tpu = rl.Device(name="TPUv4/int8", peak_flops_per_s=TPU_V4_BF16_PEAK,
                    mem_bw_bytes_per_s=TPU_V4_HBM_BW, bytes_per_element=1.0)
    r = rl.predict(rl.llm_decode(palm, batch=np.array([1, 64]), context_len=2048, n_gpus=64,
                                 bytes_per_param=1.0, kv_bytes_per_element=2.0), tpu)
    assert list(r.bound) == ["memory", "memory"]
    assert np.all(r.time_s < 29e-3)
    assert 29e-3 / r.time_s[0] == pytest.approx(4.1, abs=0.1)


# --------------------------------------------------------------------------- (b) this host


@pytest.fixture(scope="module")
def host_report() -> dict[str, Any]:
    """`mlfleet infra probe --validate --clock cpu --json` with BLAS pinned to one thread.

    This host is a 2-core VM shared with other jobs (load average up to 9 while this was
    written). A 2-thread BLAS GEMM then waits at every barrier for a descheduled sibling
    and its wall times scatter by up to 5x; even one thread's wall time mostly measures
    how long the scheduler kept it off the core. The process CPU clock does not charge
    that time to the op; contention for caches and DRAM bandwidth still shows, which is
    why the tests that use this fixture are ``serial`` (run alone after the parallel phase).
    Six rounds, not four: a clean-clone CI run once saw the 32 MiB sum 45 % slow in its best
    of four rounds (DRAM bandwidth taken by another job for the whole window); every op's
    time is the best of its rounds, so more rounds only narrow that window.
    """
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    entry = "import sys; from mlfleet.cli import main; sys.exit(main())"
    args = ["infra", "probe", "--validate", "--rounds", "6", "--clock", "cpu", "--json"]
    proc = subprocess.run([sys.executable, "-c", entry, *args], capture_output=True, text=True,
                          env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    report: dict[str, Any] = json.loads(proc.stdout)
    _print_report(report)
    return report


def _near_ridge(op: dict[str, Any]) -> bool:
    return bool(op["balance"] >= NEAR_RIDGE_BALANCE)


def _print_report(report: dict[str, Any]) -> None:
    host = report["host"]
    print(f"\nhost {host['cpu_model']}, {host['threads']} thread(s): "
          f"{host['matmul_flops_per_s'] / 1e9:.1f} GFLOP/s, "
          f"{host['single_thread_mem_bw_bytes_per_s'] / 1e9:.1f} GB/s (STREAM add)")
    print(f"  {'op':28s} {'bound':8s} {'balance':>7s} {'predicted':>12s} {'measured':>12s}"
          "  error")
    large = {op["name"] for op in report["ops"]}
    for op in [*report["ops"], *report["small_gemms"]]:
        near = op["name"] in large and _near_ridge(op)
        mark = "  near ridge: reported, not asserted" if near else ""
        print(f"  {op['name']:28s} {op['bound']:8s} {op['balance']:7.2f} "
              f"{op['predicted_s'] * 1e3:9.4f} ms {op['measured_s'] * 1e3:9.4f} ms"
              f"  {op['rel_error']:+.0%}{mark}")
    cal = report["calibration"]
    print(f"  calibrated: efficiency {cal['efficiency']:.2f}, overhead "
          f"{cal['overhead_s'] * 1e6:.2f} us/call, "
          f"median |error| {cal['median_abs_rel_error']:.0%}")


#: Expected measured/predicted ratio of ops whose bias has a known cause. In-place add
#: (``y += x``) moves 3 streams, while the bandwidth ceiling is STREAM Add ``c = a + b``
#: counted, as STREAM counts it, as 3 streams although the store to ``c`` first reads its
#: line (write-allocate): 4 streams move. So in-place add runs 4/3 of the ceiling's speed
#: (observed +34..+57% over 13 runs, +73% once in a fresh-clone CI run right after the
#: parallel phase's checkpoint writes). Its factor is taken after that known bias.
KNOWN_BIAS = {"add-inplace": 4.0 / 3.0}


def _factor(op: dict[str, Any]) -> float:
    """How far off the prediction is, as a factor >= 1 either way, after a known bias."""
    bias = KNOWN_BIAS.get(op["name"].split()[0], 1.0)
    return float(math.exp(abs(math.log1p(op["rel_error"]) - math.log(bias))))


@pytest.mark.slow
@pytest.mark.serial
def test_roofline_predicts_large_ops_on_this_host(host_report: dict[str, Any]) -> None:
    """GEMMs (256³ to 1024³, skinny 2048x64x2048 and the like, a GEMV) and streaming numpy
    ops (copy, scale, sum, in-place add over 32 MiB arrays) against the roofline of the
    ceilings measured in the same interleaved rounds (efficiency 1, no overhead).

    Observed 2026-12-06, AMD EPYC 2-vCPU KVM guest (~104 GFLOP/s, ~33 GB/s), one BLAS
    thread, CPU clock, seven runs at load average 1.1-5.4 from other jobs
    (docs/validation.md has the table): GEMM 512³ and 1024³ -3..-8%; 256³
    -23..-26%; skinny GEMMs -20..-33%; GEMV -18..-23%; copy -14..-32%, scale -11..+10%,
    sum -23..-29% (one read stream does not saturate DRAM), in-place add +39..+52% (it
    avoids the write-allocate traffic the STREAM Add ceiling pays); median |error| 23-28%.
    The 16-row GEMM sits near the ridge point (balance 0.39-0.41) and runs at -59..-62%:
    it is printed, not asserted.

    Asserted, every op that is not near the ridge: within a factor of STABLE_FACTOR (1.7;
    worst observed 1.52), median |error| < 35%, and the large square GEMMs, where the
    roofline's compute ceiling is the very kernel measured, within a factor of 1.25. A
    model off by 2x (FLOP or bytes counted twice, a ceiling in the wrong unit) fails the
    GEMM bound outright, and fails STABLE_FACTOR on every op it pushes away from its bias.
    """
    stable = [op for op in host_report["ops"] if not _near_ridge(op)]
    assert len(stable) >= 10, [op["name"] for op in host_report["ops"]]
    off = {op["name"]: f"{op['rel_error']:+.0%}" for op in stable
           if _factor(op) >= STABLE_FACTOR}
    assert not off, off
    assert np.median([abs(op["rel_error"]) for op in stable]) < 0.35
    for name in ("gemm 512x512x512", "gemm 1024x1024x1024"):
        op = next(op for op in stable if op["name"] == name)
        assert _factor(op) < SQUARE_GEMM_FACTOR, (name, op["rel_error"])
    bounds = {op["name"]: op["bound"] for op in host_report["ops"]}
    assert bounds["gemm 1024x1024x1024"] == "compute"
    assert bounds["gemm 1x4096x4096"] == "memory"


@pytest.mark.slow
@pytest.mark.serial
def test_calibrated_overhead_makes_small_gemms_overhead_bound(
        host_report: dict[str, Any]) -> None:
    """Square GEMMs of 2..512 fitted with `calibrate`: numpy's per-call dispatch cost makes
    tiny GEMMs overhead-bound, which the uncalibrated roofline misses by ~1000x.

    Observed 2026-12-06 (seven runs): overhead 0.92-0.96 µs/call, efficiency 0.81-0.91,
    median |error| 3-8%; 2³..32³ are 'overhead', 64³ and up 'compute'.
    Asserted: overhead within 0.1-100 µs, 2³ overhead-bound, 512³ compute-bound,
    calibrated median |error| < 35%.
    """
    cal = host_report["calibration"]
    assert 1e-7 < cal["overhead_s"] < 1e-4
    assert cal["median_abs_rel_error"] < 0.35
    small = {op["name"]: op for op in host_report["small_gemms"]}
    assert small["small gemm 2x2x2"]["bound"] == "overhead"
    assert small["small gemm 512x512x512"]["bound"] == "compute"
    uncalibrated_s = 2 * 2**3 / host_report["host"]["matmul_flops_per_s"]
    assert small["small gemm 2x2x2"]["measured_s"] > 100 * uncalibrated_s

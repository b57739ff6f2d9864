"""Recommendation placements: the bound table by hand, the splits' pipeline arithmetic, and
Meta's published model scale against GPU memory."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.catalog.types import Accelerator
from mlfleet.errors import InputError
from mlfleet.infra.cases import recsys_hybrid as rh
from mlfleet.infra.cases.hourly_cost import device_hour

SHAPE = rh.RecsysShape.from_workload("DLRM-DCNv2")
CPU_BW, CPU_BF16 = 307.2e9, 114.7e12     # host-cpu: 8 x DDR5-4800, AMX at 2.0 GHz
H100_BW, H100_BF16 = 3.35e12, 989.5e12


def test_shape_from_the_catalog() -> None:
    # MLPerf DLRM-DCNv2: 26 tables x 128, 214 lookups/sample, 204,184,588 rows in fp32
    assert (SHAPE.tables, SHAPE.embedding_dim, SHAPE.lookups_per_sample) == (26, 128, 214)
    assert SHAPE.embedding_element_bytes == 4.0
    assert SHAPE.dense_params == 16_044_545          # the catalog note's dense count
    assert SHAPE.pooled_bytes_per_sample == 26 * 128 * 4
    assert SHAPE.input_bytes_per_sample == 214 * 8 + 13 * 4


def test_bound_table_by_hand() -> None:
    rows = {(r.part, r.device): r for r in rh.part_table(SHAPE, cpu="host-cpu", gpu="H100",
                                                          batch=512, precision="bf16")}
    emb_bytes = 512 * (214 + 26) * 128 * 4                     # 62,914,560 B
    cpu_emb = rows[("embeddings", "host-cpu/fp32")]
    assert cpu_emb.time_s == pytest.approx(emb_bytes / CPU_BW, rel=1e-12)   # 204.8 us
    assert cpu_emb.arithmetic_intensity == pytest.approx(512 * 214 * 128 / emb_bytes)
    assert (cpu_emb.fits, cpu_emb.bound) == (True, "memory bandwidth")
    gpu_emb = rows[("embeddings", "H100-SXM/fp32")]
    assert (gpu_emb.fits, gpu_emb.devices_to_fit, gpu_emb.bound) == (False, 2, "memory capacity")
    cpu_mlp = rows[("dense MLP", "host-cpu/bf16")]
    assert cpu_mlp.time_s == pytest.approx(512 * 32_084_992 / CPU_BF16, rel=1e-12)
    assert cpu_mlp.bound == "compute" and cpu_mlp.need_bytes == 16_044_545 * 2
    gpu_mlp = rows[("dense MLP", "H100-SXM/bf16")]
    assert gpu_mlp.time_s == pytest.approx(512 * 32_084_992 / H100_BF16, rel=1e-12)


def test_dense_mlp_turns_memory_bound_at_batch_one() -> None:
    rows = rh.part_table(SHAPE, cpu="host-cpu", gpu="H100", batch=1, precision="bf16")
    # one sample: 32 MFLOP against 32 MB of weights = 1 FLOP/byte, below every ridge
    assert {r.bound for r in rows if r.part == "dense MLP"} == {"memory bandwidth"}


def test_cpu_only_and_hybrid_pipelines_by_hand() -> None:
    emb = 512 * 240 * 128 * 4 / CPU_BW
    mlp_cpu = 512 * 32_084_992 / CPU_BF16
    cpu_only = rh.split("cpu-only", SHAPE)
    assert cpu_only.samples_per_s == pytest.approx(512 / (emb + mlp_cpu), rel=1e-12)
    assert (cpu_only.cpu_sockets, cpu_only.gpus) == (1, 0)
    hybrid = rh.split("hybrid", SHAPE)
    pcie = 512 * (26 * 128 * 4 + 13 * 4) / 63e9
    assert [s.time_s for s in hybrid.stages] == pytest.approx(
        [emb, pcie, 512 * 32_084_992 / H100_BF16], rel=1e-12)
    assert hybrid.bottleneck == "cpu" and hybrid.samples_per_s == pytest.approx(512 / emb)
    cost = device_hour("host-cpu").usd_per_h + device_hour("H100").usd_per_h
    assert hybrid.usd_per_h == pytest.approx(cost)
    assert hybrid.usd_per_million_samples == pytest.approx(cost / (512 / emb * 3600) * 1e6)


def test_gpu_only_shards_the_tables_over_two_h100() -> None:
    result = rh.split("gpu-only", SHAPE)
    assert result.gpus == 2 == math.ceil((104_542_509_056 + 16_044_545 * 4) / 80e9)


def test_meta_production_scale_cannot_live_in_gpu_memory() -> None:
    """Mudigere et al. (ISCA'22) train 12-trillion-parameter DLRMs on 128 GPUs (16 ZionEX
    nodes of 8 A100) using HBM + DDR + SSD. Even at 2 bytes per parameter the tables need
    24 TB: 300 A100-80GB or 600 A100-40GB, 2.3-4.7x the 128 GPUs they ran on, so the tables
    must spill to host DRAM and SSD - the hierarchy the paper describes."""
    need = 12e12 * 2
    assert rh.devices_to_hold(need, "A100-80GB") == 300
    assert rh.devices_to_hold(need, "A100-40GB") == 600
    per_gpu = need / 128
    assert per_gpu / Accelerator.from_name("A100-80GB").hbm_bytes == pytest.approx(2.34375)
    # while 24 host sockets of 1 TB DRAM each hold them
    assert rh.devices_to_hold(need, "host-cpu") == 24


@settings(max_examples=40, deadline=None)
@given(batch=st.integers(1, 8192), split=st.sampled_from(rh.SPLITS))
def test_pipeline_invariants(batch: int, split: str) -> None:
    result = rh.split(split, SHAPE, batch=batch)
    busiest = batch / result.samples_per_s
    assert result.latency_s >= busiest * (1 - 1e-12)      # one batch cannot beat its pipeline
    assert result.usd_per_million_samples > 0
    assert all(s.time_s >= 0 for s in result.stages)


def test_bad_inputs() -> None:
    with pytest.raises(InputError, match="not a recommendation model"):
        rh.RecsysShape.from_workload("Llama-3-8B")
    with pytest.raises(InputError, match="split"):
        rh.split("tpu-only", SHAPE)
    with pytest.raises(InputError, match="do not fit"):
        rh.split("cpu-only", SHAPE, cpu="L4")

"""The chapter's model-specific tables, checked against the models they claim to come from.

Every computed column is compared with an independent computation: the roofline
evaluated batch by batch (not the closed-form crossover the table uses), a Monte-Carlo
simulation of static batching (not the harmonic-number formula), the LLM step model,
or a count done by hand from the catalog entry.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlfleet.catalog.types import Workload
from mlfleet.infra import roofline as rl
from mlfleet.serving.models import tables
from mlfleet.serving.models.llm_step import llm_step_model

DEVICE = rl.Device.from_accelerator("H100", "bf16")


@pytest.fixture(scope="module")
def rows() -> dict[str, tables.Characteristics]:
    return {r.workload: r for r in tables.characteristics()}


def first_compute_bound_batch(*, flop: float, weight_bytes: float, gathered_bytes: float,
                              max_batch: int = 4096) -> int | None:
    """The roofline's own verdict, batch by batch: the first batch it calls compute-bound."""
    batches = np.arange(1, max_batch + 1, dtype=np.float64)
    r = rl.step_time(flop=flop * batches, mem_bytes=weight_bytes + gathered_bytes * batches,
                     peak_flops_per_s=DEVICE.peak_flops_per_s,
                     mem_bw_bytes_per_s=DEVICE.mem_bw_bytes_per_s)
    hits = np.flatnonzero(r.bound == "compute")
    return int(batches[hits[0]]) if hits.size else None


def test_every_family_has_a_row(rows: dict[str, tables.Characteristics]) -> None:
    assert {r.family for r in rows.values()} == {"recsys", "vision", "llm", "speech", "gnn"}


@pytest.mark.parametrize("name", ["ResNet-50", "ViT-L-16"])
def test_vision_rows_say_what_the_roofline_says(rows: dict[str, tables.Characteristics],
                                                name: str) -> None:
    """At batch 1 a vision model streams its weights for one image: memory-bound, whatever
    the outline's "compute-bound" says; the table gives the batch where that changes."""
    w = Workload.from_name(name)
    weight_bytes = w.params * DEVICE.bytes_per_element
    expected = first_compute_bound_batch(flop=w.fwd_flop, weight_bytes=weight_bytes,
                                         gathered_bytes=0.0)
    row = rows[name]
    batch1 = rl.step_time(flop=w.fwd_flop, mem_bytes=weight_bytes,
                          peak_flops_per_s=DEVICE.peak_flops_per_s,
                          mem_bw_bytes_per_s=DEVICE.mem_bw_bytes_per_s)
    assert row.bound_batch1 == str(batch1.bound) == "memory"
    assert row.latency_batch1_s == pytest.approx(float(batch1.time_s), rel=1e-9)
    assert row.compute_bound_from_batch == expected == 2
    assert row.computed_bottleneck == "memory (dense weights) at batch 1; compute-bound from batch 2"
    assert row.spec_bottleneck == "Compute-bound"  # the outline's cell, shown beside


def test_recsys_and_gnn_turning_points_match_the_roofline(
        rows: dict[str, tables.Characteristics]) -> None:
    dlrm = Workload.from_name("DLRM-DCNv2")
    # DLRM-DCNv2: 214 lookups × 128 dims × 2 B = 54,784 B of embedding rows per sample
    assert "54.8 kB" in rows["DLRM-DCNv2"].key_quantity
    assert rows["DLRM-DCNv2"].compute_bound_from_batch == first_compute_bound_batch(
        flop=dlrm.fwd_flop, weight_bytes=dlrm.active_params * 2.0, gathered_bytes=54_784.0)
    # GraphSAGE: F/G ≈ 58 FLOP/B < ridge 295: more samples never make it compute-bound
    gnn = rows["GraphSAGE-products"]
    assert gnn.intensity_flop_per_byte < DEVICE.ridge_point_flop_per_byte
    assert gnn.compute_bound_from_batch is None
    assert gnn.computed_bottleneck.endswith("memory-bound at any batch")
    assert "916 sampled nodes" in gnn.key_quantity  # 1 + 15 + 15·10 + 15·10·5


def test_llm_rows_come_from_the_step_model(rows: dict[str, tables.Characteristics]) -> None:
    """Decode at batch 1 reads every weight once for ~2 FLOP per parameter, i.e. ~1 FLOP
    per bf16 byte (Kaplan et al. 2020: 2N FLOP per token), far below the ridge."""
    for name, tp in (("Llama-3-8B", 1), ("Llama-3-70B", 2)):  # 141 GB of weights: 2 × 80 GB
        row = rows[name]
        model = llm_step_model(workload=name, accelerator="H100", precision="bf16", tp=tp)
        decode = model.decode(batch=1, context_len=tables.LLM_PROMPT_TOKENS)
        assert row.tp == tp
        assert row.bound_batch1 == str(decode.bound) == "memory"
        assert row.intensity_flop_per_byte == pytest.approx(1.0, rel=0.05)
        assert row.latency_batch1_s == pytest.approx(
            float(model.prefill(batch=1, prompt_len=tables.LLM_PROMPT_TOKENS).time_s), rel=1e-9)


def test_static_batch_waste_matches_a_simulation() -> None:
    """1 - 1/H_B against static batches of exponential output lengths drawn at random."""
    rng = np.random.default_rng(20240601)
    for batch in (2, 8, tables.STATIC_BATCH):
        lengths = rng.exponential(100.0, size=(20_000, batch))
        simulated = 1.0 - lengths.sum() / (batch * lengths.max(axis=1).sum())
        assert tables.static_batch_waste(batch) == pytest.approx(simulated, abs=0.01)
    llm = next(r for r in tables.batching() if r.family == "llm")
    assert f"{tables.static_batch_waste(tables.STATIC_BATCH):.0%}" == "79%"
    assert "79%" in llm.computed_reason


@given(flop=st.floats(1e3, 1e12), weight_bytes=st.floats(1e3, 1e11),
       gathered=st.floats(0, 1e7), ridge=st.floats(1, 1e3))
def test_compute_bound_batch_is_the_first_batch_past_the_ridge(
        flop: float, weight_bytes: float, gathered: float, ridge: float) -> None:
    turn = tables.compute_bound_batch(flop_per_sample=flop, weight_bytes=weight_bytes,
                                      gathered_bytes_per_sample=gathered,
                                      ridge_flop_per_byte=ridge)

    def intensity(batch: int) -> float:
        return batch * flop / (weight_bytes + batch * gathered)

    if turn is None:
        assert flop <= ridge * gathered
    else:
        assert intensity(turn) >= ridge * (1 - 1e-9)
        assert turn == 1 or intensity(turn - 1) < ridge * (1 + 1e-9)
        assert math.isfinite(turn)

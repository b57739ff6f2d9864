"""The LLM step model: agreement with the roofline, TP/PP terms, fast path, calibration."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.comm.cost.allreduce import recursive_doubling_allreduce_time, ring_allreduce_time
from mlfleet.errors import ServingInputError
from mlfleet.infra import roofline as rl
from mlfleet.serving.models.llm_step import (
    LlmStepModel,
    bubble_fraction,
    calibrate_step,
    fit_overheads,
    llm_step_model,
    prefill_pairs,
)

LLAMA3_8B = rl.TransformerShape(params=8.03e9, n_layers=32, d_model=4096, n_heads=32,
                                n_kv_heads=8)  # Dubey et al. 2024, Table 3
H100 = rl.Device(name="H100/bf16", peak_flops_per_s=989.5e12, mem_bw_bytes_per_s=3.35e12)


def model(**overrides: Any) -> LlmStepModel:
    """Builder: Llama-3-8B on an H100-like device, NVLink4-like TP link, with overrides."""
    args: dict[str, Any] = {"shape": LLAMA3_8B, "device": H100, "tp_alpha_s": 6e-7,
                            "tp_bw_bytes_per_s": 450e9, "pp_alpha_s": 6e-7,
                            "pp_bw_bytes_per_s": 450e9}
    return LlmStepModel(**{**args, **overrides})


# --------------------------------------------------------------------------- the roofline


def test_tp1_decode_and_prefill_equal_the_roofline_costs() -> None:
    m = model()
    batch, ctx = np.array([1.0, 8.0, 64.0]), 2048.0
    ours = m.decode(batch=batch, context_len=ctx)
    ref = rl.llm_decode(LLAMA3_8B, batch=batch, context_len=ctx)
    np.testing.assert_allclose(ours.flop_per_gpu, ref.flop, rtol=1e-12)
    np.testing.assert_allclose(ours.mem_bytes_per_gpu, ref.mem_bytes, rtol=1e-12)
    roof = rl.predict(ref, H100)
    np.testing.assert_allclose(ours.time_s, roof.time_s, rtol=1e-12)
    pre = m.prefill(batch=2, prompt_len=512)
    ref_p = rl.llm_prefill(LLAMA3_8B, batch=2, prompt_len=512)
    assert float(pre.flop_per_gpu) == pytest.approx(float(ref_p.flop), rel=1e-12)
    assert float(pre.mem_bytes_per_gpu) == pytest.approx(float(ref_p.mem_bytes), rel=1e-12)


def test_decode_is_memory_bound_and_flat_in_batch() -> None:
    """Pope et al. 2022: at small batch decode reads all weights; 8 sequences cost
    barely more than 1."""
    r = model().decode(batch=np.array([1, 8]), context_len=1024)
    assert list(r.bound) == ["memory", "memory"]
    assert float(r.time_s[1] / r.time_s[0]) < 1.1
    assert float(r.memory_s[0]) == pytest.approx(8.03e9 * 2 / 3.35e12, rel=0.01)


def test_tp_adds_two_allreduces_per_layer_from_the_comm_models() -> None:
    m = model(tp=8)
    t = 16.0  # tokens
    size = t * 4096 * 2.0
    kw = {"alpha_s": 6e-7, "bw_bytes_per_s": 450e9}
    one = min(float(ring_allreduce_time(8, size, **kw)),
              float(recursive_doubling_allreduce_time(8, size, **kw)))
    r = m.decode(batch=t, context_len=100)
    assert float(r.comm_s) == pytest.approx(2 * 32 * one, rel=1e-12)
    for s in (0.0, 1e3, 1e5, 1e7):  # the affine coefficients reproduce the comm models
        assert float(m.allreduce_s(s)) == pytest.approx(min(
            float(ring_allreduce_time(8, s, **kw)),
            float(recursive_doubling_allreduce_time(8, s, **kw))), rel=1e-12, abs=1e-18)


def test_kv_heads_are_split_then_replicated() -> None:
    assert model(tp=4).kv_heads_per_gpu == 2
    assert model(tp=8).kv_heads_per_gpu == 1
    assert model(tp=16).kv_heads_per_gpu == 1  # 8 KV heads over 16 ranks: replicated
    assert model(tp=16).kv_bytes_per_token_per_gpu == model(tp=8).kv_bytes_per_token_per_gpu


@settings(max_examples=50, deadline=None)
@given(tp=st.sampled_from([2, 4, 8, 16, 32]), batch=st.integers(1, 512),
       ctx=st.integers(0, 32768), launch=st.floats(0, 2e-5))
def test_tp_decode_time_is_at_least_ideal_over_tp(tp: int, batch: int, ctx: int,
                                                  launch: float) -> None:
    one = float(model().decode(batch=batch, context_len=ctx).time_s)
    sharded = model(tp=tp, allreduce_launch_s=launch).decode(batch=batch, context_len=ctx)
    assert float(sharded.time_s) >= one / tp * (1 - 1e-12)
    assert float(sharded.comm_s) > 0


@settings(max_examples=50, deadline=None)
@given(pp=st.integers(1, 32), m=st.integers(1, 64))
def test_bubble_fraction_bounds(pp: int, m: int) -> None:
    b = float(bubble_fraction(pp, m))
    assert 0.0 <= b <= (pp - 1) / pp + 1e-15
    assert b >= float(bubble_fraction(pp, m + 1))  # more micro-batches, smaller bubble
    assert (b == 0.0) == (pp == 1)


@settings(max_examples=40, deadline=None)
@given(pp=st.sampled_from([1, 2, 4, 8]), m=st.sampled_from([1, 2, 4, 8]),
       batch=st.integers(8, 256))
def test_pipeline_step_time_bounds(pp: int, m: int, batch: int) -> None:
    """With pp stages the step is no faster than the single-GPU step / pp (the work is
    split pp ways) and the bubble share of its stage passes is (pp-1)/(m+pp-1)."""
    flat = float(model().prefill(batch=batch, prompt_len=128).time_s)
    r = model(pp=pp).prefill(batch=batch, prompt_len=128, microbatches=m)
    assert float(r.time_s) >= flat / pp * (1 - 1e-12)
    assert float(r.bubble_fraction) == pytest.approx((pp - 1) / (m + pp - 1))


def test_micro_batching_decode_rereads_weights() -> None:
    """Memory-bound decode gets slower with micro-batches: each re-reads the stage weights."""
    m = model(pp=4)
    one = float(m.decode(batch=32, context_len=512, microbatches=1).time_s)
    four = float(m.decode(batch=32, context_len=512, microbatches=4).time_s)
    assert four > one


# --------------------------------------------------------------------------- fast path


@pytest.mark.parametrize("tp,pp", [(1, 1), (2, 1), (8, 1), (4, 2), (1, 4)])
def test_fast_scalar_path_equals_vectorised(tp: int, pp: int) -> None:
    m = model(tp=tp, pp=pp, compute_efficiency=0.6, memory_efficiency=0.7, overhead_s=1e-3,
              overhead_per_seq_s=1e-5, allreduce_launch_s=5e-6)
    cases = [(64, 64 * 2048, 0, None, 0), (0, 0, 4096, None, 0), (17, 9000, 512,
             float(prefill_pairs(512, 100)), 100)]
    for d, ctx, p, pairs, prefix in cases:
        fast = m.iteration_time_s(d, ctx, prefill_tokens=p, prefill_pairs=pairs,
                                  prefill_prefix_tokens=prefix)
        slow = float(m.iteration(decode_seqs=d, decode_context_tokens=ctx, prefill_tokens=p,
                                 prefill_pairs=pairs, prefill_prefix_tokens=prefix).time_s)
        assert fast == pytest.approx(slow, rel=1e-12)
    assert m.decode_time_s(8, 8 * 100) == pytest.approx(
        float(m.decode(batch=8, context_len=100).time_s), rel=1e-12)
    assert m.prefill_time_s(300) == pytest.approx(
        float(m.prefill(batch=1, prompt_len=300).time_s), rel=1e-12)


def test_prefill_pairs_of_a_chunk() -> None:
    assert float(prefill_pairs(4, 0)) == 10  # 1 + 2 + 3 + 4
    assert float(prefill_pairs(4, 6)) == 34  # each of 4 also attends to 6 cached tokens


# --------------------------------------------------------------------------- calibration


def test_calibration_recovers_synthetic_efficiency_and_overheads() -> None:
    truth = model(tp=2, compute_efficiency=0.55, memory_efficiency=0.55, overhead_s=2e-3,
                  overhead_per_seq_s=3e-5)
    # vary batch and context: with one context the KV term is collinear with per-token cost
    batch, ctx = (g.ravel() for g in np.meshgrid([1, 8, 64, 256], [256, 4096]))
    measured = truth.decode(batch=batch, context_len=ctx).time_s
    fitted, fit = calibrate_step(model(tp=2), measured_s=measured, decode_seqs=batch,
                                 decode_context_tokens=batch * ctx)
    assert fit.efficiency == pytest.approx(0.55, rel=1e-6)
    assert fit.overhead_s == pytest.approx(2e-3, rel=1e-5)
    assert fit.overhead_per_seq_s == pytest.approx(3e-5, rel=1e-5)
    assert fit.median_abs_rel_error < 1e-9
    np.testing.assert_allclose(fitted.decode(batch=batch, context_len=ctx).time_s, measured,
                               rtol=1e-9)


def test_calibration_caps_efficiency_at_one() -> None:
    fit = fit_overheads(measured_s=[1.0, 2.0], busy_s=[1.5, 2.5], steps=1, seqs=[1, 2])
    assert fit.efficiency == 1.0


def test_fit_needs_two_points() -> None:
    with pytest.raises(ServingInputError, match=">= 2 measurements"):
        fit_overheads(measured_s=[1.0], busy_s=[0.5])


# --------------------------------------------------------------------------- catalog & errors


def test_catalog_model_uses_the_scaleup_link() -> None:
    m = llm_step_model(workload="Llama-3-8B", accelerator="H100", tp=2)
    assert m.tp_bw_bytes_per_s == 450e9 and m.tp_alpha_s == pytest.approx(6e-7)
    assert m.device.peak_flops_per_s == pytest.approx(989.5e12, rel=0.01)
    fp8 = llm_step_model(workload="Llama-3-8B", accelerator="H100", precision="fp8")
    assert fp8.kv_bytes_per_element == 1.0 and fp8.act_bytes_per_element == 2.0


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"tp": 3}, "tp(=3) must divide the 32 attention heads"),
    ({"pp": 40}, "pp(=40) must be <= the 32 layers"),
    ({"compute_efficiency": 1.5}, "compute_efficiency(=1.5)"),
    ({"overhead_s": -1.0}, "overhead_s(=-1)"),
])
def test_bad_config_raises_with_the_value(kwargs: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ServingInputError) as info:
        model(**kwargs)
    assert fragment in str(info.value)


def test_bad_step_inputs() -> None:
    with pytest.raises(ServingInputError, match="at least one token"):
        model().iteration()
    with pytest.raises(ServingInputError, match=r"batch\(=0\)"):
        model().decode(batch=0, context_len=10)
    with pytest.raises(ServingInputError, match="token workload"):
        llm_step_model(workload="ResNet-50", accelerator="H100")
    with pytest.raises(ServingInputError, match=r"precision\(='fp4'\) is unknown; known: fp32"):
        llm_step_model(workload="Llama-3-8B", accelerator="H100", precision="fp4")


def test_rows_are_plain_and_complete() -> None:
    rows = dataclasses.replace(model(), overhead_s=1e-3).decode(batch=[1, 2],
                                                                context_len=10).rows()
    assert len(rows) == 2 and rows[0]["bound"] in ("memory", "overhead")
    assert isinstance(rows[0]["time_s"], float) and rows[1]["tokens_per_s"] > 0

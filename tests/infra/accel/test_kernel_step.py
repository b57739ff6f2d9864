"""The transformer step built from kernels (mlfleet.infra.accel.step)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.errors import InputError
from mlfleet.infra import roofline as rl
from mlfleet.infra.accel import flops
from mlfleet.infra.accel.step import transformer_step
from mlfleet.infra.accel.types import (
    KERNEL_CLASSES,
    KernelClassParams,
    KernelModel,
    LaunchParams,
)

EXACT = 1e-9
LLAMA = rl.TransformerShape.from_workload("Llama-3-8B")
LEGACY = dataclasses.replace(LLAMA, vocab=None)  # embeddings folded in: the legacy count


def kernel_model(**overrides: Any) -> KernelModel:
    """An H100-like kernel model; ``overrides`` set class fields (compute_fraction,
    memory_fraction, fixed_s) for every class, or launch fields."""
    cls = {k: overrides.pop(k) for k in ("compute_fraction", "memory_fraction", "fixed_s")
           if k in overrides}
    launch = {"min_kernel_s": 2e-6, "graph_gap_s": 1e-6, "graph_launch_s": 10e-6,
              "eager_issue_s": 8e-6, "framework_op_s": 20e-6, "sync_s": 20e-6, **overrides}
    params = KernelClassParams(**{"compute_fraction": 0.7, "memory_fraction": 0.8,
                                  "fixed_s": 2e-6, **cls})
    return KernelModel(accelerator="H100", precision="bf16", peak_flops_per_s=989e12,
                       mem_bw_bytes_per_s=3.35e12, classes={c: params for c in KERNEL_CLASSES},
                       launch=LaunchParams(**launch))


IDEAL = kernel_model(compute_fraction=1.0, memory_fraction=1.0, fixed_s=0.0, min_kernel_s=0.0,
                     graph_gap_s=0.0, graph_launch_s=0.0, eager_issue_s=0.0,
                     framework_op_s=0.0, sync_s=0.0)


def test_decode_in_the_limit_is_the_legacy_roofline_plus_activations() -> None:
    """Exact reference: full fractions, no floors or host. Σ FLOP and the weight + KV bytes
    are llm_decode's; decode is memory-bound in every kernel, so the step time is the
    legacy memory time plus the activation traffic the roofline leaves out."""
    b, ctx = np.array([1.0, 4.0, 16.0]), 1024.0
    step = transformer_step(IDEAL, LEGACY, phase="decode", batch=b, context_len=ctx,
                            engine="graph")
    legacy = rl.llm_decode(LEGACY, batch=b, context_len=ctx)
    np.testing.assert_allclose(step.flop, legacy.flop, rtol=EXACT)
    np.testing.assert_allclose(step.mem_bytes - step.activation_bytes, legacy.mem_bytes,
                               rtol=EXACT)
    np.testing.assert_allclose(step.time_s, (legacy.mem_bytes + step.activation_bytes)
                               / IDEAL.mem_bw_bytes_per_s, rtol=EXACT)
    assert np.all(step.bound == "memory")


def test_prefill_in_the_limit_has_the_legacy_compute_time() -> None:
    """Σ over kernels of FLOP/peak is llm_prefill's compute time; the step time lies between
    the legacy roofline's and the sum of both terms."""
    n = np.array([256.0, 2048.0])
    step = transformer_step(IDEAL, LEGACY, phase="prefill", batch=2, prompt_len=n,
                            engine="graph")
    legacy = rl.llm_prefill(LEGACY, batch=2, prompt_len=n)
    np.testing.assert_allclose(step.compute_s, legacy.flop / IDEAL.peak_flops_per_s, rtol=EXACT)
    np.testing.assert_allclose(step.mem_bytes - step.activation_bytes, legacy.mem_bytes,
                               rtol=EXACT)
    assert np.all(step.time_s >= np.maximum(step.compute_s, step.memory_s) * (1 - EXACT))
    assert np.all(step.time_s <= (step.compute_s + step.memory_s) * (1 + EXACT))


@pytest.mark.parametrize("phase", ["prefill", "decode"])
def test_kernel_flop_follow_the_serving_convention(phase: str) -> None:
    """With a vocab: embeddings are gathers, the LM head runs once per sequence."""
    b, n = np.array([1.0, 32.0]), 512.0
    step = transformer_step(IDEAL, LLAMA, phase=phase, batch=b, engine="graph", prompt_len=n,
                            context_len=n)
    np.testing.assert_allclose(step.flop, flops.step_flop(LLAMA, mode=phase, batch=b, length=n),
                               rtol=EXACT)


def test_decode_reads_the_looked_up_rows_not_the_embedding_table() -> None:
    table = float(LLAMA.vocab or 0) * LLAMA.d_model * 2.0
    with_table = rl.llm_decode(LLAMA, batch=1, context_len=0)
    step = transformer_step(IDEAL, LLAMA, phase="decode", batch=1, context_len=0, engine="graph")
    rows = LLAMA.d_model * 2.0
    assert float(step.mem_bytes - step.activation_bytes) == pytest.approx(
        float(with_table.mem_bytes) - table + rows, rel=EXACT)  # its KV write is in both


def test_engines_order_and_terms() -> None:
    b = np.array([1.0, 8.0, 32.0, 128.0])
    steps = {e: transformer_step(kernel_model(), LLAMA, phase="decode", batch=b,
                                 context_len=1024, engine=e)
             for e in ("graph", "eager", "framework")}
    assert np.all(steps["graph"].time_s <= steps["eager"].time_s)
    assert np.all(steps["graph"].time_s <= steps["framework"].time_s)
    g, eager, fw = steps["graph"], steps["eager"], steps["framework"]
    assert g.n_kernels == 32 * 10 + 4
    # eager issues gpt-fast's 55 ops per layer and 24 per step; a framework its fused kernels
    assert (g.host_ops, eager.host_ops, fw.host_ops) == (1, 32 * 55 + 24, g.n_kernels)
    np.testing.assert_allclose(eager.host_s, eager.host_ops * 8e-6, rtol=EXACT)
    np.testing.assert_allclose(fw.host_s, fw.n_kernels * (8e-6 + 20e-6), rtol=EXACT)
    np.testing.assert_allclose(g.time_s, np.maximum(g.host_s, g.device_s) + g.sync_s, rtol=EXACT)
    assert np.all(g.device_s >= (g.fixed_s + np.maximum(g.compute_s, g.memory_s)) * (1 - EXACT))
    assert set(g.to_dict()) >= {"time_s", "compute_s", "memory_s", "floor_s", "host_s",
                                "sync_s", "bound", "n_kernels"}
    assert len(g.rows()) == 4


def test_eager_decode_is_flat_in_batch_while_host_bound() -> None:
    """Slow issue (20 µs per op, 1,784 ops): the step is the host's n_eager·issue + sync until the
    device catches up, then grows."""
    model = kernel_model(eager_issue_s=20e-6)
    b = np.array([1.0, 2.0, 4.0, 8.0, 2048.0])
    step = transformer_step(model, LLAMA, phase="decode", batch=b, context_len=512,
                            engine="eager")
    flat = step.host_ops * 20e-6 + model.launch.sync_s
    np.testing.assert_allclose(step.time_s[:4], flat, rtol=EXACT)
    assert list(step.bound[:4]) == ["host"] * 4
    assert step.time_s[4] > flat and step.bound[4] != "host"


def test_kernel_floors_bind_a_tiny_model() -> None:
    tiny = rl.TransformerShape(params=20e6, n_layers=8, d_model=256, n_heads=4, vocab=1000)
    step = transformer_step(kernel_model(min_kernel_s=5e-6), tiny, phase="decode", batch=1,
                            context_len=16, engine="graph")
    assert step.bound.item() == "kernel floors"
    assert float(step.floor_s) > 0


def test_bad_input_is_one_input_error() -> None:
    with pytest.raises(InputError, match="engine.*'turbo'"):
        transformer_step(IDEAL, LLAMA, phase="decode", batch=1, context_len=1, engine="turbo")
    with pytest.raises(InputError, match="phase"):
        transformer_step(IDEAL, LLAMA, phase="train", batch=1, context_len=1, engine="graph")
    with pytest.raises(InputError, match="needs context_len"):
        transformer_step(IDEAL, LLAMA, phase="decode", batch=1, engine="graph")
    with pytest.raises(InputError, match="batch"):
        transformer_step(IDEAL, LLAMA, phase="decode", batch=0, context_len=1, engine="graph")


@settings(max_examples=40, deadline=None)
@given(b=st.integers(1, 1024), ctx=st.integers(0, 32768),
       engine=st.sampled_from(["graph", "eager", "framework"]))
def test_decode_is_monotone_in_batch_and_context(b: int, ctx: int, engine: str) -> None:
    model = kernel_model()
    t = transformer_step(model, LLAMA, phase="decode", batch=np.array([b, b + 1, b]),
                         context_len=np.array([ctx, ctx, ctx + 1]), engine=engine).time_s
    assert t[1] >= t[0] and t[2] >= t[0]


@settings(max_examples=30, deadline=None)
@given(b=st.integers(1, 64), n=st.integers(1, 8192))
def test_prefill_is_monotone_and_engines_ordered(b: int, n: int) -> None:
    model = kernel_model()
    times = [transformer_step(model, LLAMA, phase="prefill", batch=np.array([b, b + 1, b]),
                              prompt_len=np.array([n, n, n + 1]), engine=e).time_s
             for e in ("graph", "eager", "framework")]
    for t in times:
        assert t[1] >= t[0] and t[2] >= t[0]
    assert np.all(times[0] <= times[1]) and np.all(times[0] <= times[2])


def test_a_kernel_model_of_an_unknown_precision_is_an_input_error() -> None:
    odd = dataclasses.replace(IDEAL, precision="fp64")
    with pytest.raises(InputError, match="precision.*'fp64'"):
        transformer_step(odd, LLAMA, phase="decode", batch=1, context_len=1, engine="graph")

"""The compiled (plain-float) step equals the numpy step (mlfleet.infra.accel.compiled_step)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.infra import roofline as rl
from mlfleet.infra.accel.compiled_step import compile_step
from mlfleet.infra.accel.kernels import StepCounts
from mlfleet.infra.accel.step import counts_step
from mlfleet.infra.accel.types import KERNEL_CLASSES, KernelClassParams, KernelModel, LaunchParams

LLAMA = rl.TransformerShape.from_workload("Llama-3-8B")
CLASSES = {"gemm": (0.8, 0.85, 6e-6), "gemv": (0.5, 0.9, 1e-6), "stream": (0.3, 0.8, 0.0),
           "attention": (0.6, 0.7, 3e-6)}
MODEL = KernelModel(
    accelerator="H100", precision="bf16", peak_flops_per_s=989e12, mem_bw_bytes_per_s=3.35e12,
    classes={c: KernelClassParams(compute_fraction=v[0], memory_fraction=v[1], fixed_s=v[2])
             for c, v in CLASSES.items()},
    launch=LaunchParams(min_kernel_s=2.5e-6, graph_gap_s=1e-6, graph_launch_s=10e-6,
                        eager_issue_s=9e-6, framework_op_s=15e-6, sync_s=30e-6))
assert set(CLASSES) == set(KERNEL_CLASSES)


@settings(max_examples=60, deadline=None)
@given(tokens=st.integers(1, 20000), rows=st.integers(0, 256), pairs=st.integers(0, 10**8),
       cached=st.integers(0, 10**6), engine=st.sampled_from(["graph", "eager", "framework"]),
       tp=st.sampled_from([1, 2, 8]), allreduce_s=st.floats(0, 1e-4))
def test_compiled_equals_the_array_step(tokens: int, rows: int, pairs: int, cached: int,
                                        engine: str, tp: int, allreduce_s: float) -> None:
    compiled = compile_step(MODEL, LLAMA, engine=engine, tp=tp, layers=LLAMA.n_layers)
    counts = StepCounts(tokens=np.asarray(float(tokens)), logit_rows=np.asarray(float(rows)),
                        pairs=np.asarray(float(pairs)), kv_read_tokens=np.asarray(float(cached)))
    array = counts_step(MODEL, LLAMA, counts, engine=engine, tp=tp, layers=LLAMA.n_layers,
                        allreduce_s=allreduce_s)
    fast = compiled.time_s(tokens, rows, pairs, cached, allreduce_s)
    assert fast == pytest.approx(float(array.time_s), rel=1e-12)
    assert compiled.n_kernels == array.n_kernels


def test_compiled_without_a_vocab_has_no_lm_head() -> None:
    legacy = dataclasses.replace(LLAMA, vocab=None)
    assert compile_step(MODEL, legacy, engine="graph", tp=1, layers=32).n_kernels == 32 * 10 + 1

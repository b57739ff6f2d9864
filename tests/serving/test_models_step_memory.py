"""Per-GPU memory of a serving step on a tp × pp replica, and the smallest TP that fits."""

from __future__ import annotations

import numpy as np

from mlfleet.infra import roofline as rl
from mlfleet.serving.models.llm_step import llm_step_model
from mlfleet.serving.models.step_memory import step_memory


def test_llama3_70b_decode_at_tp8_by_hand() -> None:
    """Llama-3-70B (catalog shape: 80 layers, d_model 8192, 64 heads, 8 KV heads of 128)."""
    m = llm_step_model(workload="Llama-3-70B", accelerator="H100", tp=8)
    fit = step_memory(m, decode_seqs=np.array([1, 64]),
                      decode_context_tokens=np.array([1, 64]) * 4096)
    assert fit is not None
    weights = m.shape.params * 2 / 8
    kv = np.array([1, 64]) * 4097 * (2 * 80 * 1 * 128 * 2)  # one KV head per GPU at tp=8
    act = 17 * 2 * 8192 * np.array([1, 64]) / 8
    np.testing.assert_allclose(fit.weight_bytes, weights)
    np.testing.assert_allclose(fit.kv_cache_bytes, kv)
    np.testing.assert_allclose(fit.activation_bytes, act)
    assert fit.fits.tolist() == [True, True]
    # tp=2: 70.6 GB of weights + 0.7 GB of KV fits batch 1; batch 64 adds 42.9 GB of KV
    # (4 KV heads per GPU), so it needs tp=4 (35.3 + 21.5 GB)
    assert [r["min_tp_to_fit"] for r in fit.rows(smallest_key="min_tp_to_fit")] == [2, 4]


def test_prefill_fit_and_unknown_device_memory() -> None:
    m = llm_step_model(workload="Llama-3-8B", accelerator="H100")
    fit = step_memory(m, prefill_tokens=1e6)  # 1M tokens of KV: 131 GB
    assert fit is not None and not bool(fit.fits)
    assert fit.rows(smallest_key="min_tp_to_fit")[0]["min_tp_to_fit"] == 4
    custom = rl.Device(name="x", peak_flops_per_s=1e15, mem_bw_bytes_per_s=1e12)
    assert step_memory(llm_step_model(workload="Llama-3-8B", accelerator=custom),
                       decode_seqs=1) is None

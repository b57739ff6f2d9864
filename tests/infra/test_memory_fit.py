"""Weights + optimizer state + KV cache + activations per GPU against device memory."""

from __future__ import annotations

import numpy as np
import pytest

from mlfleet.errors import ConstraintViolation
from mlfleet.infra import memory_fit as mf
from mlfleet.infra import roofline as rl

# Llama 3.1 405B (Llama 3 paper, Table 3; Hugging Face config.json, catalog llama3-config):
# 405,853,388,800 parameters, 126 layers, d_model 16,384, 128 heads, 8 KV heads of 128.
PARAMS_405B = 405_853_388_800
KV_PER_TOKEN_405B = 2 * 126 * 8 * 128 * 2  # K and V, bf16: 516,096 B
H100_HBM = 80e9


def shape_405b() -> rl.TransformerShape:
    return rl.TransformerShape(params=PARAMS_405B, n_layers=126, d_model=16384, n_heads=128,
                               n_kv_heads=8, seq_len=8192)


def test_405b_decode_on_one_h100_does_not_fit_by_hand() -> None:
    """Issue 10 item 12: a 243 ms/token prediction on one 80 GB GPU holding 812 GB."""
    fit = mf.llm_memory("decode", shape_405b(), batch=1, seq_len=8192, n_gpus=1,
                        bytes_per_param=2.0, device_bytes=H100_HBM)
    weights = PARAMS_405B * 2  # 811,706,777,600 B
    kv = 8193 * KV_PER_TOKEN_405B  # 8,192 cached tokens + the new one: 4,228,374,528 B
    activations = 17 * 2 * 16384  # one layer of one token: 557,056 B
    assert float(fit.weight_bytes) == weights and float(fit.kv_cache_bytes) == kv
    assert float(fit.activation_bytes) == activations
    assert float(fit.need_bytes) == weights + kv + activations  # 815,935,709,184 B
    assert not bool(fit.fits)
    assert float(fit.shortfall_bytes) == weights + kv + activations - H100_HBM
    assert fit.rows()[0]["min_gpus_to_fit"] == 11  # 815.9 GB / 80 GB = 10.2
    split = mf.llm_memory("decode", shape_405b(), batch=1, seq_len=8192, n_gpus=11,
                          bytes_per_param=2.0, device_bytes=H100_HBM)
    assert bool(split.fits) and float(split.shortfall_bytes) == 0


def test_training_counts_weights_gradients_adam_and_one_sequence_of_activations() -> None:
    """16 bytes per parameter at bf16 (ZeRO §3.1) sharded; 34·s·h bytes per layer held."""
    shape = rl.TransformerShape(params=8.03e9, n_layers=32, d_model=4096, n_heads=32,
                                n_kv_heads=8, seq_len=8192)
    fit = mf.llm_memory("train", shape, batch=512, seq_len=8192, n_gpus=np.array([1, 8]),
                        bytes_per_param=2.0, device_bytes=H100_HBM)
    activations = 8192 * 32 * 34 * 4096  # one sequence, all layers: 36.5 GB on every GPU
    np.testing.assert_allclose(fit.need_bytes, [16 * 8.03e9 + activations,
                                                16 * 8.03e9 / 8 + activations])
    assert fit.fits.tolist() == [False, True]
    # fewest GPUs: 128.5 GB of state over the 43.5 GB the activations leave: 3
    assert [r["min_gpus_to_fit"] for r in fit.rows()] == [3, 3]
    recompute = mf.llm_memory("train", shape, batch=512, seq_len=8192, n_gpus=1,
                              bytes_per_param=2.0, device_bytes=H100_HBM, recompute=True)
    assert float(recompute.activation_bytes) == 8192 * 32 * 2 * 4096  # layer inputs only


def test_activations_alone_over_the_device_leave_no_gpu_count() -> None:
    fit = mf.even_split_fit(weight_bytes=1e9, activation_bytes=100e9, activations_split=False,
                            n_gpus=8, device_bytes=H100_HBM)
    assert fit.rows()[0]["min_gpus_to_fit"] is None and not bool(fit.fits)


def test_refuse_unfit_exits_3_when_nothing_fits_and_warns_on_a_partial_sweep() -> None:
    fit = mf.llm_memory("decode", shape_405b(), batch=1, seq_len=8192, n_gpus=np.array([1, 16]),
                        bytes_per_param=2.0, device_bytes=H100_HBM)
    rows = fit.rows()
    warning = mf.refuse_unfit(rows, device="H100", split="--gpus")
    assert warning is not None and "1 of 2 point(s)" in warning and "is 11" in warning
    with pytest.raises(ConstraintViolation, match="816 GB per GPU against 80 GB"):
        mf.refuse_unfit(rows[:1], device="H100", split="--gpus")
    assert mf.refuse_unfit(rows[1:], device="H100", split="--gpus") is None


def test_catalog_device_carries_its_memory() -> None:
    assert rl.Device.from_accelerator("H100", "bf16").hbm_bytes == H100_HBM

"""KV cache: bytes per token against hand calculation, capacity, paged blocks."""

from __future__ import annotations

import numpy as np
import pytest

from mlfleet.errors import ServingInputError
from mlfleet.serving.models.kv_cache import (
    blocks_needed,
    kv_bytes_per_token,
    kv_capacity,
    paged_waste_fraction,
    reservation_waste_fraction,
)
from mlfleet.serving.models.llm_step import llm_step_model


def test_llama3_8b_is_128_kib_per_token_at_bf16() -> None:
    """GQA: 2 (K, V) · 32 layers · 8 KV heads · 128 head dim · 2 bytes = 131,072 B."""
    assert float(kv_bytes_per_token(n_layers=32, n_kv_heads=8, head_dim=128,
                                    kv_bytes_per_element=2)) == 128 * 1024
    m = llm_step_model(workload="Llama-3-8B", accelerator="H100")
    assert m.kv_bytes_per_token_per_gpu == 131_072


def test_llama3_70b_is_320_kib_per_token_and_40_kib_per_gpu_at_tp8() -> None:
    """2 · 80 layers · 8 KV heads · 128 · 2 B = 327,680 B; TP8 gives each GPU one KV head."""
    assert llm_step_model(workload="Llama-3-70B", accelerator="H100") \
        .kv_bytes_per_token_per_gpu == 327_680
    assert llm_step_model(workload="Llama-3-70B", accelerator="H100", tp=8) \
        .kv_bytes_per_token_per_gpu == 40_960
    fp8 = llm_step_model(workload="Llama-3-70B", accelerator="H100", kv_precision="fp8")
    assert fp8.kv_bytes_per_token_per_gpu == 163_840
    pp4 = llm_step_model(workload="Llama-3-70B", accelerator="H100", pp=4)
    assert pp4.kv_bytes_per_token_per_gpu == 327_680 / 4


def test_llama3_70b_tp8_capacity_by_hand() -> None:
    """usable 0.9 · 80 GB = 72 GB; weights 70.55e9 · 2 B / 8 = 17.64 GB; KV budget 54.36 GB
    / (40,960 B · 16 tokens per block) = 82,949 blocks = 1,327,184 tokens; at 8192 tokens
    per sequence (512 blocks) that is 162 sequences."""
    m = llm_step_model(workload="Llama-3-70B", accelerator="H100", tp=8)
    cap = kv_capacity(m, hbm_bytes=80e9)
    weights = 70_553_706_496 * 2 / 8
    assert cap.weight_bytes == pytest.approx(weights)
    assert cap.blocks == int((72e9 - weights) // (40_960 * 16)) == 82_949
    assert cap.max_tokens == 1_327_184
    assert float(cap.max_batch(8192)) == 162
    assert float(cap.max_context(162)) == 82_949 // 162 * 16
    assert cap.fits and cap.as_dict()["fits"]


def test_weights_that_do_not_fit_are_an_ordinary_result() -> None:
    m = llm_step_model(workload="Llama-3-70B", accelerator="H100")  # 141 GB on one 80 GB GPU
    cap = kv_capacity(m, hbm_bytes=80e9)
    assert not cap.fits and cap.blocks == 0 and cap.kv_budget_bytes == 0
    assert float(cap.max_batch(100)) == 0
    # the shortfall is weights + one block - usable; tp=2 halves the weights (70.6 GB) and
    # leaves 1.4 GB of the 72 GB usable for KV blocks
    assert cap.shortfall_bytes == pytest.approx(m.weight_bytes_per_gpu + 16 * 327_680 - 72e9)
    assert cap.min_tp_to_fit == 2


def test_llama3_405b_on_one_h100_reports_the_shortfall_not_a_negative_budget() -> None:
    """Issue 10 item 12: `serving kv -w Llama-3-405B --tp 1` printed a budget of -740 GB.

    Shape (Llama 3 paper, Table 3; catalog llama3-config): 405,853,388,800 parameters,
    126 layers, 8 KV heads of 128: 811.7 GB of bf16 weights, 516,096 KV bytes per token.
    """
    m = llm_step_model(workload="Llama-3-405B", accelerator="H100")
    cap = kv_capacity(m, hbm_bytes=80e9)
    weights = 405_853_388_800 * 2
    assert cap.weight_bytes == weights and cap.kv_bytes_per_token_per_gpu == 516_096
    assert cap.kv_budget_bytes == 0 and not cap.fits
    assert cap.shortfall_bytes == pytest.approx(weights + 16 * 516_096 - 72e9)  # 739.7 GB
    # tp=8: 101.5 GB of weights per GPU, still over 72 GB; tp=16: 50.7 GB fits
    assert cap.min_tp_to_fit == 16


def test_paged_blocks_and_waste() -> None:
    np.testing.assert_array_equal(blocks_needed([0, 1, 16, 17, 100]), [0, 1, 1, 2, 7])
    lengths = np.array([17, 100, 3])  # 2 + 7 + 1 = 10 blocks = 160 slots for 120 tokens
    assert paged_waste_fraction(lengths) == pytest.approx(1 - 120 / 160)
    assert reservation_waste_fraction(lengths, 2048) == pytest.approx(1 - 40 / 2048)
    assert paged_waste_fraction(lengths) < reservation_waste_fraction(lengths, 2048)


def test_paged_waste_is_below_one_block_per_sequence() -> None:
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 4096, 10_000)
    waste_slots = paged_waste_fraction(lengths) * float(np.sum(blocks_needed(lengths) * 16))
    assert waste_slots <= 15 * lengths.size


@pytest.mark.parametrize(("call", "fragment"), [
    (lambda m: kv_capacity(m, hbm_bytes=80e9, memory_utilization=1.5), "memory_utilization"),
    (lambda m: kv_capacity(m, hbm_bytes=-1), "hbm_bytes(=-1)"),
    (lambda m: kv_capacity(m, hbm_bytes=80e9, block_tokens=0), "block_tokens(=0)"),
    (lambda m: reservation_waste_fraction([10, 5000], 4096), "exceeds max_tokens"),
])
def test_bad_input(call: object, fragment: str) -> None:
    m = llm_step_model(workload="Llama-3-8B", accelerator="H100")
    with pytest.raises(ServingInputError) as info:
        call(m)  # type: ignore[operator]
    assert fragment in str(info.value)

"""The roofline model: formulas, invariants (hypothesis), costs, calibration."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.catalog.types import Workload
from mlfleet.errors import CatalogError, InputError
from mlfleet.infra import roofline as rl
from mlfleet.infra.roofline_fit import calibrate

H100_BF16_PEAK = 989.5e12  # catalog H100-SXM, NVIDIA datasheet dense bf16
H100_HBM_BW = 3.35e12

LLAMA3_8B = rl.TransformerShape(params=8.03e9, n_layers=32, d_model=4096, n_heads=32,
                                n_kv_heads=8, seq_len=8192)  # Dubey et al. 2024, Table 3


def step(**overrides: Any) -> rl.RooflineResult:
    """Builder: a 1 TFLOP / 1 GB step on an H100-like device, with overrides."""
    args: dict[str, Any] = {"flop": 1e12, "mem_bytes": 1e9, "peak_flops_per_s": H100_BF16_PEAK,
                            "mem_bw_bytes_per_s": H100_HBM_BW}
    return rl.step_time(**{**args, **overrides})


# --------------------------------------------------------------------------- formula


def test_compute_bound_step_matches_hand_calculation() -> None:
    r = step(compute_efficiency=0.5)
    assert float(r.compute_s) == pytest.approx(1e12 / (0.5 * H100_BF16_PEAK))
    assert float(r.memory_s) == pytest.approx(1e9 / H100_HBM_BW)
    assert float(r.time_s) == float(r.compute_s)
    assert str(r.bound) == "compute"
    assert float(r.arithmetic_intensity) == pytest.approx(1000.0)
    assert float(r.mfu) == pytest.approx(0.5)


def test_memory_bound_below_ridge_point() -> None:
    device = rl.Device.from_accelerator("H100", "bf16")
    assert device.ridge_point_flop_per_byte == pytest.approx(H100_BF16_PEAK / H100_HBM_BW)
    r = step(flop=1e9, mem_bytes=1e9)  # intensity 1 << ridge ~295
    assert str(r.bound) == "memory"
    assert float(r.mfu) == pytest.approx((1e9 / float(r.time_s)) / H100_BF16_PEAK)


def test_overhead_adds_and_binds_when_largest() -> None:
    r = step(flop=1e6, mem_bytes=1e6, overhead_s=1e-3)
    assert str(r.bound) == "overhead"
    assert float(r.time_s) == pytest.approx(1e-3 + max(float(r.compute_s), float(r.memory_s)))


def test_communication_overlapped_or_serialised() -> None:
    overlapped = step(comm_bytes=1e9, comm_bw_bytes_per_s=50e9)  # 20 ms of comm
    assert str(overlapped.bound) == "communication"
    assert float(overlapped.time_s) == pytest.approx(0.02)
    serial = step(comm_bytes=1e9, comm_bw_bytes_per_s=50e9, overlap=False)
    assert float(serial.time_s) == pytest.approx(0.02 + float(serial.compute_s))
    assert float(step(comm_s=0.01).comm_s) == pytest.approx(0.01)


def test_recomputation_separates_mfu_from_hfu() -> None:
    r = step(model_flop=0.75e12)
    assert float(r.hfu) == pytest.approx(1.0)
    assert float(r.mfu) == pytest.approx(0.75)


def test_zero_work_has_zero_time_and_mfu() -> None:
    r = step(flop=0.0, mem_bytes=0.0)
    assert float(r.time_s) == 0.0 and float(r.mfu) == 0.0
    assert float(r.arithmetic_intensity) == np.inf


@pytest.mark.parametrize(("overrides", "fragment"), [
    ({"flop": -1.0}, "flop(=-1)"),
    ({"mem_bytes": np.array([1.0, -5.0])}, "mem_bytes(=-5)"),
    ({"compute_efficiency": 1.5}, "compute_efficiency(=1.5) must be a finite number in (0, 1]"),
    ({"memory_efficiency": 0.0}, "memory_efficiency(=0)"),
    ({"peak_flops_per_s": 0.0}, "peak_flops_per_s(=0) must be a finite number > 0"),
    ({"overhead_s": float("nan")}, "overhead_s(=nan)"),
])
def test_bad_inputs_raise_input_error_quoting_value(overrides: dict[str, Any],
                                                    fragment: str) -> None:
    with pytest.raises(InputError) as excinfo:
        step(**overrides)
    assert fragment in str(excinfo.value)


# --------------------------------------------------------------------------- properties

positive = st.floats(min_value=1e-3, max_value=1e18, allow_nan=False, allow_infinity=False)
nonneg = st.one_of(st.just(0.0), positive)
fraction = st.floats(min_value=1e-3, max_value=1.0)


@settings(max_examples=200, deadline=None)
@given(flop=nonneg, mem=nonneg, comm=nonneg, overhead=st.floats(0, 10), peak=positive,
       bw=positive, ce=fraction, me=fraction, overlap=st.booleans())
def test_time_bounds_terms_and_bound_is_argmax(flop: float, mem: float, comm: float,
                                               overhead: float, peak: float, bw: float,
                                               ce: float, me: float, overlap: bool) -> None:
    r = rl.step_time(flop=flop, mem_bytes=mem, comm_s=comm, overhead_s=overhead,
                     peak_flops_per_s=peak, mem_bw_bytes_per_s=bw, compute_efficiency=ce,
                     memory_efficiency=me, overlap=overlap)
    terms = [float(r.compute_s), float(r.memory_s), float(r.comm_s), float(r.overhead_s)]
    for term in terms:
        assert float(r.time_s) >= term * (1 - 1e-12)
    assert str(r.bound) == rl.BOUNDS[int(np.argmax(terms))]
    assert float(r.mfu) <= ce * (1 + 1e-9)


@settings(max_examples=100, deadline=None)
@given(flop=nonneg, mem=nonneg, factor=st.floats(1.0, 1e3), overhead=st.floats(0, 1))
def test_time_is_monotone_in_flop_and_bytes(flop: float, mem: float, factor: float,
                                            overhead: float) -> None:
    base = float(step(flop=flop, mem_bytes=mem, overhead_s=overhead).time_s)
    assert float(step(flop=flop * factor, mem_bytes=mem, overhead_s=overhead).time_s) >= base
    assert float(step(flop=flop, mem_bytes=mem * factor, overhead_s=overhead).time_s) >= base


@settings(max_examples=30, deadline=None)
@given(batches=st.lists(st.integers(1, 4096), min_size=1, max_size=8),
       gpus=st.lists(st.integers(1, 64), min_size=1, max_size=4),
       phase=st.sampled_from(rl.PHASES), overhead=st.floats(0, 1e-2))
def test_vectorised_sweep_equals_elementwise_loop(batches: list[int], gpus: list[int],
                                                  phase: str, overhead: float) -> None:
    device = rl.Device.from_accelerator("H100", "bf16")
    b, g = np.meshgrid(np.asarray(batches, float), np.asarray(gpus, float), indexing="ij")
    swept = rl.predict(rl.llm_cost(phase, LLAMA3_8B, batch=b, seq_len=2048, n_gpus=g), device,
                       overhead_s=overhead, compute_efficiency=0.6)
    assert swept.time_s.shape == b.shape
    for idx in np.ndindex(b.shape):
        one = rl.predict(rl.llm_cost(phase, LLAMA3_8B, batch=b[idx], seq_len=2048,
                                     n_gpus=g[idx]), device, overhead_s=overhead,
                         compute_efficiency=0.6)
        assert float(one.time_s) == pytest.approx(swept.time_s[idx], rel=1e-12)
        assert str(one.bound) == swept.bound[idx]
        assert float(one.mfu) == pytest.approx(swept.mfu[idx], rel=1e-12)


# --------------------------------------------------------------------------- costs


def test_gemm_cost() -> None:
    c = rl.gemm(4, 5, 6, bytes_per_element=2.0)
    assert float(c.flop) == 2 * 4 * 5 * 6
    assert float(c.mem_bytes) == (4 * 6 + 6 * 5 + 4 * 5) * 2.0
    with pytest.raises(InputError, match=r"k\(=0\)"):
        rl.gemm(1, 1, 0, bytes_per_element=2.0)


def test_elementwise_counts_stream_bytes() -> None:
    c = rl.elementwise(1000, bytes_per_element=4.0, reads=2, writes=1, flop_per_element=1)
    assert float(c.mem_bytes) == 12000.0 and float(c.flop) == 1000.0


def test_training_step_is_6n_plus_palm_attention() -> None:
    c = rl.llm_training_step(LLAMA3_8B, tokens=1e6, seq_len=8192, n_gpus=8)
    per_token = 6 * 8.03e9 + 12 * 32 * 4096 * 8192
    assert float(c.model_flop) == pytest.approx(per_token * 1e6 / 8)
    recomputed = rl.llm_training_step(LLAMA3_8B, tokens=1e6, seq_len=8192, n_gpus=8,
                                      recompute=True)
    assert float(recomputed.flop) == pytest.approx(float(c.model_flop) * 4 / 3)
    assert float(recomputed.model_flop) == float(c.model_flop)


def test_decode_is_memory_bound_at_small_batch_and_compute_bound_later() -> None:
    """Pope et al. 2022: decode reads all weights each step, so small batches are memory-bound.

    At batch 1 the step time is the weight read (16 GB / 3.35 TB/s = 4.8 ms) within a
    few percent; the KV cache grows with the batch until compute binds (at 8192 x 64 ctx).
    """
    device = rl.Device.from_accelerator("H100", "bf16")
    batch = np.array([1, 8, 64, 8192])
    r = rl.predict(rl.llm_cost("decode", LLAMA3_8B, batch=batch, seq_len=64), device)
    assert list(r.bound) == ["memory", "memory", "memory", "compute"]
    assert r.time_s[0] == pytest.approx(8.03e9 * 2 / H100_HBM_BW, rel=0.01)
    assert np.all(np.diff(r.mfu) > 0)
    assert np.all(np.diff(r.tokens_per_s) > 0)


def test_prefill_counts_causal_attention() -> None:
    c = rl.llm_prefill(LLAMA3_8B, batch=2, prompt_len=1000)
    expected = 2 * (2 * 8.03e9 * 1000 + 2 * 32 * 4096 * 1000 * 1001)
    assert float(c.flop) == pytest.approx(expected)
    assert float(c.tokens) == 2000


def test_unknown_phase_lists_known() -> None:
    with pytest.raises(InputError, match="known: train, prefill, decode"):
        rl.llm_cost("serve", LLAMA3_8B, batch=1, seq_len=8)


def test_shape_from_workload_reads_aliases_and_names_missing_keys() -> None:
    def workload(**shape: float) -> Workload:
        return Workload(name="toy", family="llm", unit="token", params=1e9, active_params=1e9,
                        fwd_flop=2e9, bwd_flop=4e9, shape=shape)

    shape = rl.TransformerShape.from_workload(workload(layers=12, d_model=768, n_heads=12,
                                                       seq_len=1024))
    assert (shape.n_layers, shape.attn_width, shape.seq_len) == (12, 768, 1024)
    with pytest.raises(CatalogError, match="shape.n_heads"):
        rl.TransformerShape.from_workload(workload(layers=12, d_model=768))


def test_training_step_api_for_plan() -> None:
    r = rl.training_step(workload=LLAMA3_8B, accelerator="H100", precision="bf16",
                         global_batch_tokens=4e6, n_gpus=np.array([8, 64, 4096]),
                         compute_efficiency=0.4, overhead_s=1.0)
    assert r.time_s.shape == (3,)
    assert np.all(np.diff(r.time_s) < 0)
    assert list(r.bound) == ["compute", "compute", "overhead"]
    assert np.all(r.mfu <= 0.4)
    with pytest.raises(CatalogError, match="unknown accelerator"):
        rl.training_step(workload=LLAMA3_8B, accelerator="H1OO-typo", global_batch_tokens=1e6,
                         n_gpus=8)
    with pytest.raises(CatalogError, match="'fp64'"):
        rl.Device.from_accelerator("H100", "fp64")


# --------------------------------------------------------------------------- calibration


def test_calibrate_recovers_efficiency_and_overhead() -> None:
    ideal = np.geomspace(1e-6, 1e-1, 12)
    measured = ideal / 0.6 + 5e-4
    cal = calibrate(measured_s=measured, ideal_s=ideal)
    assert cal.efficiency == pytest.approx(0.6, rel=1e-6)
    assert cal.overhead_s == pytest.approx(5e-4, rel=1e-6)
    assert cal.median_abs_rel_error < 1e-9


def test_calibrate_caps_efficiency_at_one_and_can_fit_overhead_only() -> None:
    ideal = np.geomspace(1e-6, 1e-1, 12)
    faster_than_ideal = ideal * 0.9 + 1e-5
    assert calibrate(measured_s=faster_than_ideal, ideal_s=ideal).efficiency == 1.0
    only = calibrate(measured_s=ideal + 2e-5, ideal_s=ideal, fit_efficiency=False)
    assert only.efficiency == 1.0 and only.overhead_s == pytest.approx(2e-5)
    with pytest.raises(InputError, match="pairs"):
        calibrate(measured_s=[1.0], ideal_s=[1.0])


@settings(max_examples=50, deadline=None)
@given(eff=st.floats(0.05, 1.0), overhead=st.floats(1e-6, 1e-2))
def test_calibrated_model_is_overhead_bound_at_tiny_batch(eff: float, overhead: float) -> None:
    """Once the overhead is fitted, tiny steps report 'overhead', large ones 'compute'."""
    device = rl.Device.from_accelerator("H100", "bf16")
    costs = rl.gemm(np.geomspace(1, 2**20, 12).round(), 256, 256, bytes_per_element=2.0)
    ideal = rl.predict(costs, device).time_s
    cal = calibrate(measured_s=ideal / eff + overhead, ideal_s=ideal)
    fitted = rl.predict(costs, device, compute_efficiency=cal.efficiency,
                        memory_efficiency=cal.efficiency, overhead_s=cal.overhead_s)
    assert fitted.bound[0] == "overhead"
    if ideal[-1] / eff > overhead:
        assert fitted.bound[-1] in ("compute", "memory")

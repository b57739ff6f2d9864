"""Step-time models: the adapter agrees with the analytical model; fits recover truth."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mlfleet.errors import InputError
from mlfleet.serving.models.llm_step import calibrate_step, llm_step_model
from mlfleet.serving.sim.steptime import (
    BatchServiceTime,
    LinearPiece,
    LlmStepTime,
    fit_linear_step_time,
    roofline_step_time,
)


@pytest.mark.parametrize("tp", [1, 2])
def test_llm_step_time_agrees_with_the_model(tp: int) -> None:
    model = dataclasses.replace(
        llm_step_model(workload="Llama-3-8B", accelerator="H100", tp=tp,
                       compute_efficiency=0.6, memory_efficiency=0.8, overhead_s=0.002),
        overhead_per_seq_s=2e-5)
    step = LlmStepTime(model)
    rng = np.random.default_rng(0)
    for _ in range(300):
        d = int(rng.integers(0, 300))
        p = int(rng.integers(0 if d else 1, 6000))
        args = (d, float(rng.uniform(0, 5e5)) if d else 0.0, p,
                float(p * (p + 1) / 2 * rng.random()), float(rng.uniform(0, 4000)))
        assert step.iteration_s(*args) == pytest.approx(model.iteration_time_s(*args), rel=1e-12)
        if d:
            const, lines = step.decode_lines(d)  # type: ignore[misc]
            closed = const + max(a + b * args[1] for a, b in lines)
            assert closed == pytest.approx(model.iteration_time_s(d, args[1]), rel=1e-12)


def test_a_calibrated_model_drives_the_simulator() -> None:
    """The real-server path: measure steps, calibrate the model, wrap it."""
    model = llm_step_model(workload="Llama-3-8B", accelerator="A100-80GB",
                           compute_efficiency=1.0)  # the legacy model: its constants are fitted
    truth = dataclasses.replace(model, compute_efficiency=0.5, memory_efficiency=0.5,
                                overhead_s=0.003)
    batch = np.array([1, 4, 16, 64, 1, 1])
    ctx = np.array([500, 2000, 8000, 30000, 0, 0])
    prefill = np.array([0, 0, 0, 0, 512, 2048])
    measured = truth.iteration(decode_seqs=batch, decode_context_tokens=ctx,
                               prefill_tokens=prefill).time_s
    calibrated, fit = calibrate_step(model, measured_s=measured, decode_seqs=batch,
                                     decode_context_tokens=ctx, prefill_tokens=prefill)
    step = LlmStepTime(calibrated)
    assert fit.efficiency == pytest.approx(0.5, rel=1e-6)
    assert step.iteration_s(8, 4000.0) == pytest.approx(truth.iteration_time_s(8, 4000.0))


def test_fit_linear_step_time_recovers_its_coefficients() -> None:
    rng = np.random.default_rng(1)
    d = rng.integers(1, 64, 40)
    c = rng.integers(0, 50_000, 40)
    p = rng.integers(0, 2000, 40)
    measured = 0.002 + 1e-4 * d + 2e-7 * c + 5e-5 * p
    fitted = fit_linear_step_time(measured_s=measured, decode_seqs=d, context_tokens=c,
                                  prefill_tokens=p)
    assert fitted.overhead_s == pytest.approx(0.002, rel=1e-6)
    piece = fitted.pieces[0]
    assert piece.per_context_token_s == pytest.approx(2e-7, rel=1e-6)
    assert fitted.iteration_s(10, 1000.0, 100) == pytest.approx(
        0.002 + 1e-3 + 2e-4 + 5e-3, rel=1e-6)


def test_batch_service_time_of_a_dense_and_a_sparse_model() -> None:
    resnet = BatchServiceTime.from_roofline(workload="ResNet-50", accelerator="H100",
                                            overhead_s=0.0)
    assert resnet(64) < 64 * resnet(1)  # weights are read once per batch
    dlrm = BatchServiceTime.from_roofline(workload="DLRM-DCNv2", accelerator="H100",
                                          overhead_s=0.0, precision="fp16")
    assert dlrm(64) < 64 * dlrm(1)  # dense layers are read once per batch ...
    assert dlrm(128) > dlrm(64)  # ... embedding rows per item


@pytest.mark.parametrize(("build", "fragment"), [
    (lambda: LinearPiece(per_seq_s=-1.0), "per_seq_s(=-1.0)"),
    (lambda: BatchServiceTime(pieces=()), "at least one"),
    (lambda: BatchServiceTime(pieces=((0.0, 0.0),)), "> 0 s"),
    (lambda: fit_linear_step_time(measured_s=[1.0]), "measured_s"),
])
def test_bad_step_times_name_the_value(build: object, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        build()  # type: ignore[operator]
    assert fragment in str(info.value)


def test_legacy_step_time_is_the_roofline_with_stated_assumptions() -> None:
    """Without kernel data for the accelerator (MI300X), or with a legacy constant given,
    the step is the legacy roofline with the module's assumed efficiencies and overhead."""
    for step in (roofline_step_time(workload="Llama-3-8B", accelerator="MI300X"),
                 roofline_step_time(workload="Llama-3-8B", accelerator="A100-80GB",
                                    overhead_s=2e-3)):
        # decode at batch 1 is memory-bound: weights / (bandwidth x 0.8) + 2 ms overhead
        weights = step.model.weight_bytes_per_gpu
        assert step.iteration_s(1, 0.0) == pytest.approx(
            weights / (step.model.device.mem_bw_bytes_per_s * 0.8) + 2e-3, rel=0.01)


def test_default_step_time_is_built_from_kernels() -> None:
    """The default on an accelerator with kernel data: the kernel-built step, whose batch-1
    decode on the A100 reads the weights at the sourced memory fraction plus launch gaps —
    faster than the legacy 2 ms overhead guess, slower than the ideal roofline."""
    step = roofline_step_time(workload="Llama-3-8B", accelerator="A100-80GB")
    assert step.model.kernels is not None
    ideal = step.model.weight_bytes_per_gpu / step.model.device.mem_bw_bytes_per_s
    assert ideal < step.iteration_s(1, 0.0) < ideal / 0.8 + 2e-3

"""A coalesced decode run equals the sum of its iterations; boundary search is exact."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sim_builders import LINEAR_STEP

from mlfleet.serving.sim.decode_run import plan_run, run_duration_s, run_first_k
from mlfleet.serving.sim.step_contract import StepTime
from mlfleet.serving.sim.steptime import (
    CallableStepTime,
    LinearPiece,
    LinearStepTime,
    roofline_step_time,
)

THREE_LINES = LinearStepTime(pieces=(
    LinearPiece(const_s=0.01, per_context_token_s=1e-6),
    LinearPiece(const_s=0.001, per_seq_s=1e-4, per_context_token_s=3e-6),
    LinearPiece(per_context_token_s=5e-6)), overhead_s=0.002)
STEPS: dict[str, StepTime] = {"linear": LINEAR_STEP, "three": THREE_LINES,
         "roofline": roofline_step_time(workload="Llama-3-8B", accelerator="A100-80GB"),
         "callable": CallableStepTime(lambda d, c, p, a, x: LINEAR_STEP.iteration_s(d, c))}


@pytest.mark.parametrize("name", sorted(STEPS))
@pytest.mark.parametrize(("batch", "context0", "k"),
                         [(1, 0.0, 200), (4, 100.0, 3000), (32, 1000.0, 2000), (256, 1e6, 500)])
def test_run_duration_is_the_sum_of_its_iterations(name: str, batch: int, context0: float,
                                                   k: int) -> None:
    step = STEPS[name]
    run = plan_run(step, batch, context0, k)
    total = 0.0
    for j in range(k):
        total += step.iteration_s(batch, context0 + j * batch)
        assert run_duration_s(run, j + 1) == pytest.approx(total, rel=1e-12)
    assert run[1] == pytest.approx(total, rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(batch=st.integers(1, 300), context0=st.floats(0, 1e6), k=st.integers(1, 5000),
       frac=st.floats(0, 1.05), name=st.sampled_from(["linear", "three", "roofline"]))
def test_first_k_is_the_first_boundary_at_or_after_a_time(batch: int, context0: float, k: int,
                                                         frac: float, name: str) -> None:
    run = plan_run(STEPS[name], batch, context0, k)
    dt = frac * run[1]
    j = run_first_k(run, dt)
    assert 1 <= j <= k
    assert run_duration_s(run, j) >= dt or j == k
    assert j == 1 or run_duration_s(run, j - 1) < dt


def test_a_crossing_between_lines_is_found() -> None:
    """Memory grows faster with context: compute binds first, memory later."""
    step = LinearStepTime(pieces=(LinearPiece(const_s=0.01), LinearPiece(per_context_token_s=1e-6)))
    run = plan_run(step, 1, 0.0, 20_000)
    assert run[4] is not None and len(run[4]) == 2  # two segments
    crossing = run[4][1][0]
    assert crossing == math.floor(0.01 / 1e-6) + 1

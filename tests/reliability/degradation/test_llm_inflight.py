"""A dying replica's in-flight LLM request: the step-model costs against the serving simulator."""

from __future__ import annotations

import pytest

from mlfleet.errors import InputError
from mlfleet.reliability.degradation.llm_inflight import recovery_costs, token_times_s
from mlfleet.reliability.degradation.llm_inflight_sim import simulated_extra_latency_s
from mlfleet.serving.models.llm_step import llm_step_model

MODEL = llm_step_model(workload="Llama-3-8B", accelerator="H100")


@pytest.mark.parametrize("streamed", [1, 50, 100, 199])
def test_extra_latency_matches_the_simulator(streamed: int) -> None:
    """P = 1000, N = 200 on one H100: regenerate within 1e-6 relative (observed 1e-15),
    resume within 0.2 % (observed 0.05 %: the simulator's prefill-after-prefix pairs)."""
    regen, resume = recovery_costs(MODEL, prompt_tokens=1000, output_tokens=200,
                                   streamed_tokens=streamed)
    sim_regen, sim_resume = simulated_extra_latency_s(MODEL, prompt_tokens=1000,
                                                      output_tokens=200,
                                                      streamed_tokens=streamed)
    assert sim_regen == pytest.approx(regen.extra_latency_s, rel=1e-6)
    assert sim_resume == pytest.approx(resume.extra_latency_s, rel=2e-3)


def test_regenerate_wastes_what_was_streamed_and_resume_reprefills_it() -> None:
    times = token_times_s(MODEL, prompt_tokens=1000, output_tokens=200)
    regen, resume = recovery_costs(MODEL, prompt_tokens=1000, output_tokens=200,
                                   streamed_tokens=150, detect_s=0.5)
    assert (regen.wasted_decode_tokens, regen.extra_prefill_tokens) == (150, 1000)
    assert (resume.wasted_decode_tokens, resume.extra_prefill_tokens) == (0, 1150)
    assert regen.extra_latency_s == pytest.approx(0.5 + times[149])
    assert resume.extra_latency_s < regen.extra_latency_s
    early = recovery_costs(MODEL, prompt_tokens=1000, output_tokens=200, streamed_tokens=5)
    assert early[0].extra_latency_s < regen.extra_latency_s  # the later, the dearer


def test_bad_input() -> None:
    with pytest.raises(InputError, match="200"):
        recovery_costs(MODEL, prompt_tokens=1000, output_tokens=200, streamed_tokens=200)
    with pytest.raises(InputError, match="prompt_tokens"):
        token_times_s(MODEL, prompt_tokens=0, output_tokens=10)

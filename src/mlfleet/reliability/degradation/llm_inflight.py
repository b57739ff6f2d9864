"""An LLM request in flight when its replica dies: regenerate from scratch or resume.

The KV cache dies with the replica. A request of P prompt tokens and N output tokens
that had streamed g tokens can

* **regenerate**: start over on a survivor — prefill P again, decode all N again; the
  g tokens already decoded are wasted work, and the client must drop the g repeats;
* **resume**: send the prompt plus the g streamed tokens as a new prompt — one prefill
  of P + g tokens (it yields token g + 1), then decode the remaining N − g − 1.

Costs from the serving chapter's step model (:class:`~mlfleet.serving.models.llm_step.LlmStepModel`),
for a request alone on its replica (batch 1): step 0 is the prefill of P and yields
token 1, decode step k (1 ≤ k < N) reads a context of P + k tokens, as the serving
simulator counts them (validated against it in the tests). The replica dies just after
token g (the partial step in flight, at most one step, is not counted);
``detect_s`` is the time to notice the death and re-route.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlfleet.checks import non_negative, positive_int
from mlfleet.reliability.errors import ReliabilityInputError as Bad
from mlfleet.serving.models.llm_step import LlmStepModel


def token_times_s(model: LlmStepModel, *, prompt_tokens: int, output_tokens: int) -> np.ndarray:
    """Time at which each of the N output tokens is produced, from the request's start."""
    p = positive_int("prompt_tokens", prompt_tokens, error=Bad)
    n = positive_int("output_tokens", output_tokens, error=Bad)
    steps = [model.prefill_time_s(float(p))]
    steps += [model.decode_time_s(1.0, float(p + k)) for k in range(1, n)]
    return np.cumsum(steps)


@dataclass(frozen=True, kw_only=True)
class RecoveryCost:
    """What one recovery strategy costs a request whose replica died after g tokens."""

    strategy: str
    extra_prefill_tokens: int
    """Prompt tokens processed again (P to regenerate, P + g to resume)."""
    wasted_decode_tokens: int
    """Decoded tokens thrown away (g to regenerate, 0 to resume)."""
    extra_latency_s: float
    """End-to-end latency over a run without failure (detection included)."""
    stall_s: float
    """From the death to token g + 1, as the client sees it (detection included)."""


def recovery_costs(model: LlmStepModel, *, prompt_tokens: int, output_tokens: int,
                   streamed_tokens: int, detect_s: float = 0.0) -> tuple[RecoveryCost, RecoveryCost]:
    """(regenerate, resume) for a death after ``streamed_tokens`` = g tokens (0 <= g < N)."""
    p, n, g = prompt_tokens, output_tokens, streamed_tokens
    times = token_times_s(model, prompt_tokens=p, output_tokens=n)
    if not 0 <= g < n:
        raise Bad(f"streamed_tokens(={g}) must be in [0, output_tokens={n})")
    non_negative("detect_s", detect_s, error=Bad)
    lost_s = float(times[g - 1]) if g else 0.0  # work done before the death (to token g)
    regen = RecoveryCost(strategy="regenerate", extra_prefill_tokens=p, wasted_decode_tokens=g,
                         extra_latency_s=detect_s + lost_s,
                         stall_s=detect_s + float(times[g]))
    if g == 0:
        return regen, RecoveryCost(strategy="resume", extra_prefill_tokens=p,
                                   wasted_decode_tokens=0, extra_latency_s=detect_s,
                                   stall_s=detect_s + float(times[0]))
    again = model.prefill_time_s(float(p + g))
    resume = RecoveryCost(strategy="resume", extra_prefill_tokens=p + g, wasted_decode_tokens=0,
                          extra_latency_s=detect_s + again - float(times[g] - times[g - 1]),
                          stall_s=detect_s + again)
    return regen, resume

"""Builders shared by the simulator tests (``**overrides`` style)."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlfleet.serving.sim.arrivals import (
    Exponential,
    LogNormal,
    PoissonArrivals,
    RequestStream,
    make_requests,
)
from mlfleet.serving.sim.steptime import LinearPiece, LinearStepTime

LINEAR_STEP = LinearStepTime(
    pieces=(LinearPiece(const_s=0.005, per_seq_s=1e-4, per_context_token_s=2e-7,
                        per_prefill_token_s=5e-5, per_pair_s=1e-9),
            LinearPiece(const_s=0.001, per_context_token_s=1e-6, per_prefill_token_s=1e-4)),
    overhead_s=0.001)
"""A two-line step time (compute-like and memory-like) with round numbers."""


def llm_stream(n: int = 300, *, seed: int = 0, **overrides: Any) -> RequestStream:
    """Poisson LLM traffic with lognormal prompt and output lengths."""
    kw: dict[str, Any] = dict(rate_per_s=10.0, prompt_median=200, output_median=50,
                              sigma=1.0, max_prompt=1500, max_output=600)
    kw.update(overrides)
    return make_requests(
        n, arrivals=PoissonArrivals(rate_per_s=kw["rate_per_s"]), rng=np.random.default_rng(seed),
        prompt=LogNormal(median=kw["prompt_median"], sigma=kw["sigma"], max_tokens=kw["max_prompt"]),
        output=LogNormal(median=kw["output_median"], sigma=kw["sigma"],
                         max_tokens=kw["max_output"]))


def mm_stream(n: int = 1000, *, seed: int = 0, rate_per_s: float = 0.8,
              mean_s: float = 1.0) -> RequestStream:
    """Poisson arrivals with exponential service demands."""
    return make_requests(n, arrivals=PoissonArrivals(rate_per_s=rate_per_s),
                         rng=np.random.default_rng(seed), service=Exponential(mean_s=mean_s))

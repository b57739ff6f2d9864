"""The contract every LLM step-time model meets, apart from the models themselves.

:mod:`~.decode_run` (the closed-form decode run) and the replicas depend on this
contract only; the models in :mod:`~.steptime` implement it and use
:mod:`~.decode_run`, so the dependency runs one way.
"""

from __future__ import annotations

from typing import Protocol

DecodeLines = tuple[float, tuple[tuple[float, float], ...]]
"""``(const_s, ((a_s, b_s_per_context_token), ...))``: a pure decode step with context
sum C takes ``const_s + max(a + b·C)``."""


class StepTime(Protocol):
    """The time of one LLM iteration (the contract every step-time model meets)."""

    def iteration_s(self, decode_seqs: int, context_tokens: float, prefill_tokens: int = 0,
                    prefill_pairs: float = 0.0, prefix_tokens: float = 0.0) -> float:
        """Seconds of one iteration; must be > 0 whenever it processes any token."""
        ...

    def decode_lines(self, decode_seqs: int) -> DecodeLines | None:
        """The closed form of a pure decode step with ``decode_seqs`` sequences (or None).

        When not None it must agree with :meth:`iteration_s` with no prefill for every
        context sum, to rounding; every slope b must be >= 0.
        """
        ...

"""Retries in the load generator: within a retry budget, after a full-jitter backoff, and
never past the request's deadline (the time left goes to each attempt as
``X-Deadline-Ms``). One :class:`RetryState` per run: the budget is the client's, shared
by all its requests, which is what keeps a failing server's load bounded by
``(1 + ratio) ×`` the offered load (``reliability/resilience/retry_budget.py``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import numpy as np

from mlfleet.reliability.resilience.backoff import BackoffConfig, full_jitter_s
from mlfleet.reliability.resilience.deadline import Deadline
from mlfleet.reliability.resilience.retry_budget import RetryBudget, RetryBudgetConfig

RETRYABLE = frozenset({"429", "500", "502", "503", "504", "timeout", "error"})
"""Outcomes worth another attempt: shed, server errors, gateway errors, transport failures."""

Attempt = Callable[[dict[str, str]], Awaitable[str]]
"""Sends one attempt with these headers; returns its outcome (an HTTP status as a
string, ``timeout`` or ``error``). The client timeout stays the session's: the server
answers a missed deadline with 504, which the client should see rather than cut off."""


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """How one request ended."""

    status: str
    """The last attempt's outcome."""
    retries: int
    """Attempts after the first."""
    budget_denied: bool
    """A retry was wanted but the budget was exhausted."""


class RetryState:
    """The run's retry budget, backoff and seeded jitter."""

    def __init__(self, *, max_retries: int, budget: RetryBudgetConfig, backoff: BackoffConfig,
                 seed: int) -> None:
        self.max_retries = max_retries
        self.budget = RetryBudget(budget, clock=time.monotonic)
        self.backoff = backoff
        self.rng = np.random.default_rng([seed, 2])


async def send_with_retries(attempt: Attempt, *, state: RetryState,
                            deadline: Deadline | None) -> Outcome:
    """Attempt, and retry a retryable outcome while retries, budget and deadline allow."""
    if state.max_retries:
        state.budget.record_request()
    retries = 0
    while True:
        headers = deadline.headers(time.monotonic()) if deadline is not None else {}
        status = await attempt(headers)
        if status not in RETRYABLE or retries >= state.max_retries:
            return Outcome(status=status, retries=retries, budget_denied=False)
        wait_s = full_jitter_s(retries, config=state.backoff, rng=state.rng)
        if deadline is not None and deadline.remaining_s(time.monotonic()) <= wait_s:
            return Outcome(status=status, retries=retries, budget_denied=False)
        if not state.budget.try_retry():
            return Outcome(status=status, retries=retries, budget_denied=True)
        await asyncio.sleep(wait_s)
        retries += 1

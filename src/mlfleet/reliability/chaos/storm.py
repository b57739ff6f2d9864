"""Retry storms: how much load reaches the replicas per request a client sends.

With one replica of three down and the survivors shedding (429), a client that retries
every failure multiplies the load on exactly the replicas that are already overloaded:
up to ``max_attempts`` times. A retry budget (:mod:`mlfleet.reliability.resilience.retry_budget`)
caps retries at ``ratio`` × requests + ``min_retries`` per trailing window, so at a
steady rate the load on the survivors is at most :func:`budget_amplification` times the
offered load. Measured from HAProxy's per-server counters (``stot``: requests it sent to
each replica), not from the client's own count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlfleet.reliability.chaos.run import ChaosRun


@dataclass(frozen=True, kw_only=True)
class Amplification:
    """Load on the live replicas relative to the client's offered requests."""

    requests_sent: int
    """Requests the client sent (first attempts)."""
    client_attempts: int
    """All attempts, retries included (the client's count)."""
    replica_requests: int
    """Requests HAProxy sent to the replicas that were up (its ``stot``; it includes the
    recorder's one ``/v1/info`` request when that went to one of them)."""

    @property
    def measured(self) -> float:
        """replica_requests / requests_sent."""
        return self.replica_requests / max(1, self.requests_sent)


def budget_amplification(*, ratio: float, min_retries: int, requests: int,
                         windows: int = 1) -> float:
    """Most attempts per request a retry budget lets through: 1 + ratio + min_retries ×
    windows / requests. Exact for a run that fits in one budget window (all its retries
    count against all its requests); for a longer run at a steady rate, ``windows`` =
    run length / window (each window holds ratio × its requests + min_retries retries)."""
    return 1.0 + ratio + min_retries * windows / max(1, requests)


def amplification(run: ChaosRun, *, live: list[int]) -> Amplification:
    """The run's load on the replicas ``live`` (indices) per request sent."""
    rec = run.records
    sent = ~np.isnan(rec.sent_s)
    on_live = sum(run.servers[r].sessions_total for r in live)  # + the one /v1/info
    return Amplification(requests_sent=int(sent.sum()),
                         client_attempts=int(rec.attempts[sent].sum()),
                         replica_requests=on_live)

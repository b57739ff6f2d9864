"""A multi-turn conversation workload for the simulator tests (sessions with turns)."""

from __future__ import annotations

import numpy as np

from mlfleet.serving.sim.arrivals import RequestStream


def conversations(*, sessions: int, turns: int, gap_s: float, service_s: float,
                  rng: np.random.Generator) -> RequestStream:
    """``sessions`` conversations starting over the first ``gap_s``, one turn per ``gap_s``
    (jittered), each turn an exponential demand of mean ``service_s``."""
    start = rng.uniform(0.0, gap_s, sessions)
    times = start[:, None] + gap_s * np.arange(turns)[None, :] \
        + rng.uniform(0.0, 0.2 * gap_s, (sessions, turns))  # (sessions, turns)
    session = np.repeat(np.arange(sessions), turns).reshape(sessions, turns)
    order = np.argsort(times.ravel(), kind="stable")
    n = sessions * turns
    return RequestStream(arrival_s=times.ravel()[order], prompt_tokens=np.ones(n, np.int64),
                         output_tokens=np.ones(n, np.int64),
                         service_s=rng.exponential(service_s, n),
                         session=session.ravel()[order])


def affinity_hits(session: np.ndarray, replica: np.ndarray) -> float:
    """Fraction of non-first turns served by the replica that served the previous turn."""
    last: dict[int, int] = {}
    hits = total = 0
    for s, r in zip(session.tolist(), replica.tolist(), strict=True):
        if s in last:
            total += 1
            hits += last[s] == r
        last[s] = r
    return hits / max(total, 1)

"""Up/down timelines of a component with exponential up (MTBF) and down (MTTR) periods.

An alternating renewal process that starts up: long-run unavailability
``MTTR/(MTBF + MTTR)`` and outages starting at rate ``1/(MTBF + MTTR)``
(Rausand & Høyland, *System Reliability Theory*, 2nd ed., ch. 5).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from mlfleet.checks import positive
from mlfleet.reliability.errors import ReliabilityInputError as Bad


def outage_edges(*, horizon_s: float, mtbf_s: float, mttr_s: float,
                 rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """Times the component goes down, comes back, goes down... up to past ``horizon_s``."""
    positive("mtbf_s", mtbf_s, error=Bad)
    positive("mttr_s", mttr_s, error=Bad)
    expected = int(2 * horizon_s / (mtbf_s + mttr_s)) + 16
    edges = np.empty(0)
    while not edges.size or edges[-1] <= horizon_s:
        periods = np.empty(expected)
        periods[0::2] = rng.exponential(mtbf_s, (expected + 1) // 2)
        periods[1::2] = rng.exponential(mttr_s, expected // 2)
        start = edges[-1] if edges.size else 0.0
        edges = np.concatenate([edges, start + np.cumsum(periods)])
    return edges


def state_at(edges: npt.NDArray[np.float64],
             times_s: npt.ArrayLike) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64]]:
    """(down?, seconds since the outage began; NaN when up) at each time."""
    t = np.asarray(times_s, dtype=np.float64)
    idx = np.searchsorted(edges, t, side="right")
    down = idx % 2 == 1
    since = np.where(down, t - edges[np.maximum(idx - 1, 0)], np.nan)
    return down, since


def unavailability(*, mtbf_s: float, mttr_s: float) -> float:
    """MTTR / (MTBF + MTTR): the long-run share of time down."""
    return positive("mttr_s", mttr_s, error=Bad) / (positive("mtbf_s", mtbf_s, error=Bad) + mttr_s)


def window_unavailability(*, mtbf_s: float, mttr_s: float, window_s: float) -> float:
    """Share of time in the first ``window_s`` of an outage: λ·E[min(W, D)] with
    λ = 1/(MTBF + MTTR) and D ~ Exp(MTTR), E[min(W, D)] = MTTR·(1 − e^(−W/MTTR))."""
    return unavailability(mtbf_s=mtbf_s, mttr_s=mttr_s) * (1.0 - math.exp(-window_s / mttr_s))

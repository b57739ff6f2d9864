"""Pipelining a message through a chain of steps in chunks.

A message of S bytes cut into k chunks crosses a path of ``steps`` hops in
``steps + k - 1`` rounds, each costing one chunk's α + S·s/k, where ``s`` is the
seconds per byte a rank spends per round (link time, plus reduction time where the
collective reduces). With the chunk count free, the best k is
k* = sqrt((steps - 1)·S·s / α), giving T* = (sqrt((steps - 1)·α) + sqrt(S·s))².
Source: the classic pipelined-broadcast analysis, e.g. Sanders, Speck & Träff 2009,
"Two-tree algorithms for full bandwidth broadcast, reduction and scan", Parallel
Computing 35(12) §2, which uses it for (double) binary trees.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from mlfleet.checks import FloatArray


def pipelined_time(*, steps: ArrayLike, size_bytes: ArrayLike, alpha_s: float,
                   s_per_byte: float, chunk_bytes: float | None = None) -> FloatArray:
    """Seconds to pipeline ``size_bytes`` through ``steps`` rounds of depth.

    ``chunk_bytes=None`` uses the optimal (continuous) chunk count, at least one chunk;
    otherwise ``k = ceil(S / chunk_bytes)``. ``s_per_byte`` is per round per byte of
    the whole message (e.g. 2/B for a node that sends two chunks per round).
    """
    depth = np.asarray(steps, dtype=np.float64)
    size = np.asarray(size_bytes, dtype=np.float64)
    volume_s = size * s_per_byte  # seconds of one round if the whole message went at once
    if chunk_bytes is not None:
        k = np.maximum(1.0, np.ceil(size / chunk_bytes))
    elif alpha_s == 0.0:
        return np.asarray(volume_s + 0.0 * depth, dtype=np.float64)  # infinitely fine chunks
    else:
        k = np.maximum(1.0, np.sqrt((depth - 1.0) * volume_s / alpha_s))
    return np.asarray((depth + k - 1.0) * (alpha_s + volume_s / k), dtype=np.float64)

"""Round counts of the recursive-doubling and recursive-halving patterns."""

from __future__ import annotations

import numpy as np

from mlfleet.checks import FloatArray


def ceil_log2(n: FloatArray) -> FloatArray:
    """⌈log2 n⌉ elementwise (number of rounds of a recursive-doubling pattern)."""
    return np.ceil(np.log2(n) - 1e-12)


def floor_pow2(n: FloatArray) -> FloatArray:
    """The largest power of two <= n, elementwise."""
    return 2.0 ** np.floor(np.log2(n) + 1e-12)

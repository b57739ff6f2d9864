"""Random-k sparsification: send k uniformly chosen elements, indices implied by a seed.

The k positions are drawn without replacement from a generator seeded by a
64-bit seed taken from the caller's ``rng``; only the seed travels, so the
payload is k float32 values + 8 bytes (ratio ≈ n/k, twice top-k's at equal k)
and selection costs O(k) instead of top-k's O(n) — "lower overhead than top-k".

``scaled=True`` multiplies the kept values by n/k, which makes the estimate
unbiased (E[C(g)] = g) at the price of variance (n/k − 1)·‖g‖² — large for
small k (Wangni et al. 2018, "Gradient sparsification for communication-
efficient distributed optimization"). With error feedback use ``scaled=False``:
unscaled rand-k is a contraction (E‖C(x) − x‖² = (1 − k/n)‖x‖²), which is what
the EF analyses need (Stich et al. 2018). Not summable: payloads are allgathered.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlfleet.comm.compression.base import (
    DENSE_DTYPE,
    Field,
    Layout,
    Payload,
    as_grad,
    make_payload,
    numel_of,
)
from mlfleet.comm.compression.topk import kept_count

SEED_DTYPE = np.dtype(np.uint64)


def random_indices(seed: int, numel: int, k: int) -> np.ndarray:
    """The k distinct positions (ascending) that ``seed`` selects out of ``numel``."""
    idx = np.random.default_rng(seed).choice(numel, size=k, replace=False)
    idx.sort()
    return idx


@dataclass(frozen=True, kw_only=True)
class RandomK:
    """Keep a uniformly random ``ratio`` fraction of elements."""

    ratio: float = 0.01
    """Fraction of elements kept."""
    scaled: bool = True
    """Multiply kept values by n/k (unbiased); set False under error feedback."""
    name: str = "randomk"
    summable: bool = False

    def __post_init__(self) -> None:
        kept_count(self.ratio, 1)  # validates ratio

    def layout(self, numel: int) -> Layout:
        """An 8-byte seed, then k float32 values."""
        k = kept_count(self.ratio, numel)
        return (Field("seed", SEED_DTYPE, 1), Field("values", DENSE_DTYPE, k))

    def encode(self, grad: np.ndarray, rng: np.random.Generator) -> Payload:
        """Draw a seed from ``rng``, take the elements it selects (scaled by n/k if asked)."""
        g = as_grad(grad)
        k = kept_count(self.ratio, g.size)
        seed = int(rng.integers(0, 2**63, dtype=np.int64))
        values = g[random_indices(seed, g.size, k)]
        if self.scaled:
            values = values * np.float32(g.size / k)
        seed_buf = np.array([seed], SEED_DTYPE)
        return make_payload(self.layout(g.size), seed=seed_buf, values=values)

    def decode(self, payload: Payload, shape: tuple[int, ...]) -> np.ndarray:
        """Regenerate the positions from the seed and scatter the values into zeros."""
        out = np.zeros(numel_of(shape), DENSE_DTYPE)
        self.accumulate(payload, out)
        return out.reshape(shape)

    def accumulate(self, payload: Payload, out: np.ndarray) -> None:
        """Regenerate the positions and add the values there."""
        values = payload.buffers["values"]
        out[random_indices(int(payload.buffers["seed"][0]), out.size, values.size)] += values

"""Top-k sparsification: send only the k largest-magnitude elements, with their indices.

k = max(1, ⌈ratio · n⌉). The payload is k float32 values and k uint32 indices,
so the ratio is n / (2k). Selection is O(n) with ``numpy.argpartition``.
Top-k is biased — small coordinates are never sent — and without error
feedback training stalls on them; with a residual memory it converges at the
rate of SGD (Stich, Cordonnier & Jaggi 2018, "Sparsified SGD with memory";
Lin et al. 2018, Deep Gradient Compression, sends 0.1 % this way). Not
summable: index sets differ across ranks, so payloads are allgathered.
"""

from __future__ import annotations

import math
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
from mlfleet.errors import InputError

INDEX_DTYPE = np.dtype(np.uint32)
"""Indices on the wire: 4 bytes, enough for 4·10⁹-element buckets."""


def kept_count(ratio: float, numel: int) -> int:
    """k = max(1, ⌈ratio · numel⌉) capped at numel; InputError unless 0 < ratio <= 1."""
    if not 0.0 < ratio <= 1.0:
        raise InputError(f"ratio(={ratio}) must be in (0, 1]")
    return min(numel, max(1, math.ceil(ratio * numel)))


@dataclass(frozen=True, kw_only=True)
class TopK:
    """Keep the ``ratio`` fraction of elements with the largest magnitude."""

    ratio: float = 0.01
    """Fraction of elements kept (DGC: 0.001; 1 % is a common default)."""
    name: str = "topk"
    summable: bool = False

    def __post_init__(self) -> None:
        kept_count(self.ratio, 1)  # validates ratio

    def layout(self, numel: int) -> Layout:
        """k float32 values, then k uint32 indices."""
        k = kept_count(self.ratio, numel)
        return (Field("values", DENSE_DTYPE, k), Field("indices", INDEX_DTYPE, k))

    def encode(self, grad: np.ndarray, rng: np.random.Generator) -> Payload:
        """The k largest |g_i| and their positions, positions ascending (``rng`` unused)."""
        g = as_grad(grad)
        assert g.size < 2**32
        k = kept_count(self.ratio, g.size)
        idx = np.argpartition(np.abs(g), g.size - k)[g.size - k :]
        idx.sort()
        return make_payload(self.layout(g.size), values=g[idx], indices=idx.astype(INDEX_DTYPE))

    def decode(self, payload: Payload, shape: tuple[int, ...]) -> np.ndarray:
        """Scatter the values into zeros."""
        out = np.zeros(numel_of(shape), DENSE_DTYPE)
        self.accumulate(payload, out)
        return out.reshape(shape)

    def accumulate(self, payload: Payload, out: np.ndarray) -> None:
        """Add the k values at their indices (distinct, so a fancy-index add is exact)."""
        out[payload.buffers["indices"]] += payload.buffers["values"]

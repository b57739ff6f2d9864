"""INT8 gradients: symmetric linear quantization with one float32 scale per tensor.

scale = max|g| / 127;  q = round(g / scale) in [-127, 127];  ĝ = q · scale.
Deterministic round-to-nearest, so |g − ĝ| <= scale/2 per element but the codec
is biased: elements smaller than scale/2 vanish every step unless error
feedback carries them over (Seide et al. 2014 used exactly this remedy for 1-bit
SGD). One byte per element plus 4 bytes of scale: ratio -> 4. Not summable
(each rank has its own scale), so payloads are allgathered.
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

INT8_LEVELS = 127
"""Largest quantized magnitude (−128 unused, so the grid is symmetric)."""


@dataclass(frozen=True, kw_only=True)
class Int8:
    """Per-tensor symmetric INT8 quantization (round to nearest)."""

    name: str = "int8"
    summable: bool = False

    def layout(self, numel: int) -> Layout:
        """A float32 scale, then ``numel`` int8 codes."""
        return (Field("scale", DENSE_DTYPE, 1), Field("codes", np.dtype(np.int8), numel))

    def encode(self, grad: np.ndarray, rng: np.random.Generator) -> Payload:
        """Quantize to the nearest multiple of max|g|/127 (``rng`` unused)."""
        g = as_grad(grad)
        peak = float(np.max(np.abs(g))) if g.size else 0.0
        scale = np.float32(peak / INT8_LEVELS if peak > 0 else 1.0)
        codes = np.clip(np.rint(g / scale), -INT8_LEVELS, INT8_LEVELS).astype(np.int8)
        return make_payload(self.layout(g.size), scale=np.array([scale]), codes=codes)

    def decode(self, payload: Payload, shape: tuple[int, ...]) -> np.ndarray:
        """codes · scale as float32."""
        codes = payload.buffers["codes"]
        assert codes.size == numel_of(shape)
        out = codes.astype(DENSE_DTYPE)
        out *= payload.buffers["scale"][0]
        return out.reshape(shape)

    def accumulate(self, payload: Payload, out: np.ndarray) -> None:
        """``out += decode(payload)`` (a dense codec: nothing to save)."""
        out += self.decode(payload, out.shape)

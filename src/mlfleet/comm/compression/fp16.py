"""FP16 gradients: cast float32 to IEEE half precision, 2 bytes per element.

What PyTorch DDP's ``fp16_compress_hook`` does (torch.distributed.algorithms.
ddp_comm_hooks.default_hooks): half the bytes, and the payload stays summable,
so it rides the bandwidth-optimal ring allreduce instead of an allgather.
Round-to-nearest-even keeps a relative error <= 2**-11 for normal values
(|x| in [2**-14, 65504]); smaller values lose precision (subnormals) or flush to
zero, and values beyond 65504 overflow to inf, which is why the DDP hook divides
by the world size before casting.
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

FP16_RELATIVE_ERROR = 2.0**-11
"""Unit roundoff of IEEE binary16 (10 stored mantissa bits, round to nearest)."""


@dataclass(frozen=True, kw_only=True)
class FP16:
    """Cast to float16 (ratio 2, summable)."""

    name: str = "fp16"
    summable: bool = True

    def layout(self, numel: int) -> Layout:
        """One float16 buffer of ``numel`` values."""
        return (Field("values", np.dtype(np.float16), numel),)

    def encode(self, grad: np.ndarray, rng: np.random.Generator) -> Payload:
        """Round each element to the nearest float16 (``rng`` unused)."""
        g = as_grad(grad)
        return make_payload(self.layout(g.size), values=g.astype(np.float16))

    def decode(self, payload: Payload, shape: tuple[int, ...]) -> np.ndarray:
        """Widen back to float32 (exact)."""
        values = payload.buffers["values"]
        assert values.size == numel_of(shape)
        return values.astype(DENSE_DTYPE).reshape(shape)

    def accumulate(self, payload: Payload, out: np.ndarray) -> None:
        """``out += decode(payload)`` (a dense codec: nothing to save)."""
        out += self.decode(payload, out.shape)

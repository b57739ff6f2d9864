"""No compression: the float32 gradient as is — the baseline every method is measured against."""

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


@dataclass(frozen=True, kw_only=True)
class Dense:
    """Identity codec: 4 bytes per element, summable (a plain ring allreduce carries it)."""

    name: str = "dense"
    summable: bool = True

    def layout(self, numel: int) -> Layout:
        """One float32 buffer of ``numel`` values."""
        return (Field("values", DENSE_DTYPE, numel),)

    def encode(self, grad: np.ndarray, rng: np.random.Generator) -> Payload:
        """The gradient itself, flattened: the payload shares its memory (``rng`` unused)."""
        g = as_grad(grad)
        return make_payload(self.layout(g.size), values=g)

    def decode(self, payload: Payload, shape: tuple[int, ...]) -> np.ndarray:
        """The values, reshaped."""
        values = payload.buffers["values"]
        assert values.size == numel_of(shape)
        return values.reshape(shape)  # a view: no copy on the baseline's path

    def accumulate(self, payload: Payload, out: np.ndarray) -> None:
        """``out += decode(payload)`` (a dense codec: nothing to save)."""
        out += self.decode(payload, out.shape)

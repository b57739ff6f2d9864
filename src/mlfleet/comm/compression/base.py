"""The gradient-compressor interface and the wire payload it produces.

A compressor turns a float32 gradient into a :class:`Payload`: a few named,
contiguous numpy buffers (values, indices, scales, a seed ...) that are exactly
what goes on the wire. ``Payload.nbytes`` is the sum of their sizes, so a
compression ratio is exact: dense bytes / payload bytes. The layout of a
payload (names, dtypes, lengths) depends only on the compressor's configuration
and the gradient's element count, never on its values, so every rank knows how
many bytes each peer will send before it receives them (what a fixed-size
allgather needs).

Randomness (stochastic rounding, random-k indices) comes in as an explicit
``numpy.random.Generator``; same generator state, same payload, bit for bit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from mlfleet.errors import InputError

DENSE_DTYPE = np.dtype(np.float32)
"""Gradients are float32 on the wire when uncompressed; ratios are relative to it."""


@dataclass(frozen=True)
class Field:
    """One buffer of a payload's layout: its name, element type and length."""

    name: str
    dtype: np.dtype
    count: int

    @property
    def nbytes(self) -> int:
        """Bytes this buffer occupies on the wire."""
        return int(self.dtype.itemsize) * self.count


Layout = tuple[Field, ...]


@dataclass(frozen=True)
class Payload:
    """The wire buffers of one compressed gradient, in layout order."""

    buffers: Mapping[str, np.ndarray]

    @property
    def nbytes(self) -> int:
        """Exact bytes on the wire (the sum of the buffers' sizes)."""
        return sum(int(b.nbytes) for b in self.buffers.values())


@runtime_checkable
class Compressor(Protocol):
    """Encode a float32 gradient into a :class:`Payload`, and decode it back.

    Contract: ``encode(g, rng)`` returns a payload whose buffers match
    ``layout(g.size)`` field for field; ``decode(p, g.shape)`` returns a float32
    array of that shape; ``accumulate(p, out)`` adds that decode into a flat
    ``out``, bit-identically but in O(k) for sparse codecs. ``summable`` says whether payloads of different ranks
    can be added element-wise while compressed (so a ring allreduce can carry
    them); otherwise they must be allgathered and decoded one by one.
    """

    @property
    def name(self) -> str:
        """Registry name, e.g. ``"topk"``."""
        ...

    @property
    def summable(self) -> bool:
        """Whether compressed payloads can be summed directly (allreduce-able)."""
        ...

    def layout(self, numel: int) -> Layout:
        """The payload's buffers for a gradient of ``numel`` elements."""
        ...

    def encode(self, grad: np.ndarray, rng: np.random.Generator) -> Payload:
        """Compress ``grad`` (float32, any shape)."""
        ...

    def decode(self, payload: Payload, shape: tuple[int, ...]) -> np.ndarray:
        """Reconstruct a float32 gradient of ``shape`` from ``payload``."""
        ...

    def accumulate(self, payload: Payload, out: np.ndarray) -> None:
        """``out += decode(payload)`` for a flat float32 ``out``, bit for bit, without
        materialising the dense decode where the codec is sparse (O(k), not O(n))."""
        ...


def as_grad(grad: np.ndarray) -> np.ndarray:
    """``grad`` as a flat, contiguous float32 array; raises InputError on other dtypes."""
    arr = np.asarray(grad)
    if arr.dtype != DENSE_DTYPE:
        raise InputError(f"gradient dtype(={arr.dtype}) must be float32")
    return np.ascontiguousarray(arr).reshape(-1)


def numel_of(shape: tuple[int, ...]) -> int:
    """Number of elements of an array of ``shape``."""
    return int(np.prod(shape, dtype=np.int64))


def payload_nbytes(layout: Layout) -> int:
    """Exact wire bytes of a payload with this layout."""
    return sum(f.nbytes for f in layout)


def compression_ratio(compressor: Compressor, numel: int) -> float:
    """Dense float32 bytes / payload bytes for a gradient of ``numel`` elements."""
    return numel * DENSE_DTYPE.itemsize / payload_nbytes(compressor.layout(numel))


def make_payload(layout: Layout, **buffers: np.ndarray) -> Payload:
    """Build a payload, checking each buffer against its layout field."""
    assert set(buffers) == {f.name for f in layout}, (sorted(buffers), layout)
    ordered = {}
    for f in layout:
        buf = np.ascontiguousarray(buffers[f.name]).reshape(-1)
        assert buf.dtype == f.dtype and buf.size == f.count, (f, buf.dtype, buf.size)
        ordered[f.name] = buf
    return Payload(buffers=ordered)


def pack(payload: Payload) -> np.ndarray:
    """The payload as one contiguous uint8 wire buffer (buffers in layout order)."""
    parts = [b.view(np.uint8) for b in payload.buffers.values()]
    return np.concatenate(parts) if parts else np.zeros(0, np.uint8)


def unpack(wire: np.ndarray, layout: Layout) -> Payload:
    """Split a uint8 wire buffer back into a payload (views, no copy)."""
    assert wire.dtype == np.uint8 and wire.size == payload_nbytes(layout), (wire.size, layout)
    buffers: dict[str, np.ndarray] = {}
    offset = 0
    for f in layout:
        buffers[f.name] = np.frombuffer(wire, dtype=f.dtype, count=f.count, offset=offset)
        offset += f.nbytes
    return Payload(buffers=buffers)

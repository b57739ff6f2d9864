"""Stochastic quantization (QSGD, Alistarh et al. 2017, NeurIPS): unbiased, low-bit.

Per bucket of ``bucket_size`` elements with L2 norm ‖v‖ and s quantization levels:

    u_i = s·|v_i| / ‖v‖ ∈ [0, s],  ℓ_i = ⌊u_i⌋,
    ξ_i = ℓ_i + 1 with probability u_i − ℓ_i, else ℓ_i,
    Q(v_i) = ‖v‖ · sign(v_i) · ξ_i / s.

E[ξ_i] = u_i, so E[Q(v)] = v: the codec is unbiased (tested by averaging many
decodes). Its variance is E‖Q(v) − v‖² = Σ_i (‖v‖/s)² p_i(1 − p_i)
<= min(d/s², √d/s)·‖v‖² for bucket size d (QSGD Lemma 3.1): unbiased is not
free, the noise slows SGD unless s is large or buckets small.

Wire format: one float32 norm per bucket, then the signed level ξ·sign + s of
each element in ``bits`` bits (s = 2**(bits−1) − 1 levels, so 2s+1 codes fit),
packed ``8 // bits`` per byte. QSGD's Elias coding of the levels is left out: a
fixed width keeps the payload size independent of the values.

Error feedback needs a contraction (E‖C(x) − x‖² <= (1 − δ)‖x‖²), and QSGD with
few levels is not one: its variance can exceed ‖x‖² and the residual then
grows without bound (observed: the 4-rank run diverges). ``contractive=True``
sends norms pre-multiplied by 1/(1 + ω), ω = min(d/s², √d/s), which turns the
unbiased codec into a 1/(1 + ω)-contraction (Karimireddy et al. 2019, EF-SGD,
§2) at no wire cost; the registry does this for ``stochastic+ef``.
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
from mlfleet.errors import InputError

ALLOWED_BITS = (2, 4, 8)
"""Code widths that pack a whole number of codes per byte."""


def pack_codes(codes: np.ndarray, bits: int) -> np.ndarray:
    """Pack unsigned codes (each < 2**bits) ``8 // bits`` to a byte, lowest bits first."""
    per_byte = 8 // bits
    padded = np.zeros(-(-codes.size // per_byte) * per_byte, np.uint8)
    padded[: codes.size] = codes
    packed = padded[0::per_byte].copy()
    for j in range(1, per_byte):  # strided passes: much faster than a reduce over a short axis
        packed |= padded[j::per_byte] << np.uint8(j * bits)
    return packed


def unpack_codes(packed: np.ndarray, bits: int, count: int) -> np.ndarray:
    """Inverse of :func:`pack_codes`: the first ``count`` codes as uint8."""
    per_byte = 8 // bits
    mask = np.uint8((1 << bits) - 1)
    out = np.empty(packed.size * per_byte, np.uint8)
    for j in range(per_byte):
        out[j::per_byte] = (packed >> np.uint8(j * bits)) & mask
    return out[:count]


@dataclass(frozen=True, kw_only=True)
class Stochastic:
    """QSGD stochastic quantization with L2-norm buckets."""

    bits: int = 4
    """Bits per element on the wire (2, 4 or 8); levels s = 2**(bits−1) − 1."""
    bucket_size: int = 512
    """Elements sharing one float32 norm (QSGD used 512 in its experiments)."""
    contractive: bool = False
    """Scale by 1/(1 + ω): biased but contractive, as error feedback needs."""
    name: str = "stochastic"
    summable: bool = False

    def __post_init__(self) -> None:
        if self.bits not in ALLOWED_BITS:
            raise InputError(f"bits(={self.bits}) must be one of {ALLOWED_BITS}")
        if self.bucket_size < 1:
            raise InputError(f"bucket_size(={self.bucket_size}) must be >= 1")

    @property
    def levels(self) -> int:
        """s, the number of positive quantization levels."""
        return int(2 ** (self.bits - 1) - 1)

    @property
    def variance_bound(self) -> float:
        """ω = min(d/s², √d/s): E‖Q(v) − v‖² <= ω‖v‖² (QSGD Lemma 3.1)."""
        d, s = self.bucket_size, self.levels
        return float(min(d / s**2, d**0.5 / s))

    def layout(self, numel: int) -> Layout:
        """Bucket norms (float32), then packed codes (uint8)."""
        n_buckets = -(-numel // self.bucket_size)
        n_bytes = -(-numel * self.bits // 8)
        return (Field("norms", DENSE_DTYPE, n_buckets), Field("codes", np.dtype(np.uint8), n_bytes))

    def encode(self, grad: np.ndarray, rng: np.random.Generator) -> Payload:
        """Quantize each element stochastically to one of 2s+1 levels of its bucket's norm."""
        g = as_grad(grad)
        blocks = self._blocks(g)  # (n_buckets, bucket_size), zero padded
        norms = np.sqrt(np.einsum("ij,ij->i", blocks, blocks)).astype(DENSE_DTYPE)
        s = self.levels
        level = np.abs(blocks)
        level *= (s / np.where(norms > 0, norms, 1.0))[:, None]  # u = s|v|/‖v‖ in [0, s]
        # ξ = ⌊u + U⌋, U ~ Uniform[0, 1), is ⌊u⌋ + 1 with probability u − ⌊u⌋: one pass.
        level += rng.random(level.shape, dtype=np.float32)
        np.floor(level, out=level)
        np.minimum(level, s, out=level)  # u may exceed s by an ulp when one element holds the norm
        np.copysign(level, blocks, out=level)
        level += s
        codes = level.astype(np.uint8).reshape(-1)[: g.size]
        if self.contractive:
            norms = norms * np.float32(1.0 / (1.0 + self.variance_bound))
        return make_payload(self.layout(g.size), norms=norms, codes=pack_codes(codes, self.bits))

    def decode(self, payload: Payload, shape: tuple[int, ...]) -> np.ndarray:
        """‖v‖ · (code − s) / s per element."""
        numel = numel_of(shape)
        codes = unpack_codes(payload.buffers["codes"], self.bits, numel)
        signed = codes.astype(DENSE_DTYPE) - self.levels
        step = np.repeat(payload.buffers["norms"] / np.float32(self.levels), self.bucket_size)
        return (signed * step[:numel]).reshape(shape)

    def accumulate(self, payload: Payload, out: np.ndarray) -> None:
        """``out += decode(payload)`` (a dense codec: nothing to save)."""
        out += self.decode(payload, out.shape)

    def _blocks(self, g: np.ndarray) -> np.ndarray:
        n_buckets = -(-g.size // self.bucket_size)
        padded = np.zeros(n_buckets * self.bucket_size, DENSE_DTYPE)
        padded[: g.size] = g
        return padded.reshape(n_buckets, self.bucket_size)

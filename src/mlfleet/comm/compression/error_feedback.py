"""Error feedback (error compensation): remember what compression dropped, send it later.

Each rank keeps a residual e (starting at 0) and, for every gradient g:

    c_t = g_t + e_{t−1};   payload_t = C(c_t);   e_t = c_t − D(payload_t)

so nothing is lost, only delayed; summing over steps telescopes to
Σ_t D(payload_t) + e_T = Σ_t g_t (tested as a property). Introduced for 1-bit
SGD (Seide et al. 2014, Interspeech); analysed for contractive compressors by
Stich, Cordonnier & Jaggi 2018 (sparsified SGD with memory) and Karimireddy et
al. 2019 (EF-SGD, ICML), who show it fixes the bias of top-k / sign
compressors; Deep Gradient Compression (Lin et al. 2018) calls it local
gradient accumulation. EF-SGD stores the residual of the learning-rate-scaled
step; with a constant learning rate the two are the same.

The wrapper is stateful (one residual per rank), so each rank builds its own.
"""

from __future__ import annotations

import numpy as np

from mlfleet.comm.compression.base import Compressor, Layout, Payload, as_grad
from mlfleet.errors import InputError


class ErrorFeedback:
    """Wrap a compressor with a per-rank residual memory."""

    def __init__(self, inner: Compressor) -> None:
        self.inner = inner
        self._residual: np.ndarray | None = None

    @property
    def name(self) -> str:
        """The inner codec's name with ``+ef``."""
        return f"{self.inner.name}+ef"

    @property
    def summable(self) -> bool:
        """As the inner codec."""
        return self.inner.summable

    @property
    def residual(self) -> np.ndarray | None:
        """e_t, flat float32 (None before the first encode)."""
        return self._residual

    def layout(self, numel: int) -> Layout:
        """The inner codec's layout: error feedback costs no wire bytes."""
        return self.inner.layout(numel)

    def encode(self, grad: np.ndarray, rng: np.random.Generator) -> Payload:
        """Compress g + e and keep what the codec dropped as the new e."""
        g = as_grad(grad)
        if self._residual is None:
            self._residual = np.zeros_like(g)
        if self._residual.size != g.size:
            raise InputError(
                f"gradient size(={g.size}) changed; residual has {self._residual.size}"
            )
        corrected = g + self._residual
        payload = self.inner.encode(corrected, rng)
        self._residual = corrected - self.inner.decode(payload, corrected.shape)
        return payload

    def decode(self, payload: Payload, shape: tuple[int, ...]) -> np.ndarray:
        """The inner codec's decode (receivers need no state)."""
        return self.inner.decode(payload, shape)

    def accumulate(self, payload: Payload, out: np.ndarray) -> None:
        """The inner codec's accumulate."""
        self.inner.accumulate(payload, out)

    def reset(self) -> None:
        """Forget the residual."""
        self._residual = None

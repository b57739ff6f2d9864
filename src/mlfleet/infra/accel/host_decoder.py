"""A minimal Llama-shaped decoder in numpy (float32, random weights): the steps the host
probe times so the probe → calibrate → predict path has step points on a machine without a GPU.

Per layer, as Llama does (Touvron et al. 2023): RMSNorm, one fused QKV GEMM, grouped-query
attention over the KV cache (causal within the prompt for prefill), the output projection, a
residual add, RMSNorm, a fused gate/up GEMM, SiLU·up and the down GEMM, a residual add. The
embedding is a gather of the looked-up rows; the LM head runs on each sequence's last token
only (serving, not training). RoPE is left out: an elementwise op, a small share of the step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.infra.accel.probe import StepShape

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True, kw_only=True)
class DecoderWeights:
    """Random weights of one decoder; per-layer matrices stacked on axis 0."""

    shape: StepShape
    embed: F32       # (V, d)
    w_qkv: F32       # (L, d, (H + 2·KV)·hd)
    w_o: F32         # (L, H·hd, d)
    w_gate_up: F32   # (L, d, 2·d_ff)
    w_down: F32      # (L, d_ff, d)
    lm_head: F32     # (d, V)


def random_weights(shape: StepShape, rng: np.random.Generator) -> DecoderWeights:
    """Weights drawn from N(0, 1/fan_in) so activations stay O(1) through the layers."""
    d, hd = shape.d_model, shape.d_model // shape.n_heads
    qkv = (shape.n_heads + 2 * shape.n_kv_heads) * hd

    def mat(*dims: int) -> F32:
        return np.asarray(rng.standard_normal(dims, dtype=np.float32) / np.sqrt(dims[-2]),
                          dtype=np.float32)

    layers = shape.n_layers
    return DecoderWeights(shape=shape, embed=rng.standard_normal((shape.vocab, d),
                                                                 dtype=np.float32),
                          w_qkv=mat(layers, d, qkv), w_o=mat(layers, shape.n_heads * hd, d),
                          w_gate_up=mat(layers, d, 2 * shape.d_ff),
                          w_down=mat(layers, shape.d_ff, d), lm_head=mat(d, shape.vocab))


def _rms_norm(x: F32) -> F32:
    return np.asarray(x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + 1e-6),
                      dtype=np.float32)


def _softmax(s: F32) -> F32:
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return np.asarray(e / e.sum(axis=-1, keepdims=True), dtype=np.float32)


def _attention(q: F32, k: F32, v: F32, *, causal: bool) -> F32:
    """q (B, KV, G, Tq, hd), k/v (B, KV, 1, Tk, hd) -> (B, KV, G, Tq, hd)."""
    scores = q @ np.swapaxes(k, -1, -2) / np.float32(np.sqrt(q.shape[-1]))
    if causal:
        t = scores.shape[-1]
        scores = np.where(np.tril(np.ones((t, t), dtype=bool)), scores, np.float32(-1e30))
    return np.asarray(_softmax(scores) @ v, dtype=np.float32)


def _layer(w: DecoderWeights, i: int, x: F32, k_cache: F32, v_cache: F32, causal: bool) -> F32:
    """One layer on x (B, T, d) with the layer's cached keys/values (B, KV, 1, C, hd)."""
    s = w.shape
    b, t, _ = x.shape
    hd, kv, g = s.d_model // s.n_heads, s.n_kv_heads, s.n_heads // s.n_kv_heads
    qkv = _rms_norm(x) @ w.w_qkv[i]                                   # (B, T, (H+2KV)·hd)
    q = qkv[..., : s.n_heads * hd].reshape(b, t, kv, g, hd).transpose(0, 2, 3, 1, 4)
    k_new, v_new = (qkv[..., s.n_heads * hd + j * kv * hd: s.n_heads * hd + (j + 1) * kv * hd]
                    .reshape(b, t, kv, 1, hd).transpose(0, 2, 3, 1, 4) for j in (0, 1))
    keys = np.concatenate([k_cache, k_new], axis=3) if k_cache.shape[3] else k_new
    values = np.concatenate([v_cache, v_new], axis=3) if v_cache.shape[3] else v_new
    att = _attention(q, keys, values, causal=causal)                  # (B, KV, G, T, hd)
    x = x + att.transpose(0, 3, 1, 2, 4).reshape(b, t, s.n_heads * hd) @ w.w_o[i]
    gate, up = np.split(_rms_norm(x) @ w.w_gate_up[i], 2, axis=-1)    # (B, T, d_ff) each
    return np.asarray(x + (gate / (1.0 + np.exp(-gate)) * up) @ w.w_down[i], dtype=np.float32)


def _forward(w: DecoderWeights, tokens: npt.NDArray[np.int64], cache: tuple[F32, F32],
             causal: bool) -> npt.NDArray[np.int64]:
    x = w.embed[tokens]                                               # (B, T, d): a gather
    for i in range(w.shape.n_layers):
        x = _layer(w, i, x, cache[0][i], cache[1][i], causal)
    logits = _rms_norm(x[:, -1, :]) @ w.lm_head                       # last token only
    return np.asarray(np.argmax(logits, axis=-1))


def step_kernel(w: DecoderWeights, *, phase: str, batch: int, tokens: int,
                rng: np.random.Generator) -> Callable[[], object]:
    """A no-argument callable running one decode step (``tokens`` cached per sequence) or
    one prefill (``tokens`` prompt tokens per sequence) of ``batch`` sequences."""
    s = w.shape
    hd = s.d_model // s.n_heads
    cached = tokens if phase == "decode" else 0
    cache = tuple(rng.standard_normal((s.n_layers, batch, s.n_kv_heads, 1, cached, hd),
                                      dtype=np.float32) for _ in range(2))
    new = 1 if phase == "decode" else tokens
    ids = rng.integers(0, s.vocab, size=(batch, new))
    return lambda: _forward(w, ids, (cache[0], cache[1]), phase == "prefill")

"""Does a serving step fit its replica? Weights + KV cache + activations per GPU of a
tp × pp replica against the GPU's memory, and the smallest tensor parallelism that fits.

Per GPU (formulas and sources in :mod:`mlfleet.infra.memory_fit`):

    weights     = N·b_w·⌈L/pp⌉/L / tp                 (:attr:`LlmStepModel.weight_bytes_per_gpu`)
    kv_cache    = K·2·⌈L/pp⌉·⌈n_kv/tp⌉·Q·b_kv         (K tokens cached after the step)
    activations = (T/m)·17·b_a·d / tp                 (one layer of one micro-batch)

with T new tokens and m micro-batches. The smallest TP is searched over the divisors of
the attention heads (the split :class:`LlmStepModel` allows), pp held fixed.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt

from mlfleet.checks import FloatArray
from mlfleet.infra import memory_fit as mf
from mlfleet.serving.models.llm_step import LlmStepModel


def _need_bytes(model: LlmStepModel, tokens: FloatArray, cached: FloatArray,
                microbatches: FloatArray) -> tuple[float, FloatArray, FloatArray]:
    """(weights, KV cache, activations) per GPU."""
    act = mf.ACTIVATION_BYTES_PER_LAYER_TOKEN_DIM * model.act_bytes_per_element \
        * model.shape.d_model * tokens / microbatches / model.tp
    return (model.weight_bytes_per_gpu, cached * model.kv_bytes_per_token_per_gpu,
            np.asarray(act, dtype=np.float64))


def smallest_fitting_tp(model: LlmStepModel, *, tokens: FloatArray, cached: FloatArray,
                        microbatches: FloatArray, device_bytes: float | FloatArray) -> FloatArray:
    """Smallest tp dividing the heads whose replica fits each point; NaN where none does."""
    heads = model.shape.n_heads
    best = np.full(np.broadcast_shapes(tokens.shape, cached.shape, microbatches.shape), np.nan)
    for tp in sorted((d for d in range(1, heads + 1) if heads % d == 0), reverse=True):
        w, kv, act = _need_bytes(dataclasses.replace(model, tp=tp), tokens, cached, microbatches)
        best = np.where(w + kv + act <= device_bytes, float(tp), best)
    return np.asarray(best, dtype=np.float64)


def step_memory(model: LlmStepModel, *, decode_seqs: npt.ArrayLike = 0,
                decode_context_tokens: npt.ArrayLike = 0, prefill_tokens: npt.ArrayLike = 0,
                microbatches: npt.ArrayLike = 1) -> mf.MemoryFit | None:
    """The memory fit of :meth:`LlmStepModel.iteration` with the same counts; None when the
    device's memory is unknown (a custom :class:`~mlfleet.infra.roofline.Device`).

    ``decode_context_tokens`` is the total over the decoding sequences, as in
    :meth:`~LlmStepModel.iteration`; ``smallest_fit`` is the smallest tp that fits.
    """
    device_bytes = model.device.hbm_bytes
    if device_bytes is None:
        return None
    d, ctx, p, m = (np.asarray(v, dtype=np.float64)
                    for v in (decode_seqs, decode_context_tokens, prefill_tokens, microbatches))
    tokens, cached = d + p, ctx + d + p
    weights, kv, act = _need_bytes(model, tokens, cached, m)
    zero = np.zeros(np.broadcast_shapes(kv.shape, act.shape))
    return mf.MemoryFit(
        weight_bytes=zero + weights, optimizer_bytes=zero, kv_cache_bytes=zero + kv,
        activation_bytes=zero + act, device_bytes=float(device_bytes),
        smallest_fit=smallest_fitting_tp(model, tokens=tokens, cached=cached, microbatches=m,
                                         device_bytes=float(device_bytes)))

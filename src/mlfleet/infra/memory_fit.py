"""Does a step fit on its GPUs? Weights, optimizer state, KV cache and activations per GPU
against the device's memory.

A roofline time is only a prediction when the step's working set fits: 405B parameters
at bf16 (812 GB) do not fit one 80 GB GPU, however fast it would read them. Per GPU,
with the step split evenly over ``n`` GPUs and ``b`` bytes per parameter:

    weights     = N·b / n
    optimizer   = N·(b + 12) / n        (train: gradients at b bytes plus fp32 master
                                         weights, momentum and variance, 12 bytes;
                                         Rajbhandari et al. 2020, "ZeRO", §3.1: 16Ψ at b=2)
    kv_cache    = tokens·2·L·n_kv·Q·b / n   (prefill: B·S tokens; decode: B·(ctx+1);
                                         Pope et al. 2022, §2)
    activations = 17·b_a·d·T / n per layer held
                                        (Korthikanti et al. 2022, "Reducing Activation
                                         Recomputation in Large Transformer Models", eq. 1:
                                         34·s·b·h bytes per layer at 2-byte elements, the
                                         5·a·s/h attention-score term dropped for fused
                                         attention). Inference holds one layer.

Training holds all L layers of one micro-batch on every data-parallel GPU, or only each
layer's input (2·s·b·h) with full recomputation. Gradient accumulation lets the micro-batch
shrink to one sequence, so the check counts one sequence: ``fits`` False means not even
that fits, and the fewest GPUs is ⌈(weights + optimizer) / (device - activations)⌉.

``b_a`` is at least 2 bytes (fp8/int8 serving keeps activations in 16 bits). Device memory
is the whole HBM: the engine's own reserve (vLLM's ``gpu_memory_utilization``) is the KV
model's business (:mod:`mlfleet.serving.models.kv_cache`). At inference every term divides
by ``n``, so the fewest GPUs that fit is ⌈need(1) / device⌉ (a lower bound: a real split
also needs the heads and layers to divide).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mlfleet import units
from mlfleet.checks import FloatArray
from mlfleet.errors import ConstraintViolation
from mlfleet.infra.roofline import TransformerShape

ADAM_STATE_BYTES_PER_PARAM = 12.0
"""fp32 master weights, momentum and variance (Rajbhandari et al. 2020, §3.1)."""

ACTIVATION_BYTES_PER_LAYER_TOKEN_DIM = 17.0
"""Korthikanti et al. 2022 eq. 1: 34·s·b·h bytes per layer at 2-byte elements = 17 elements
of activations per token per hidden unit (fused attention: no s² score term)."""


@dataclass(frozen=True, kw_only=True)
class MemoryFit:
    """What one GPU holds for a step, against its memory; arrays broadcast to the sweep."""

    weight_bytes: FloatArray
    """Weights one GPU holds."""
    optimizer_bytes: FloatArray
    """Gradients and optimizer state one GPU holds (training; else 0)."""
    kv_cache_bytes: FloatArray
    """KV cache one GPU holds (inference; else 0)."""
    activation_bytes: FloatArray
    """Activations one GPU holds at the step's peak."""
    device_bytes: float
    """Memory of one GPU."""
    smallest_fit: FloatArray
    """Fewest GPUs (or the smallest split the caller searched, e.g. TP) that fit; NaN if none."""

    @property
    def need_bytes(self) -> FloatArray:
        """Weights + optimizer state + KV cache + activations per GPU."""
        return np.asarray(self.weight_bytes + self.optimizer_bytes + self.kv_cache_bytes
                          + self.activation_bytes, dtype=np.float64)

    @property
    def fits(self) -> npt.NDArray[np.bool_]:
        """Whether the step's working set fits the device's memory."""
        return np.asarray(self.need_bytes <= self.device_bytes)

    @property
    def shortfall_bytes(self) -> FloatArray:
        """Bytes missing per GPU (0 when it fits)."""
        return np.asarray(np.maximum(self.need_bytes - self.device_bytes, 0.0))

    def rows(self, *, smallest_key: str = "min_gpus_to_fit") -> list[dict[str, Any]]:
        """One plain dict per sweep point (C order); ``smallest_key`` names the split searched."""
        columns = {"fits": self.fits, "need_bytes": self.need_bytes,
                   "device_bytes": np.asarray(self.device_bytes),
                   "shortfall_bytes": self.shortfall_bytes, "weight_bytes": self.weight_bytes,
                   "optimizer_bytes": self.optimizer_bytes, "kv_cache_bytes": self.kv_cache_bytes,
                   "activation_bytes": self.activation_bytes, smallest_key: self.smallest_fit}
        shape = np.broadcast_shapes(*(np.shape(v) for v in columns.values()))
        flat = {k: np.ravel(np.broadcast_to(v, shape)) for k, v in columns.items()}
        return [{k: _plain(k, v[i], smallest_key) for k, v in flat.items()}
                for i in range(int(np.prod(shape)))]


def _plain(key: str, value: Any, smallest_key: str) -> Any:
    item = value.item()
    if key == smallest_key:
        return None if np.isnan(item) else int(item)
    return item


def activation_element_bytes(bytes_per_param: float) -> float:
    """Activations stay in 16 bits when weights are 8-bit (fp8/int8 serving)."""
    return max(float(bytes_per_param), 2.0)


def fewest_gpus(split_bytes: npt.ArrayLike, device_bytes: float,
                unsplit_bytes: npt.ArrayLike = 0.0) -> FloatArray:
    """Fewest n with split/n + unsplit <= device: ⌈split / (device - unsplit)⌉; NaN when the
    unsplit part alone exceeds the device."""
    room = device_bytes - np.asarray(unsplit_bytes, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        n = np.maximum(np.ceil(np.asarray(split_bytes, dtype=np.float64) / room), 1.0)
    return np.asarray(np.where(room > 0, n, np.nan))


def even_split_fit(*, weight_bytes: npt.ArrayLike, optimizer_bytes: npt.ArrayLike = 0.0,
                   kv_cache_bytes: npt.ArrayLike = 0.0, activation_bytes: npt.ArrayLike = 0.0,
                   activations_split: bool = True, n_gpus: npt.ArrayLike,
                   device_bytes: float) -> MemoryFit:
    """The fit of a step whose whole-step bytes (given on one GPU) split evenly over
    ``n_gpus``; with ``activations_split`` False every GPU holds all ``activation_bytes``
    (data parallelism cannot split a sequence)."""
    n = np.asarray(n_gpus, dtype=np.float64)
    w, o, kv, act = (np.asarray(t, dtype=np.float64)
                     for t in (weight_bytes, optimizer_bytes, kv_cache_bytes, activation_bytes))
    split, unsplit = (w + o + kv + act, 0.0) if activations_split else (w + o + kv, act)
    return MemoryFit(weight_bytes=w / n, optimizer_bytes=o / n, kv_cache_bytes=kv / n,
                     activation_bytes=act / n if activations_split else act + 0.0 * n,
                     device_bytes=float(device_bytes),
                     smallest_fit=fewest_gpus(split, device_bytes, unsplit))


def llm_memory(phase: str, shape: TransformerShape, *, batch: npt.ArrayLike,
               seq_len: npt.ArrayLike, n_gpus: npt.ArrayLike, bytes_per_param: float,
               device_bytes: float, recompute: bool = False) -> MemoryFit:
    """Memory per GPU of the step :func:`~mlfleet.infra.roofline.llm_cost` times (same
    arguments): ``batch`` sequences of ``seq_len`` (train, prefill), or ``batch`` sequences
    decoding with ``seq_len`` cached tokens (decode). Formulas in the module docstring."""
    b = np.asarray(batch, dtype=np.float64)
    s = np.asarray(seq_len, dtype=np.float64)
    act_b = activation_element_bytes(bytes_per_param)
    per_layer = ACTIVATION_BYTES_PER_LAYER_TOKEN_DIM * act_b * shape.d_model  # per token
    weights = shape.params * bytes_per_param
    if phase == "train":  # one sequence's activations: the micro-batch can always be one
        held = shape.d_model * act_b if recompute else per_layer  # per token per layer
        return even_split_fit(
            weight_bytes=weights + 0.0 * b,
            optimizer_bytes=shape.params * (bytes_per_param + ADAM_STATE_BYTES_PER_PARAM),
            activation_bytes=s * shape.n_layers * held, activations_split=False,
            n_gpus=n_gpus, device_bytes=device_bytes)
    tokens_cached = b * (s + 1.0) if phase == "decode" else b * s
    tokens_in_step = b if phase == "decode" else b * s
    return even_split_fit(
        weight_bytes=weights, kv_cache_bytes=tokens_cached * shape.kv_bytes_per_token(
            bytes_per_param), activation_bytes=tokens_in_step * per_layer, n_gpus=n_gpus,
        device_bytes=device_bytes)


def refuse_unfit(rows: list[dict[str, Any]], *, device: str, split: str,
                 smallest_key: str = "min_gpus_to_fit") -> str | None:
    """Check the ``fits`` of a command's rows (merged from :meth:`MemoryFit.rows`), after
    the prediction was printed: ConstraintViolation (exit 3) when no point fits, since no
    time printed is achievable on that device; the same sentence as a warning to print
    when only some points of a sweep do not fit; None when every point fits."""
    unfit = [r for r in rows if r.get("fits") is False]
    if not unfit:
        return None
    bad, smallest = unfit[0], unfit[0][smallest_key]
    fix = (f"the smallest {split} that fits is {smallest}" if smallest is not None
           else f"no {split} fits")
    message = (f"does not fit: {len(unfit)} of {len(rows)} point(s) need more memory than "
               f"{device} has, e.g. {units.format_bytes(bad['need_bytes'])} per GPU against "
               f"{units.format_bytes(bad['device_bytes'])} "
               f"({units.format_bytes(bad['shortfall_bytes'])} short); {fix}")
    if len(unfit) == len(rows):
        raise ConstraintViolation(message)
    return message

"""Memory-bandwidth utilisation by model type, from the roofline (``mlfleet.infra.roofline``).

Fidelity: model. A step with ``flop`` and ``mem_bytes`` on a chip of peak ``P`` and
bandwidth ``B`` runs, on the roofline, for ``time_s = max(flop/P, mem_bytes/B)``; the share
of the chip's bandwidth it keeps busy is

    bandwidth_utilisation = (mem_bytes / B) / time_s = min(1, ridge / intensity)

with ``intensity = flop / mem_bytes`` and ``ridge = P / B``; the compute share is
``min(1, intensity / ridge)``. The four model types of the spec:

* ``llm-train``        - a dense LLM training step (catalog LLM, ``batch`` sequences of its
  context length): :func:`~mlfleet.infra.roofline.llm_training_step`.
* ``llm-decode``       - one decode step of ``batch`` sequences at the model's context
  (weights and KV cache read every step; Pope et al. 2022).
* ``cnn-conv``         - a ResNet-50 conv3_x 3x3 convolution (128 -> 128 channels at
  28x28; He et al., CVPR 2016, Table 1): 2·(batch·28·28)·128·(128·9) FLOP; compulsory
  bytes = input and output activations (batch·28·28·128 each) + weights (128·128·9), as
  an implicit GEMM reads them (no im2col copy).
* ``recsys-embedding`` - DLRM embedding-bag lookups: per sample the catalog's
  ``shape.lookups_per_sample`` rows of ``shape.embedding_dim`` read, summed into
  ``shape.tables`` pooled vectors written (one add per element read).

Roofline bytes are compulsory traffic, so these are upper bounds on what real kernels
reach; the roofline itself is validated on this host in docs/validation.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mlfleet.catalog.types import Workload
from mlfleet.checks import one_of, positive_int
from mlfleet.infra import roofline as rl

MODEL_TYPES = ("llm-train", "llm-decode", "cnn-conv", "recsys-embedding")
"""Model types with a bandwidth-use row."""

DEFAULT_BATCH: dict[str, tuple[int, ...]] = {
    "llm-train": (8,), "llm-decode": (1, 64), "cnn-conv": (32,), "recsys-embedding": (4096,),
}
"""Batches the default table shows per model type."""

_RESNET_CONV3 = (28 * 28, 128, 128 * 9)  # (pixels, channels in = out, GEMM k = channels x 3 x 3)


@dataclass(frozen=True, kw_only=True)
class BandwidthUse:
    """One model type's step on one chip, on the roofline."""

    model_type: str
    workload: str
    accelerator: str
    precision: str
    batch: int
    arithmetic_intensity: float
    """FLOP per byte of memory traffic."""
    ridge_flop_per_byte: float
    bound: str
    """'compute' or 'memory'."""
    bandwidth_utilisation: float
    """Fraction of peak memory bandwidth the step keeps busy."""
    compute_utilisation: float
    """Fraction of peak FLOP/s (the roofline MFU of the step)."""
    time_s: float


def _llm(phase: str, workload: str) -> Callable[[int, float], rl.OpCost]:
    def cost(batch: int, bytes_per_element: float) -> rl.OpCost:
        shape = rl.TransformerShape.from_workload(workload)
        assert shape.seq_len is not None, f"{workload} has no shape.seq_len"
        return rl.llm_cost(phase, shape, batch=batch, seq_len=shape.seq_len,
                           bytes_per_param=bytes_per_element)
    return cost


def _conv(batch: int, bytes_per_element: float) -> rl.OpCost:
    pixels, channels, k = _RESNET_CONV3
    flop = np.asarray(2.0 * batch * pixels * channels * k)
    elements = 2 * batch * pixels * channels + k * channels  # in + out activations, weights
    return rl.OpCost(flop=flop, model_flop=flop, mem_bytes=np.asarray(elements * bytes_per_element))


def _embedding(workload: str) -> Callable[[int, float], rl.OpCost]:
    def cost(batch: int, bytes_per_element: float) -> rl.OpCost:
        shape = Workload.from_name(workload).shape
        read = batch * shape["lookups_per_sample"] * shape["embedding_dim"]
        written = batch * shape["tables"] * shape["embedding_dim"]
        flop = np.asarray(float(read))
        return rl.OpCost(flop=flop, model_flop=flop,
                         mem_bytes=np.asarray((read + written) * bytes_per_element))
    return cost


_WORKLOAD = {"llm-train": "Llama-3-8B", "llm-decode": "Llama-3-8B", "cnn-conv": "ResNet-50",
             "recsys-embedding": "DLRM-DCNv2"}


def _builder(model_type: str) -> Callable[[int, float], rl.OpCost]:
    builders: dict[str, Callable[[int, float], rl.OpCost]] = {
        "llm-train": _llm("train", _WORKLOAD["llm-train"]),
        "llm-decode": _llm("decode", _WORKLOAD["llm-decode"]),
        "cnn-conv": _conv, "recsys-embedding": _embedding(_WORKLOAD["recsys-embedding"])}
    return builders[model_type]


def bandwidth_use(model_type: str, *, accelerator: str, precision: str = "bf16",
                  batch: int) -> BandwidthUse:
    """Roofline bandwidth and compute utilisation of one step (module docstring).

    Raises InputError for an unknown model type or a batch below 1, CatalogError for an
    unknown accelerator or a precision it does not define.
    """
    one_of("model_type", model_type, MODEL_TYPES)
    positive_int("batch", batch)
    device = rl.Device.from_accelerator(accelerator, precision)
    cost = _builder(model_type)(batch, device.bytes_per_element)
    res = rl.predict(cost, device)
    time_s = float(res.time_s)
    return BandwidthUse(
        model_type=model_type, workload=_WORKLOAD[model_type], accelerator=device.name,
        precision=precision, batch=batch,
        arithmetic_intensity=float(res.arithmetic_intensity),
        ridge_flop_per_byte=device.ridge_point_flop_per_byte,
        bound=str(res.bound), bandwidth_utilisation=float(res.memory_s) / time_s,
        compute_utilisation=float(res.compute_s) / time_s, time_s=time_s)


def bandwidth_table(*, accelerator: str, precision: str = "bf16") -> list[BandwidthUse]:
    """Every model type at its :data:`DEFAULT_BATCH` sizes on one chip."""
    return [bandwidth_use(t, accelerator=accelerator, precision=precision, batch=b)
            for t in MODEL_TYPES for b in DEFAULT_BATCH[t]]

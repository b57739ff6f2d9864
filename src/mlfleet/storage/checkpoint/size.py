"""Checkpoint bytes of a model: weights at their precision plus the optimizer state.

What is counted for mixed-precision training with Adam (Rajbhandari et al., "ZeRO:
Memory Optimizations Toward Training Trillion Parameter Models", SC'20, Sec. 3.1:
2 + 2 + 12 bytes per parameter of which the checkpoint keeps all but the gradients):

* the weights at the training precision (2 B for bf16/fp16, 4 B for fp32);
* fp32 master weights when the training precision is narrower than fp32 (4 B);
* Adam's first and second moments, fp32 (4 B + 4 B); SGD with momentum keeps one (4 B).

Gradients, activations and the data-loader state are not counted: they are rebuilt or tiny.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet.catalog.types import Workload
from mlfleet.checks import non_negative, one_of

from .errors import CheckpointError

PRECISION_BYTES: dict[str, int] = {"fp32": 4, "bf16": 2, "fp16": 2, "fp8": 1, "int8": 1}
"""Bytes per weight at each precision the store sizes."""
OPTIMIZER_MOMENTS: dict[str, int] = {"adam": 2, "adamw": 2, "adagrad": 1, "sgd-momentum": 1,
                                     "sgd": 0, "none": 0}
"""fp32 moment tensors per parameter each optimizer keeps."""
FP32_BYTES = 4


@dataclass(frozen=True, kw_only=True)
class CheckpointSize:
    """Bytes one full checkpoint of a model holds, and what was counted."""

    params: float
    """Parameters counted."""
    params_bytes: float
    """Weights at the training precision."""
    optimizer_bytes: float
    """fp32 master weights (if the precision is narrower than fp32) plus optimizer moments."""
    precision: str
    optimizer: str
    counted: str
    """What the optimizer bytes are, in words (e.g. 'fp32 master weights, Adam m and v')."""

    @property
    def total_bytes(self) -> float:
        return self.params_bytes + self.optimizer_bytes

    @property
    def bytes_per_param(self) -> float:
        return self.total_bytes / self.params if self.params else 0.0

    @property
    def tensors_per_param(self) -> int:
        """Tensors holding each parameter's state: weights, master copy, optimizer moments."""
        return round(1 + self.optimizer_bytes / (FP32_BYTES * self.params)) if self.params else 1

    def as_dict(self) -> dict[str, float | str]:
        return {"params": self.params, "params_bytes": self.params_bytes,
                "optimizer_bytes": self.optimizer_bytes, "total_bytes": self.total_bytes,
                "bytes_per_param": self.bytes_per_param, "precision": self.precision,
                "optimizer": self.optimizer, "counted": self.counted}


def checkpoint_bytes_for_params(params: float, *, precision: str = "bf16",
                                optimizer: str = "adam") -> CheckpointSize:
    """Checkpoint size of ``params`` parameters (ZeRO, SC'20, Sec. 3.1); see the module doc.

    Raises CheckpointError for a negative count or an unknown precision/optimizer.
    """
    params = non_negative("params", params, error=CheckpointError)
    precision = one_of("precision", precision, PRECISION_BYTES, error=CheckpointError)
    optimizer = one_of("optimizer", optimizer, OPTIMIZER_MOMENTS, error=CheckpointError)
    weight_b = PRECISION_BYTES[precision]
    master = weight_b < FP32_BYTES and OPTIMIZER_MOMENTS[optimizer] > 0
    per_param_opt = FP32_BYTES * (OPTIMIZER_MOMENTS[optimizer] + (1 if master else 0))
    return CheckpointSize(params=params, params_bytes=params * weight_b,
                          optimizer_bytes=params * per_param_opt, precision=precision,
                          optimizer=optimizer, counted=_counted(master, optimizer))


def _counted(master: bool, optimizer: str) -> str:
    parts = ["fp32 master weights"] if master else []
    moments = OPTIMIZER_MOMENTS[optimizer]
    if moments == 2:
        parts.append(f"{optimizer} m and v (fp32)")
    elif moments == 1:
        parts.append(f"{optimizer} state (fp32, one per parameter)")
    return ", ".join(parts) or "weights only"


def checkpoint_bytes(workload: Workload, *, precision: str = "bf16",
                     optimizer: str = "adam") -> CheckpointSize:
    """Checkpoint size of a catalog workload (all its parameters, MoE experts included)."""
    return checkpoint_bytes_for_params(workload.params, precision=precision, optimizer=optimizer)

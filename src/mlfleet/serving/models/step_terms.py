"""The predicted time of one serving step and its terms (:mod:`mlfleet.serving.models.llm_step`).

On the kernel path :meth:`StepTime.rows` reports the kernel step's bound (compute, memory,
kernel floors, communication or host) and terms; the ``bound`` attribute keeps the legacy
names (kernel floors and host count as overhead)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mlfleet.checks import FloatArray
from mlfleet.infra.accel.step import StepBreakdown


@dataclass(frozen=True, kw_only=True)
class StepTime:
    """Predicted time of one serving step; every field is broadcast to the sweep's shape."""

    time_s: FloatArray
    """Wall time of the step: max(compute, memory) + comm + overhead."""
    compute_s: FloatArray
    """FLOP / (peak · efficiency) along the critical path (m + pp - 1 stage passes)."""
    memory_s: FloatArray
    """HBM bytes / (bandwidth · efficiency) along the critical path."""
    comm_s: FloatArray
    """TP AllReduces along the critical path plus PP stage-to-stage sends."""
    overhead_s: FloatArray
    """Fixed per-step overhead."""
    bubble_fraction: FloatArray
    """Share of the critical path spent filling and draining the pipeline: (pp-1)/(m+pp-1)."""
    bound: npt.NDArray[np.str_]
    """Binding resource: compute, memory, communication or overhead."""
    tokens: FloatArray
    """New tokens the step processes (prompt tokens + decoding sequences)."""
    flop_per_gpu: FloatArray
    """FLOP one GPU executes in the step (all its micro-batches)."""
    mem_bytes_per_gpu: FloatArray
    """HBM bytes one GPU moves in the step (weights re-read per micro-batch)."""
    mfu: FloatArray
    """flop_per_gpu / (time_s · peak)."""
    kernels: StepBreakdown | None = None
    """The kernel path's terms for one micro-batch on the busiest stage (kernel floors,
    host, sync, kernel count); None on the legacy path."""

    @property
    def tokens_per_s(self) -> FloatArray:
        """New tokens per second of the replica while it runs such steps back to back."""
        return np.asarray(self.tokens / self.time_s, dtype=np.float64)

    def rows(self) -> list[dict[str, Any]]:
        """One plain dict per sweep point (C order), for tables and JSON."""
        names = ("time_s", "bound", "compute_s", "memory_s", "comm_s", "overhead_s",
                 "bubble_fraction", "tokens", "flop_per_gpu", "mem_bytes_per_gpu", "mfu")
        cols = {n: np.ravel(np.broadcast_to(getattr(self, n), self.time_s.shape)) for n in names}
        cols["tokens_per_s"] = np.ravel(self.tokens_per_s)
        rows = [{k: v[i].item() for k, v in cols.items()} for i in range(self.time_s.size)]
        if self.kernels is not None:  # the kernel path: its own bound and terms
            for row, terms in zip(rows, self.kernels.rows(), strict=True):
                row.update({"bound": terms["bound"], "n_kernels": terms["n_kernels"],
                            "host_ops": terms["host_ops"],
                            "kernel_floors_s": terms["fixed_s"] + terms["floor_s"],
                            "host_s": terms["host_s"], "sync_s": terms["sync_s"],
                            "device_s": terms["device_s"]})
        return rows

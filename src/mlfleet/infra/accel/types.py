"""The kernel-level performance model's types: what a kernel costs on one accelerator.

A kernel of class ``c`` that executes ``flop`` FLOP and moves ``mem_bytes`` to or from device
memory runs on the device for

    compute_s = flop / (P * compute_fraction[c])
    memory_s  = mem_bytes / (B * memory_fraction[c])
    device_s  = max(max(compute_s, memory_s) + fixed_s[c], min_kernel_s)

with P the dense peak FLOP/s at the precision and B the memory bandwidth. ``fixed_s`` is a
size-independent time per kernel (ramp-up, the last partial wave, the tail), so the achieved
fraction of peak grows with size, ``fraction * t / (t + fixed_s)``, instead of being one
constant; ``min_kernel_s`` is the shortest kernel the device runs at all.

How kernels are issued (:data:`ENGINE_MODES`) decides what a sequence of n kernels costs:

- ``graph``: one CUDA-graph launch; kernels run back to back with ``graph_gap_s`` between them.
  device = sum(device_s) + n * graph_gap_s; host = graph_launch_s.
- ``eager``: eager PyTorch issues each kernel from Python.
  device = sum(device_s) + n * graph_gap_s; host = n * eager_issue_s.
- ``framework``: a serving framework's Python loop adds its own cost per op on top.
  device as eager; host = n * (eager_issue_s + framework_op_s).

The host issues asynchronously, so a step costs max(host, device) + sync_s: flat in batch
while the host is slower, then growing once the device catches up.

This module holds only the types and the pure per-kernel formula; the catalog's defaults with
their sources, the step model, the probe schema's reader and the fit live beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.errors import InputError

FloatArray = npt.NDArray[np.float64]

KERNEL_CLASSES = ("gemm", "gemv", "stream", "attention")
"""Kernel classes: large GEMM (compute-bound), skinny/GEMV-like GEMM (memory-bound), streaming
copy/reduce/elementwise/gather, and fused attention (flash-style, KV reads included)."""

ENGINE_MODES = ("graph", "eager", "framework")
"""How a step's kernels are issued: CUDA graph, eager PyTorch, a framework with per-op host cost."""

PROBE_SCHEMA = "mlfleet.probe/1"
"""``schema`` value of a probe file (``benchmarks/gpu_probe.py``, or the host probe's export)."""

CALIBRATION_SCHEMA = "mlfleet.calibration/1"
"""``schema`` value of a calibration file (``mlfleet infra calibrate``)."""


@dataclass(frozen=True, kw_only=True)
class KernelClassParams:
    """Achievable efficiency of one kernel class on one accelerator at one precision."""

    compute_fraction: float
    """Asymptotic fraction of the dense peak FLOP/s that large kernels of this class reach."""
    memory_fraction: float
    """Asymptotic fraction of the peak memory bandwidth that large kernels reach."""
    fixed_s: float
    """Size-independent device time per kernel (ramp-up, partial last wave, tail)."""
    source: str = ""
    """Where the values come from: a catalog source key, or ``calibration:<file>``."""

    def __post_init__(self) -> None:
        for name in ("compute_fraction", "memory_fraction"):
            value = getattr(self, name)
            if not (0.0 < value <= 1.0):
                raise InputError(f"{name}(={value:g}) must be in (0, 1]")
        if not (self.fixed_s >= 0.0 and np.isfinite(self.fixed_s)):
            raise InputError(f"fixed_s(={self.fixed_s:g}) must be a finite number >= 0")


@dataclass(frozen=True, kw_only=True)
class LaunchParams:
    """How kernels are issued and synchronised; times in seconds."""

    min_kernel_s: float
    """The shortest kernel the device runs (an empty kernel's duration)."""
    graph_gap_s: float
    """Device idle time between consecutive kernels (inside a CUDA graph, or back to back)."""
    graph_launch_s: float
    """Host time to launch a whole captured graph."""
    eager_issue_s: float
    """Host time for eager PyTorch to issue one kernel (dispatcher + cudaLaunchKernel)."""
    framework_op_s: float
    """Extra host time per op of a serving framework's Python loop, on top of eager issue."""
    sync_s: float
    """End-of-step synchronisation (stream sync, copying sampled tokens back)."""
    source: str = ""

    def __post_init__(self) -> None:
        for name in ("min_kernel_s", "graph_gap_s", "graph_launch_s", "eager_issue_s",
                     "framework_op_s", "sync_s"):
            value = getattr(self, name)
            if not (value >= 0.0 and np.isfinite(value)):
                raise InputError(f"{name}(={value:g}) must be a finite number >= 0")


@dataclass(frozen=True, kw_only=True)
class KernelModel:
    """Everything needed to time kernels on one accelerator at one precision."""

    accelerator: str
    """Catalog name of the accelerator (``H100``), or ``host`` for this machine's CPU."""
    precision: str
    peak_flops_per_s: float
    mem_bw_bytes_per_s: float
    classes: Mapping[str, KernelClassParams]
    """One entry per name in :data:`KERNEL_CLASSES`."""
    launch: LaunchParams
    origin: str = "catalog"
    """``catalog`` for the sourced defaults, else the calibration file it was read from."""

    def __post_init__(self) -> None:
        missing = [c for c in KERNEL_CLASSES if c not in self.classes]
        if missing:
            raise InputError(f"kernel model for {self.accelerator} lacks kernel classes "
                             f"{', '.join(missing)}; needs {', '.join(KERNEL_CLASSES)}")

    def params(self, kernel_class: str) -> KernelClassParams:
        """The parameters of ``kernel_class``; InputError naming the allowed classes."""
        if kernel_class not in self.classes:
            raise InputError(f"kernel class {kernel_class!r} is not one of "
                             f"{', '.join(KERNEL_CLASSES)}")
        return self.classes[kernel_class]


@dataclass(frozen=True, kw_only=True)
class KernelTime:
    """Device time of one kernel (or a broadcast sweep of them) and its terms."""

    compute_s: FloatArray
    memory_s: FloatArray
    fixed_s: FloatArray
    device_s: FloatArray
    """max(max(compute_s, memory_s) + fixed_s, min_kernel_s)."""
    floor_bound: npt.NDArray[np.bool_]
    """Whether the kernel floor (``min_kernel_s``) decided the time."""


def kernel_time(model: KernelModel, kernel_class: str, *, flop: npt.ArrayLike,
                mem_bytes: npt.ArrayLike) -> KernelTime:
    """Device time of a kernel of ``kernel_class`` (broadcasts over array inputs)."""
    p = model.params(kernel_class)
    f = np.asarray(flop, dtype=np.float64)
    b = np.asarray(mem_bytes, dtype=np.float64)
    if np.any(~np.isfinite(f) | (f < 0)) or np.any(~np.isfinite(b) | (b < 0)):
        raise InputError("flop and mem_bytes must be finite numbers >= 0")
    compute = f / (model.peak_flops_per_s * p.compute_fraction)
    memory = b / (model.mem_bw_bytes_per_s * p.memory_fraction)
    busy = np.maximum(compute, memory) + p.fixed_s
    device = np.maximum(busy, model.launch.min_kernel_s)
    compute, memory, device = np.broadcast_arrays(compute, memory, device)
    return KernelTime(compute_s=np.asarray(compute), memory_s=np.asarray(memory),
                      fixed_s=np.full(device.shape, p.fixed_s), device_s=np.asarray(device),
                      floor_bound=np.asarray(busy < model.launch.min_kernel_s))

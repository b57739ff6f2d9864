"""One operation (a GEMM, or a custom FLOP/bytes step) as one kernel on the kernel model.

``mlfleet infra roofline`` prints this beside the ideal roofline: the op is launched once, by
the engine's issue path (eager and framework issue it as one PyTorch op: host =
``eager_issue_s`` (+ ``framework_op_s``); graph as one graph launch), and timed as :func:`mlfleet.infra.accel.step.time_launches` times a
step (``time = max(host, device) + sync``, device = kernel + one graph gap). A GEMM is class
``gemm``, or ``gemv`` when it has at most :data:`~mlfleet.infra.accel.step.GEMV_MAX_ROWS`
rows; a custom step is ``gemm`` when its arithmetic intensity reaches the model's ridge point
(peak * compute fraction / (bandwidth * memory fraction) of the gemm class), else ``stream``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlfleet.infra.accel.kernels import Launch
from mlfleet.infra.accel.step import GEMV_MAX_ROWS, StepBreakdown, time_launches
from mlfleet.infra.accel.types import KernelModel

TERMS = ("time_s", "compute_s", "memory_s", "fixed_s", "floor_s", "device_s", "host_s",
         "sync_s", "bound")
"""The kernel model's terms printed per row (``kernel_`` prefixed in JSON)."""


def custom_kernel_class(model: KernelModel, *, flop: float, mem_bytes: float) -> str:
    """``gemm`` when flop/bytes reaches the gemm class's achievable ridge point, else
    ``stream`` (a custom step names no shape, so its class follows its intensity)."""
    gemm = model.params("gemm")
    ridge = (model.peak_flops_per_s * gemm.compute_fraction
             / (model.mem_bw_bytes_per_s * gemm.memory_fraction))
    return "gemm" if mem_bytes == 0 or flop / mem_bytes >= ridge else "stream"


def op_step(model: KernelModel, *, flop: float, mem_bytes: float, engine: str,
            gemm_rows: float | None = None) -> tuple[str, StepBreakdown]:
    """(kernel class, terms) of one op; ``gemm_rows`` is M of a GEMM (None: a custom step).

    Raises InputError for an unknown engine (one of ENGINE_MODES).
    """
    if gemm_rows is not None:
        kind = "gemm"
        label = "gemm" if gemm_rows > GEMV_MAX_ROWS else "gemv"
    else:
        kind = label = custom_kernel_class(model, flop=flop, mem_bytes=mem_bytes)
    launch = Launch(name="op", kind=kind, repeat=1, flop=np.asarray(flop, dtype=np.float64),
                    state_bytes=np.asarray(mem_bytes, dtype=np.float64),
                    act_bytes=np.asarray(0.0), rows=np.asarray(
                        np.inf if gemm_rows is None else gemm_rows, dtype=np.float64))
    return label, time_launches(model, [launch], engine=engine)


def term_row(label: str, step: StepBreakdown) -> dict[str, Any]:
    """The terms of a one-op step as ``kernel_*`` keys of a roofline row."""
    row = step.rows()[0]
    if abs(row["floor_s"]) <= 1e-12 * row["device_s"]:  # rounding of device - busy, not a floor
        row["floor_s"] = 0.0
    return {"kernel_class": label, **{f"kernel_{name}": row[name] for name in TERMS}}

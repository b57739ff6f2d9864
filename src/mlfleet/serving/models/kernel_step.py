"""The serving step from kernels: one replica stage timed by the kernel model.

The default path of :class:`~mlfleet.serving.models.llm_step.LlmStepModel` for a catalog
accelerator: every kernel of an iteration (:mod:`mlfleet.infra.accel.kernels`) timed by its
kernel model (:func:`mlfleet.infra.accel.step.counts_step`), issued by the engine
(``graph``, ``eager`` or ``framework``). Per pipeline stage and micro-batch the step is
max(host, device) + sync, with the TP AllReduces on the device; the GPipe schedule around it is
the legacy model's:

    time = (m + pp - 1) · t_stage(T/m) + (pp - 1) · t_p2p(T/m)

The terms map onto :class:`~mlfleet.serving.models.llm_step.StepTime`: ``compute_s`` and
``memory_s`` are the kernels' summed compute and memory times, ``comm_s`` the AllReduces and
sends, and ``overhead_s`` everything else (kernel fixed times, floors, gaps, host, sync).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mlfleet.catalog.types import Accelerator
from mlfleet.checks import FloatArray
from mlfleet.infra.accel.kernels import StepCounts
from mlfleet.infra.accel.step import counts_step
from mlfleet.infra.accel.types import KernelModel
from mlfleet.infra.roofline import Device, TransformerShape
from mlfleet.serving.models.step_terms import StepTime

NCCL_BASE_LATENCY_S = 6.6e-6
"""Launch cost of one TP AllReduce on the kernel path, on top of the link's α: NCCL's base
latency of its LL protocol (NCCL src/graph/tuning.cc, ``baseLat``)."""

_BOUND_NAMES = {"kernel floors": "overhead", "host": "overhead"}
"""StepTime's bound names for the kernel step's (compute, memory, communication stay)."""


@dataclass(frozen=True, kw_only=True)
class KernelStage:
    """How one replica runs its stage: the kernel model, the engine and the shard."""

    kernels: KernelModel
    engine: str
    shape: TransformerShape
    tp: int
    pp: int
    layers: int
    """Layers on the busiest pipeline stage."""
    kv_bytes_per_element: float
    act_bytes_per_element: float


def kernel_iteration(stage: KernelStage, *, tokens: FloatArray, pairs: FloatArray,
                     kv_read_tokens: FloatArray, logit_rows: FloatArray, microbatches: FloatArray,
                     allreduce_s: Callable[[FloatArray], FloatArray],
                     p2p_s: Callable[[FloatArray], FloatArray]) -> StepTime:
    """One iteration of ``tokens`` new tokens split into ``microbatches``; ``allreduce_s``
    and ``p2p_s`` time one AllReduce / one stage-to-stage send of the given bytes."""
    m = microbatches
    counts = StepCounts(tokens=tokens / m, logit_rows=logit_rows / m, pairs=pairs / m,
                        kv_read_tokens=kv_read_tokens / m)
    act_bytes = counts.tokens * stage.shape.d_model * stage.act_bytes_per_element
    one = counts_step(stage.kernels, stage.shape, counts, engine=stage.engine, tp=stage.tp,
                      layers=stage.layers, kv_bytes_per_element=stage.kv_bytes_per_element,
                      act_bytes_per_element=stage.act_bytes_per_element,
                      allreduce_s=allreduce_s(act_bytes) if stage.tp > 1 else 0.0)
    passes = m + stage.pp - 1.0
    sends = (stage.pp - 1.0) * p2p_s(act_bytes) if stage.pp > 1 else 0.0 * act_bytes
    time = passes * one.time_s + sends
    compute, memory, comm = passes * one.compute_s, passes * one.memory_s, passes * one.comm_s
    comm = comm + sends
    bound = np.vectorize(lambda b: _BOUND_NAMES.get(b, b), otypes=[str])(one.bound)
    shape = time.shape
    return StepTime(
        time_s=time, compute_s=compute, memory_s=memory, comm_s=comm,
        overhead_s=np.maximum(time - np.maximum(compute, memory) - comm, 0.0),
        bound=np.asarray(bound), tokens=np.broadcast_to(tokens, shape) + 0.0,
        bubble_fraction=np.broadcast_to((stage.pp - 1.0) / passes, shape) + 0.0,
        flop_per_gpu=m * one.flop, mem_bytes_per_gpu=m * one.mem_bytes,
        mfu=m * one.flop / (time * stage.kernels.peak_flops_per_s), kernels=one)


def calibrated_kernels(accelerator: str | Accelerator | Device,
                       precision: str) -> KernelModel | None:
    """The kernel model of the calibration active for ``accelerator`` (``--calibration``),
    or None: the models whose defaults are the legacy constants (the serving simulator's,
    the plan's sizing) switch to the kernel path only under a calibration. Raises
    CalibrationError for a calibration made on another accelerator or precision."""
    if isinstance(accelerator, Device):
        return None
    from mlfleet.infra.accel.calibration import active_calibration

    name = accelerator.name if isinstance(accelerator, Accelerator) else accelerator
    return active_calibration(name, precision)


def serving_kernels(accelerator: str | Accelerator | Device, precision: str) -> KernelModel | None:
    """The kernel model a serving model defaults to: the active calibration
    (``--calibration``), else the catalog's sourced defaults where the accelerator has
    kernel data at ``precision``, else None (the legacy roofline with assumed constants)."""
    calibrated = calibrated_kernels(accelerator, precision)
    if calibrated is not None or isinstance(accelerator, Device):
        return calibrated
    from mlfleet import catalog
    from mlfleet.infra.accel import defaults

    name = accelerator.name if isinstance(accelerator, Accelerator) else accelerator
    name = catalog.get(name, kind="accelerator").name
    if name not in defaults.accelerators_with_data() or precision not in defaults.precisions_for(name):
        return None
    return defaults.kernel_model(name, precision)

"""Memory per GPU over a sweep: the plan's training-memory model once per distinct layout.

The memory of a step depends on the workload, precision, accelerator, data-parallel
degree, model shards, tensor degree, ZeRO stage and sequence length — not on the batch
or the MFU — so a grid has few distinct layouts; each is computed once with the plan's
own functions (:mod:`mlfleet.plan.training_memory`: ZeRO model state, Korthikanti et
al. 2022 activations) and scattered to its points. The ZeRO stage is the one the plan's
communication section uses: the scenario's, ``ddp`` without two or more data-parallel
ranks, else the least sharding whose model state fits HBM
(:func:`mlfleet.comm.data_parallel.plan_communication`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mlfleet.catalog.types import Accelerator
from mlfleet.comm.data_parallel import ZERO_STAGE_NAMES
from mlfleet.comm.zero import zero_memory_bytes, zero_stages
from mlfleet.plan.training_memory import activations
from mlfleet.sweep.training_inputs import Family, FloatArray, TrainingInputs, workload_of_name


@dataclass(frozen=True, kw_only=True)
class MemoryColumns:
    """Memory per GPU of every point (see :class:`mlfleet.plan.training_memory.TrainingMemory`)."""

    need_bytes: FloatArray
    hbm_bytes: FloatArray
    fits: npt.NDArray[np.bool_]
    needs_recompute: npt.NDArray[np.bool_]
    zero_stage: npt.NDArray[np.str_]


@dataclass(frozen=True, kw_only=True)
class Layout:
    """What the memory of a step depends on."""

    family: Family
    data: int
    shards: int
    tensor: int
    zero_stage: int
    """-1: the planner picks."""
    seq_len: int | None


def memory_columns(inputs: TrainingInputs) -> MemoryColumns:
    """The memory of each point, one model evaluation per distinct :class:`Layout`."""
    seq_len = np.nan_to_num(inputs.seq_len, nan=-1).astype(np.int64)
    columns = (inputs.family_index, inputs.data, inputs.shards, inputs.tensor,
               inputs.zero_stage, seq_len)
    code, first = layout_codes(columns)
    rows = [layout_memory(Layout(
        family=inputs.families[int(inputs.family_index[i])], data=int(inputs.data[i]),
        shards=int(inputs.shards[i]), tensor=int(inputs.tensor[i]),
        zero_stage=int(inputs.zero_stage[i]), seq_len=None if seq_len[i] < 0 else int(seq_len[i])))
        for i in first]

    def column(i: int, dtype: Any) -> Any:
        return np.asarray([row[i] for row in rows], dtype=dtype)[code]

    return MemoryColumns(need_bytes=column(0, np.float64), hbm_bytes=column(1, np.float64),
                         fits=column(2, np.bool_), needs_recompute=column(3, np.bool_),
                         zero_stage=column(4, "<U5"))


def layout_codes(columns: tuple[npt.NDArray[np.int64], ...]) -> tuple[
        npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """(code of each point's distinct row, index of one point per code) of integer columns.

    Each column is replaced by its rank among its few distinct values, and the ranks are
    combined in mixed radix into one integer per point: one 1-D ``np.unique`` per column
    instead of a row-wise one (which sorts structured rows and is ten times slower).
    """
    key, radix = np.zeros(len(columns[0]), dtype=np.int64), 1
    for column in columns:
        values, rank = np.unique(column, return_inverse=True)
        if radix * len(values) >= 2**62:  # renumber the key so far before it could overflow
            _, key = np.unique(key, return_inverse=True)
            radix = int(key.max()) + 1
        key, radix = key * len(values) + rank.reshape(-1), radix * len(values)
    _, first, code = np.unique(key, return_index=True, return_inverse=True)
    return code.reshape(-1), first


def layout_memory(layout: Layout) -> tuple[float, float, bool, bool, str]:
    """(need bytes, HBM bytes, fits, needs recompute, ZeRO stage) of one layout, as
    :func:`mlfleet.plan.training_memory.training_memory` computes them."""
    family = layout.family
    workload = workload_of_name(family.workload)
    hbm = Accelerator.from_name(family.accelerator).hbm_bytes
    element_bytes = 4.0 if family.precision in ("fp32", "tf32") else 2.0
    stage = _stage(layout, workload.params, hbm, int(element_bytes))
    state = zero_memory_bytes(workload.params / layout.shards, max(layout.data, 1), stage=stage,
                              param_bytes=element_bytes, grad_bytes=element_bytes)
    act, recompute = activations(workload, layout.seq_len, layout.tensor, element_bytes)
    needs_recompute = act is not None and recompute is not None and state + act > hbm
    need = state + ((recompute if needs_recompute else act) or 0.0)
    return need, hbm, need <= hbm, needs_recompute, stage


def _stage(layout: Layout, params: float, hbm_bytes: float, precision_bytes: int) -> str:
    """The ZeRO stage the plan's communication section picks for this layout."""
    if layout.data < 2:
        return "ddp"
    if layout.zero_stage >= 0:
        return ZERO_STAGE_NAMES[layout.zero_stage]
    shard_params = params if layout.shards == 1 else params / layout.shards
    rows = zero_stages(shard_params, layout.data, param_bytes=precision_bytes,
                       grad_bytes=precision_bytes)
    fitting = [row for row in rows if row.memory_bytes_per_gpu <= hbm_bytes]
    return (fitting[0] if fitting else rows[-1]).stage

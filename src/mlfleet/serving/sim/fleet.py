"""Build a fleet of replicas from catalog names: what ``mlfleet sim serve`` simulates.

An LLM workload gets iteration-level replicas (or whole-batch / request-level ones)
driven by the default roofline step time, with KV capacity from the accelerator's
memory; any other workload gets a batch service time from the roofline of its
forward pass. Every default is an assumption stated in
:mod:`mlfleet.serving.sim.steptime` and can be replaced by building the replicas
directly.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet.catalog.types import Accelerator, Workload
from mlfleet.errors import InputError
from mlfleet.serving.sim.replicas.base import Replica
from mlfleet.serving.sim.replicas.chunked import DEFAULT_TOKEN_BUDGET, ChunkedPrefillReplica
from mlfleet.serving.sim.replicas.continuous import ContinuousReplica
from mlfleet.serving.sim.replicas.dynamic import DynamicBatchReplica
from mlfleet.serving.sim.replicas.paged import DEFAULT_BLOCK_SIZE, PagedReplica, blocks_for
from mlfleet.serving.sim.replicas.request_level import RequestLevelReplica
from mlfleet.serving.sim.replicas.static import StaticBatchReplica
from mlfleet.serving.sim.steptime import BatchServiceTime, LlmStepTime, roofline_step_time

BATCHING = ("none", "static", "dynamic", "continuous", "paged", "chunked")
"""Batching policies by name."""
LLM_ONLY = ("continuous", "paged", "chunked")


@dataclass(frozen=True, kw_only=True)
class FleetSpec:
    """What to build; every field has a default but the workload and accelerator."""

    workload: str
    accelerator: str
    precision: str = "bf16"
    batching: str = "paged"
    replicas: int = 1
    tp: int = 1
    """Tensor-parallel GPUs per LLM replica."""
    max_batch: int = 256
    """Max sequences (iteration-level) or requests (whole-batch) per batch."""
    max_queue_delay_s: float = 0.002
    """Dynamic batching: longest a request waits for a batch to fill."""
    token_budget: int = DEFAULT_TOKEN_BUDGET
    """Chunked prefill: tokens per iteration."""
    items_per_request: int = 1
    """Non-LLM: samples scored per request."""
    group: str = "stable"

    def __post_init__(self) -> None:
        if self.batching not in BATCHING:
            raise InputError(f"batching(={self.batching!r}) is unknown; known: "
                             f"{', '.join(BATCHING)}")
        for name in ("replicas", "tp", "max_batch", "token_budget", "items_per_request"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"{name}(={value!r}) must be an integer >= 1")


def build_fleet(spec: FleetSpec) -> list[Replica]:
    """``spec.replicas`` identical replicas (CatalogError / InputError for bad names)."""
    workload = Workload.from_name(spec.workload)
    is_llm = workload.unit == "token"
    if not is_llm and spec.batching in LLM_ONLY:
        raise InputError(f"batching(={spec.batching!r}) needs an LLM workload; "
                         f"{workload.name} is {workload.family}: use none, static or dynamic")
    return [_llm_replica(spec) if is_llm else _batch_replica(spec)
            for _ in range(spec.replicas)]


def _llm_replica(spec: FleetSpec) -> Replica:
    step = roofline_step_time(workload=spec.workload, accelerator=spec.accelerator,
                              precision=spec.precision, tp=spec.tp)
    group, b = spec.group, spec.max_batch
    if spec.batching == "none":
        return RequestLevelReplica(step_time=step, group=group)
    if spec.batching == "static":
        return StaticBatchReplica(batch_size=b, step_time=step, group=group)
    if spec.batching == "dynamic":
        return DynamicBatchReplica(max_batch=b, max_queue_delay_s=spec.max_queue_delay_s,
                                   step_time=step, group=group)
    blocks = _blocks(step, spec.accelerator)
    if spec.batching == "continuous":
        return ContinuousReplica(step_time=step, kv_capacity_tokens=blocks * DEFAULT_BLOCK_SIZE,
                                 max_seqs=b, group=group)
    if spec.batching == "paged":
        return PagedReplica(step_time=step, num_blocks=blocks, max_seqs=b, group=group)
    return ChunkedPrefillReplica(step_time=step, num_blocks=blocks, max_seqs=b,
                                 token_budget=spec.token_budget, group=group)


def _blocks(step: LlmStepTime, accelerator: str) -> int:
    return blocks_for(step, hbm_bytes=Accelerator.from_name(accelerator).hbm_bytes)


def _batch_replica(spec: FleetSpec) -> Replica:
    service = BatchServiceTime.from_roofline(workload=spec.workload,
                                             accelerator=spec.accelerator,
                                             precision=spec.precision,
                                             items_per_request=spec.items_per_request)
    if spec.batching == "none":
        return RequestLevelReplica(service=service, group=spec.group)
    if spec.batching == "static":
        return StaticBatchReplica(batch_size=spec.max_batch, service=service, group=spec.group)
    return DynamicBatchReplica(max_batch=spec.max_batch, max_queue_delay_s=spec.max_queue_delay_s,
                               service=service, group=spec.group)

"""The 'Model-Specific Checkpoint Strategies' table, computed from the catalog.

For each catalog workload: its checkpoint size (weights, fp32 master weights and Adam
moments; :func:`mlfleet.storage.checkpoint.size.checkpoint_bytes`), the strategy its size
and kind call for, and the interval Daly's model picks for a typical job of that kind on
H100 nodes writing to a parallel file system (:mod:`mlfleet.reliability.job`), at the
failure rate of the catalog's component causes.

Strategy rules (the spec's table, made explicit):

* recommendation models (embedding tables): incremental, sparse; only the embedding rows
  touched since the last checkpoint are written. Check-N-Run (Eisenman et al., NSDI'22)
  reports 6-17x less write bandwidth; we take the conservative 6x for the size written.
* 100 GB or more: sharded, async (each rank writes its shard; only the snapshot stalls).
* 1 GB to 100 GB: standard sync.
* under 1 GB: simple and frequent (sync; the write takes well under a second).
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet import catalog
from mlfleet.catalog.types import Cluster, Workload
from mlfleet.checks import positive_int
from mlfleet.reliability.checkpoint_policy import PolicyResult, async_policy, sync_policy
from mlfleet.reliability.failures import component_rates, total_rate_per_gpu_s
from mlfleet.reliability.job import JobShape, checkpoint_setting, storage_bw_bytes_per_s

LARGE_BYTES = 100e9
SMALL_BYTES = 1e9
CHECK_N_RUN_REDUCTION = 6.0
"""Check-N-Run (NSDI'22): incremental checkpoints need 6-17x less write bandwidth."""
REFERENCE_CLUSTER = "H100-16k-fat-tree"
REFERENCE_MEDIUM = "parallel-fs"
TYPICAL_GPUS = {"llm": 4096, "moe": 1024, "recsys": 128, "vision": 64, "speech": 64, "gnn": 8}
"""A typical job size per family (our assumption, stated in docs/reliability.md)."""
MODEL_TYPES = {"llm": "LLM", "moe": "LLM (MoE)", "recsys": "Recommendation",
               "vision": "Vision", "speech": "Speech", "gnn": "Graph"}


@dataclass(frozen=True, kw_only=True)
class StrategyRow:
    """One workload's checkpoint size, recommended strategy and interval."""

    workload: str
    model_type: str
    params: float
    ckpt_bytes: float
    """A full checkpoint: weights + fp32 master weights + Adam moments."""
    written_bytes: float
    """What one checkpoint writes under the strategy (less for incremental)."""
    strategy: str
    gpus: int
    stall_s: float
    """Training stalled per checkpoint."""
    interval_s: float
    """Daly-optimal work between checkpoints."""
    goodput: float


def strategy_for(*, family: str, ckpt_bytes: float) -> str:
    """The recommended strategy for a model of ``family`` whose checkpoint is ``ckpt_bytes``."""
    if family == "recsys":
        return "incremental, sparse"
    if ckpt_bytes >= LARGE_BYTES:
        return "sharded, async"
    if ckpt_bytes >= SMALL_BYTES:
        return "standard sync"
    return "simple, frequent"


def strategy_row(workload: Workload, *, gpus: int | None = None) -> StrategyRow:
    """The row of one workload (``gpus`` defaults to :data:`TYPICAL_GPUS` for its family)."""
    from mlfleet.storage.checkpoint.size import checkpoint_bytes

    n = positive_int("gpus", gpus) if gpus is not None else TYPICAL_GPUS.get(workload.family, 8)
    size = checkpoint_bytes(workload).total_bytes
    strategy = strategy_for(family=workload.family, ckpt_bytes=size)
    written = size / CHECK_N_RUN_REDUCTION if strategy.startswith("incremental") else size
    result = _policy_result(strategy, written_bytes=written, gpus=n)
    return StrategyRow(workload=workload.name, model_type=MODEL_TYPES.get(workload.family,
                       workload.family), params=workload.params, ckpt_bytes=size,
                       written_bytes=written, strategy=strategy, gpus=n, stall_s=result.stall_s,
                       interval_s=result.interval_s, goodput=result.goodput)


def _policy_result(strategy: str, *, written_bytes: float, gpus: int) -> PolicyResult:
    cluster = Cluster.from_name(REFERENCE_CLUSTER)
    rate = total_rate_per_gpu_s(component_rates(gpus_per_node=cluster.gpus_per_node))
    write_bw, read_bw = storage_bw_bytes_per_s(REFERENCE_MEDIUM, gpus=gpus,
                                               gpus_per_node=cluster.gpus_per_node)
    shape = JobShape(gpus=gpus, gpus_per_node=min(gpus, cluster.gpus_per_node),
                     node_net_bw_bytes_per_s=cluster.node_scaleout_bw_bytes_per_s)
    setting = checkpoint_setting(shape, ckpt_bytes=written_bytes, write_bw_bytes_per_s=write_bw,
                                 read_bw_bytes_per_s=read_bw, mtbf_s=1.0 / (rate * gpus))
    return async_policy(setting) if strategy == "sharded, async" else sync_policy(setting)


def strategy_table(*, gpus: int | None = None) -> tuple[StrategyRow, ...]:
    """Every catalog workload's row, largest checkpoint first."""
    rows = (strategy_row(Workload.from_name(n), gpus=gpus) for n in catalog.names("workload"))
    return tuple(sorted(rows, key=lambda r: -r.ckpt_bytes))

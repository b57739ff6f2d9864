"""Every book table: a stable id, the chapter and spec item it answers, and its builder.

Builders live in :mod:`mlfleet.book.tables` (one module per chapter) and are imported only
when a table is computed, so listing ids imports no model. An unknown id or chapter is
refused listing the known ones.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from mlfleet.book.markers import BookInputError
from mlfleet.book.table import BookTable
from mlfleet.checks import one_of

CHAPTERS: dict[str, str] = {
    "infra": "Large-Scale ML Infrastructure",
    "storage": "Storage Systems for ML",
    "comm": "Communication and Collective Operations",
    "reliability": "Fault Tolerance and Reliability",
    "serving": "Inference at Scale",
    "ops": "ML Operations at Scale",
}
"""Chapter key (the first part of a table id) -> the spec's chapter title."""


@dataclass(frozen=True, kw_only=True)
class TableSpec:
    """Where a table comes from and which item of the spec it answers."""

    id: str
    spec_item: str
    """The item's text in the spec (a 'Quantitative Analysis' bullet or an outline table)."""
    builder: str
    """``module:function`` under :mod:`mlfleet.book.tables`, returning a BookTable."""

    @property
    def chapter(self) -> str:
        return self.id.split(".", 1)[0]

    def build(self) -> BookTable:
        module, function = self.builder.split(":")
        make: Callable[[], BookTable] = getattr(
            importlib.import_module(f"mlfleet.book.tables.{module}"), function)
        table = make()
        assert table.id == self.id, f"builder {self.builder} made {table.id}, not {self.id}"
        return table


_ROWS: tuple[tuple[str, str, str], ...] = (
    ("infra.flops-per-watt", "FLOPS/watt comparison across accelerator types",
     "infra:flops_per_watt"),
    ("infra.memory-bandwidth-use", "Memory bandwidth utilization patterns by model type",
     "infra:memory_bandwidth_use"),
    ("infra.cost-per-pflop", "Cost per PFLOP analysis", "infra:cost_per_pflop"),
    ("infra.tco-by-scale", "TCO models for different deployment scales", "infra_tco:tco_by_scale"),
    ("infra.cloud-breakeven", "Break-even analysis for cloud vs. on-premises",
     "infra_tco:cloud_breakeven"),
    ("infra.power-cost-sensitivity", "Power cost sensitivity analysis",
     "infra_tco:power_cost_sensitivity"),
    ("storage.io-bandwidth", "I/O bandwidth requirements by model type", "storage:io_bandwidth"),
    ("storage.tier-cost", "Storage cost breakdown (hot/warm/cold)", "storage:tier_cost"),
    ("storage.access-latency", "Latency breakdown for different access patterns",
     "storage:access_latency"),
    ("comm.allreduce-algorithms", "Ring vs. tree performance by message size",
     "comm:allreduce_algorithms"),
    ("comm.bus-bandwidth", "Bandwidth utilization measurements", "comm:bus_bandwidth"),
    ("comm.collective-by-model-type", "Model-Specific Collective Patterns (outline table: "
     "model type, primary collective, gradient type, communication volume)",
     "comm:collective_by_model_type"),
    ("reliability.failures-by-scale", "Failure Rate Analysis by Scale (outline table: "
     "cluster size, expected failures/day, training interruption risk)",
     "reliability:failures_by_scale"),
    ("reliability.checkpoint-strategy", "Model-Specific Checkpoint Strategies (outline table: "
     "model type, checkpoint size, recommended strategy, frequency)",
     "reliability:checkpoint_strategy"),
    ("reliability.goodput-vs-interval", "Checkpoint frequency trade-offs (outline: checkpoint "
     "overhead vs. work loss)", "reliability:goodput_vs_interval"),
    ("serving.inference-characteristics", "Model-Specific Inference Characteristics (outline "
     "table: latency target, request volume, key bottleneck)",
     "serving:inference_characteristics"),
    ("serving.batching-strategy", "Batching strategy by model type (outline table: "
     "recommended strategy, key consideration)", "serving:batching_strategy"),
    ("serving.capacity", "Capacity planning at scale (the issue's serving capacity tables): "
     "replicas and GPUs that meet a latency SLO, by load", "serving:capacity"),
    ("ops.experiment-sample-size", "A/B Testing at Scale: statistical analysis (users needed "
     "per arm)", "ops:experiment_sample_size"),
    ("ops.peeking", "A/B Testing at Scale: statistical analysis (the cost of peeking at "
     "a running test)", "ops:peeking"),
)

TABLES: dict[str, TableSpec] = {
    table_id: TableSpec(id=table_id, spec_item=item, builder=builder)
    for table_id, item, builder in _ROWS
}
"""Every table by id, in the order of the spec."""


def spec(table_id: str) -> TableSpec:
    """The table called ``table_id``; BookInputError listing the known ids."""
    one_of("--id", table_id, TABLES, error=BookInputError)
    return TABLES[table_id]


def select(*, chapter: str | None = None, table_id: str | None = None) -> list[TableSpec]:
    """The tables of ``chapter`` (all chapters: None), or the one ``table_id``."""
    if chapter is not None:
        one_of("--chapter", chapter, CHAPTERS, error=BookInputError)
    chosen = [spec(table_id)] if table_id is not None else list(TABLES.values())
    picked = [t for t in chosen if chapter is None or t.chapter == chapter]
    if not picked:
        raise BookInputError(f"--id(={table_id!r}) is in chapter {chosen[0].chapter!r}, not "
                             f"--chapter(={chapter!r})")
    return picked

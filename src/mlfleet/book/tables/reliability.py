"""Fault-tolerance tables: failure rate by cluster scale, checkpoint strategy by model type.

Every number comes from :mod:`mlfleet.reliability.failures` and
:mod:`mlfleet.reliability.strategies` (``mlfleet reliability failures|strategies``).
"""

from __future__ import annotations

from mlfleet import catalog
from mlfleet.book.table import BookTable, CatalogInput, Cited, Column

RSC_FLEET = "fleet-meta-rsc1"
"""An independent all-cause fleet rate to set beside the component model."""


def failures_by_scale() -> BookTable:
    """Failures per day, MTBF and the chance of an interruption in a day, by cluster size."""
    from mlfleet.reliability import failures as model

    rates = model.component_rates()
    ours = model.scale_table(rate_per_gpu_s=model.total_rate_per_gpu_s(rates))
    fleet = model.fleet_rate(RSC_FLEET)
    rsc = model.scale_table(rate_per_gpu_s=fleet.rate_per_gpu_s)
    body = [(a.gpus, a.failures_per_day, a.mtbf_s / 3600.0, a.p_interrupt_per_day, a.risk,
             b.failures_per_day) for a, b in zip(ours, rsc, strict=True)]
    return BookTable(
        id="reliability.failures-by-scale",
        title="Failure rate by cluster scale (components in series, Poisson failures)",
        columns=(Column(name="GPUs"),
                 Column(name="failures per day", unit="1/day", fidelity="model"),
                 Column(name="cluster MTBF", unit="h", fidelity="model"),
                 Column(name="P(interruption in a day)", unit="fraction", fidelity="model"),
                 Column(name="risk"),
                 Column(name="failures per day at Meta RSC-1's fleet rate", unit="1/day",
                        fidelity="model")),
        rows=tuple(body),
        inputs=(*(Cited(what=r.name, citation=r.source) for r in rates),
                CatalogInput(entry=RSC_FLEET)),
        notes=("Model: a job on n GPUs fails at n x (sum of the per-GPU cause rates); "
               "P(interruption in t) = 1 - exp(-rate t) (mlfleet.reliability.failures).",
               "Risk: Low below 5 % a day, Moderate below 50 %, High below 99 %, else Very "
               "High (our thresholds)."))


def checkpoint_strategy() -> BookTable:
    """Each catalog workload's checkpoint size, strategy, stall, Daly interval and goodput."""
    from mlfleet.reliability import strategies

    rows = strategies.strategy_table()
    body = [(r.workload, r.model_type, r.ckpt_bytes / 1e9, r.strategy, r.gpus, r.stall_s,
             r.interval_s / 60.0, r.goodput) for r in rows]
    return BookTable(
        id="reliability.checkpoint-strategy",
        title="Checkpoint strategy by model type: size, strategy, stall and interval "
              f"(H100 nodes writing to {strategies.REFERENCE_MEDIUM})",
        columns=(Column(name="workload"), Column(name="model type"),
                 Column(name="checkpoint", unit="GB", fidelity="model"),
                 Column(name="strategy"), Column(name="GPUs"),
                 Column(name="stall per checkpoint", unit="s", fidelity="model"),
                 Column(name="Daly interval", unit="min", fidelity="model"),
                 Column(name="goodput", unit="fraction", fidelity="model")),
        rows=tuple(body),
        inputs=(CatalogInput(entry=strategies.REFERENCE_CLUSTER),
                CatalogInput(entry=strategies.REFERENCE_MEDIUM),
                *(CatalogInput(entry=n) for n in catalog.names("workload"))),
        notes=("Model: checkpoint = weights + fp32 master weights + Adam moments; interval by "
               "Daly (FGCS 2006) at the catalog's component failure rate; incremental "
               "checkpoints write 1/6 of the size (Check-N-Run, Eisenman et al., NSDI 2022) "
               "(mlfleet.reliability.strategies).",
               "Strategy: recommendation models incremental and sparse; >= 100 GB sharded and "
               "async; >= 1 GB standard sync; smaller simple and frequent. GPUs: a typical job "
               "per model type (our assumption)."))

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


GOODPUT_MTBF_S = 6 * 3600.0
GOODPUT_CKPT_S = 300.0
GOODPUT_RESTART_S = 600.0
"""Daly's (FGCS 2006) worked case: MTBF 6 h, a 5-minute checkpoint, a 10-minute restart."""
GOODPUT_SOLVE_S = 100 * 3600.0
INTERVAL_FACTORS = (0.25, 0.5, 1.0, 2.0, 4.0)
"""Checkpoint intervals as multiples of Daly's optimum."""
GOODPUT_RUNS = 40
GOODPUT_SEED = 0


def goodput_vs_interval() -> BookTable:
    """Goodput against the checkpoint interval: Daly's model and a seeded simulation."""
    from mlfleet.reliability.checkpoint_interval import daly_goodput, daly_interval_s
    from mlfleet.reliability.sim.failure_process import Exponential
    from mlfleet.reliability.sim.job import JobSpec
    from mlfleet.reliability.sim.policies import CheckpointPolicy
    from mlfleet.reliability.sim.replications import replicate

    best_s = daly_interval_s(ckpt_s=GOODPUT_CKPT_S, mtbf_s=GOODPUT_MTBF_S)
    body = []
    for factor in INTERVAL_FACTORS:
        spec = JobSpec(solve_s=GOODPUT_SOLVE_S, restart_s=GOODPUT_RESTART_S,
                       checkpoint=CheckpointPolicy(interval_s=factor * best_s,
                                                   cost_s=GOODPUT_CKPT_S),
                       failures=Exponential(mtbf_s=GOODPUT_MTBF_S))
        study = replicate(spec, runs=GOODPUT_RUNS, seed=GOODPUT_SEED)
        model = daly_goodput(interval_s=factor * best_s, ckpt_s=GOODPUT_CKPT_S,
                             restart_s=GOODPUT_RESTART_S, mtbf_s=GOODPUT_MTBF_S)
        body.append((f"{factor:g} x optimum", factor * best_s / 60.0, model,
                     GOODPUT_SOLVE_S / study.wall_s.mean, study.daly.ratio,
                     study.daly.ratio_ci95))
    return BookTable(
        id="reliability.goodput-vs-interval",
        title=f"Goodput vs checkpoint interval: MTBF {GOODPUT_MTBF_S / 3600:g} h, checkpoint "
              f"{GOODPUT_CKPT_S / 60:g} min, restart {GOODPUT_RESTART_S / 60:g} min "
              f"({GOODPUT_RUNS} simulated {GOODPUT_SOLVE_S / 3600:g}-hour jobs, seeds "
              f"{GOODPUT_SEED}-{GOODPUT_SEED + GOODPUT_RUNS - 1})",
        columns=(Column(name="interval"), Column(name="work between checkpoints", unit="min"),
                 Column(name="goodput, Daly", unit="fraction", fidelity="model"),
                 Column(name="goodput, simulated", unit="fraction", fidelity="simulation"),
                 Column(name="simulated / Daly wall time", fidelity="simulation"),
                 Column(name="its 95 % half-width", fidelity="simulation")),
        rows=tuple(body), inputs=(),
        notes=("Model: Daly, A higher order estimate of the optimum checkpoint interval for "
               "restart dumps, FGCS 22(3), 2006, eq. 20 (expected wall time) and eq. 37 (the "
               "optimum, 56.7 min here) (mlfleet.reliability.checkpoint_interval).",
               "Simulation: exponential failures that may strike during work, checkpoints and "
               "restarts, on the discrete-event kernel (mlfleet.reliability.sim); goodput = "
               "work / mean wall time."))

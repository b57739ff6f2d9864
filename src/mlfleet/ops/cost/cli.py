"""``mlfleet ops cost``: chargeback on the OpenCost model from allocation files, the cluster
and serving simulators and real runs' logs; budgets, right-sizing and commitments.

Every file argument defaults to a bundled example (``mlfleet/examples/cost/``). Bad input
exits 2 with one line; no command writes a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from mlfleet.lazy_group import LazyGroup
from mlfleet.ops.cost.cli_options import (
    chargeback_options,
    existing_file,
    overhead_usd,
    pricing_options,
    rates_from,
)
from mlfleet.units import duration_option

COST_COMMANDS: dict[str, tuple[str, str, str]] = {
    "allocate": ("mlfleet.ops.cost.cli", "allocate_command",
                 "Chargeback from an allocation file (max(request, usage) x hours x rate)."),
    "cluster": ("mlfleet.ops.cost.cli", "cluster_command",
                "Chargeback by team from a cluster scheduling simulation."),
    "serving": ("mlfleet.ops.cost.cli", "serving_command",
                "Chargeback by model from serving simulations of each model's fleet."),
    "run": ("mlfleet.ops.cost.cli", "run_command",
            "The cost of real training runs from their logs (JSON, or per-rank --log-dir)."),
    "budget": ("mlfleet.ops.cost.cli_manage", "budget_command",
               "Month-to-date spend and run-rate forecast against each team's budget."),
    "rightsize": ("mlfleet.ops.cost.cli_manage", "rightsize_command",
                  "Requests far above usage: recommended request and monthly saving."),
    "commit": ("mlfleet.ops.cost.cli_manage", "commit_command",
               "Reserved for the floor, on-demand or spot for the rest of a demand profile."),
}
"""Command name -> (module, attribute, one-line help)."""


@click.group("cost", cls=LazyGroup, registry=COST_COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
def cost_group() -> None:
    """Cost attribution (OpenCost model): chargeback by team and model, budgets."""


def _chargeback(allocations: Any, opts: dict[str, Any], *, capacity: Any, fidelity: str,
                source: str, workloads: bool = False) -> None:
    """Bill ``allocations`` and print (``workloads``: with one row per allocation)."""
    from mlfleet.ops.cost.chargeback import chargeback
    from mlfleet.ops.cost.report import chargeback_document, emit, workload_rows
    from mlfleet.ops.cost.shares import Split

    rates = rates_from(opts)
    cb = chargeback(allocations, rates=rates, by=opts["by"], split=Split.parse(opts["split_text"]),
                    capacity=capacity, overhead_usd=overhead_usd(opts["overhead"]),
                    share_idle=not opts["keep_idle"])
    doc = chargeback_document(cb, rates=rates, fidelity=fidelity, source=source)
    if workloads:
        doc["workloads"] = workload_rows(allocations, rates)
    emit(doc, opts["as_json"])


def _capacity(text: str | None, window: str | None, allocations: Any) -> Any:
    """``gpu=8,cpu=64`` held for ``window`` (default: the longest allocation)."""
    from mlfleet.errors import InputError
    from mlfleet.ops.cost.breakdown import Capacity
    from mlfleet.ops.cost.resources import Resource

    if text is None:
        if window is not None:
            raise InputError(f"--window(={window!r}) needs --capacity")
        return None
    amounts = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        known = [r.value for r in Resource]
        if not sep or key.strip() not in known:
            raise InputError(f"--capacity item {item!r} must be RESOURCE=AMOUNT with RESOURCE "
                             f"one of {', '.join(known)}, e.g. gpu=8,cpu=64")
        try:
            amounts[Resource(key.strip())] = float(value)
        except ValueError:
            raise InputError(f"--capacity item {item!r}: {value!r} is not a number") from None
    hours = duration_option("--window", window) / 3600 if window is not None \
        else max(a.duration_h for a in allocations)
    return Capacity(amounts=amounts, duration_h=hours)


@click.command("allocate")
@click.argument("allocations", required=False, type=click.Path(path_type=Path))
@click.option("--capacity", help="The cluster's resources, e.g. gpu=8,cpu=64,ram_gb=512 "
                                 "[none: idle is 0].")
@click.option("--window", help="Period the capacity is held, e.g. 24h [the longest "
                               "allocation].")
@pricing_options
@chargeback_options
def allocate_command(allocations: Path | None, capacity: str | None, window: str | None,
                     **opts: Any) -> None:
    """Chargeback from ALLOCATIONS (CSV; default: the bundled worked example)."""
    from mlfleet.ops.cost.allocation_file import read_allocations
    from mlfleet.ops.cost.shares import Split

    path = existing_file(allocations, "allocations.csv", "ALLOCATIONS")
    split = Split.parse(opts["split_text"])
    found = read_allocations(path, metrics=[split.metric] if split.metric else [])
    _chargeback(found, opts, capacity=_capacity(capacity, window, found), fidelity="model",
                source=path.name)


@click.command("cluster")
@click.argument("workload", required=False)
@click.option("--policy", default="tiresias", show_default=True, help="Scheduling policy.")
@click.option("--nodes", type=click.IntRange(min=1), default=None,
              help="Nodes [16 for Pollux workloads; a trace: sized for load 0.7].")
@click.option("--gpus-per-node", type=click.IntRange(min=1), default=4, show_default=True)
@pricing_options
@chargeback_options
def cluster_command(workload: str | None, policy: str, nodes: int | None, gpus_per_node: int,
                    **opts: Any) -> None:
    """Chargeback from a cluster simulation of WORKLOAD (default: the bundled teams trace)."""
    from mlfleet.infra.scheduling.run import run_cluster
    from mlfleet.infra.scheduling.workload import load_workload
    from mlfleet.ops.cost.from_cluster import cluster_usage

    source = workload if workload is not None else str(existing_file(None, "teams-trace.csv",
                                                                      "WORKLOAD"))
    run = run_cluster(load_workload(source), policy=policy, nodes=nodes,
                      gpus_per_node=gpus_per_node)
    usage = cluster_usage(run.result.records, cluster_gpus=run.nodes * run.gpus_per_node,
                          makespan_s=run.result.metrics.makespan_s)
    _chargeback(usage.allocations, opts, capacity=usage.capacity, fidelity="simulate",
                source=f"{run.workload.name} under {policy}")


@click.command("serving")
@click.argument("models", required=False, type=click.Path(path_type=Path))
@click.option("--window", default="730.5h", show_default=True, help="Billing period.")
@click.option("--requests", type=click.IntRange(min=1, max=200_000), default=2000,
              show_default=True, help="Requests simulated per model.")
@click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True)
@pricing_options
@chargeback_options
def serving_command(models: Path | None, window: str, requests: int, seed: int,
                    **opts: Any) -> None:
    """Chargeback from serving simulations of MODELS (CSV; default: the bundled models)."""
    from mlfleet.ops.cost.from_serving import read_models, serving_allocations

    path = existing_file(models, "models.csv", "MODELS")
    hours = duration_option("--window", window) / 3600
    found = serving_allocations(read_models(path), window_h=hours, requests=requests, seed=seed)
    _chargeback(found, opts, capacity=None, fidelity="simulate", source=path.name,
                workloads=True)


@click.command("run")
@click.argument("logs", nargs=-1, type=click.Path(path_type=Path))
@click.option("--team", default="default", show_default=True)
@click.option("--model", default="model", show_default=True)
@click.option("--device", type=click.Choice(["cpu", "gpu"]), default="cpu", show_default=True,
              help="What each rank held.")
@pricing_options
@chargeback_options
def run_command(logs: tuple[Path, ...], team: str, model: str, device: str,
                **opts: Any) -> None:
    """The cost of real runs from their LOGS: JSON of mlfleet run train --json, or a --log-dir
    of per-rank logs (default: a bundled JSON log of a 2-rank run on this machine)."""
    from mlfleet.ops.cost.from_rank_logs import read_rank_logs
    from mlfleet.ops.cost.from_run import read_run_log

    paths = [p if p.is_dir() else existing_file(p, "", "LOGS") for p in logs] \
        or [existing_file(None, "train-run.json", "LOGS")]
    found = [a for p in paths for a in (
        read_rank_logs(p, team=team, model=model, device=device) if p.is_dir()
        else [read_run_log(p, team=team, model=model, device=device)])]
    _chargeback(found, opts, capacity=None, fidelity="run",
                source=", ".join(p.name for p in paths), workloads=True)

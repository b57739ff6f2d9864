"""Allocations from the serving simulator (:mod:`mlfleet.serving.sim`), one per model.

Each model runs on its own fleet of ``replicas x tp`` GPUs for the whole billing window
(replicas are provisioned whether busy or not, so that is its request); the simulation
of its traffic gives how busy the replicas were (``utilization``: used GPUs = request x
utilization, the workload idle cost of OpenCost) and how many requests it answers per
second, which, over the window, is the ``requests`` metric for ``--split metric:requests``.

A models file is a CSV with columns ``model``, ``team``, ``workload`` (catalog),
``accelerator``, ``qps``, ``replicas`` and optionally ``tp`` (1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mlfleet.checks import positive, positive_int
from mlfleet.errors import InputError
from mlfleet.ops.cost.allocation import Allocation
from mlfleet.ops.cost.allocation_file import AllocationFileError, read_rows
from mlfleet.ops.cost.resources import Resource

MODEL_COLUMNS = ("model", "team", "workload", "accelerator", "qps", "replicas")


@dataclass(frozen=True, kw_only=True)
class ServedModel:
    """One model's fleet and traffic."""

    model: str
    team: str
    workload: str
    accelerator: str
    qps: float
    replicas: int
    tp: int = 1

    def __post_init__(self) -> None:
        positive("qps", self.qps)
        positive_int("replicas", self.replicas)
        positive_int("tp", self.tp)


@dataclass(frozen=True, kw_only=True)
class ServedUsage:
    """What the simulation of one model measured."""

    model: ServedModel
    utilization: float
    throughput_per_s: float
    requests_simulated: int


def simulate_model(model: ServedModel, *, requests: int, seed: int) -> ServedUsage:
    """Run ``requests`` Poisson requests of ``model`` through its fleet."""
    from mlfleet.catalog.types import Workload
    from mlfleet.serving.lb.registry import make_load_balancer
    from mlfleet.serving.sim import arrivals as arr
    from mlfleet.serving.sim.engine import Engine
    from mlfleet.serving.sim.fleet import FleetSpec, build_fleet

    llm = Workload.from_name(model.workload).unit == "token"
    spec = FleetSpec(workload=model.workload, accelerator=model.accelerator,
                     batching="paged" if llm else "dynamic", replicas=model.replicas,
                     tp=model.tp)
    r_stream, r_engine = np.random.default_rng(seed).spawn(2)
    lengths = {"prompt": arr.LogNormal(median=512, sigma=0.6, max_tokens=4096),
               "output": arr.LogNormal(median=128, sigma=0.6, max_tokens=4096)} if llm else {}
    stream = arr.make_requests(positive_int("requests", requests),
                               arrivals=arr.PoissonArrivals(rate_per_s=model.qps),
                               rng=r_stream, **lengths)  # type: ignore[arg-type]
    result = Engine(requests=stream, replicas=build_fleet(spec), rng=r_engine,
                    lb=make_load_balancer("round_robin")).run()
    summary = result.summary()
    return ServedUsage(model=model, utilization=min(summary.utilization, 1.0),
                       throughput_per_s=summary.throughput_per_s,
                       requests_simulated=len(stream))


def served_allocation(usage: ServedUsage, *, window_h: float) -> Allocation:
    """The model's GPUs for ``window_h``, busy ``utilization`` of the time."""
    m = usage.model
    gpus = float(m.replicas * m.tp)
    return Allocation(name=m.model, team=m.team, model=m.model,
                      duration_h=positive("window_h", window_h),
                      requested={Resource.GPU: gpus},
                      used={Resource.GPU: gpus * usage.utilization},
                      metrics={"requests": usage.throughput_per_s * window_h * 3600.0})


def read_models(path: Path) -> list[ServedModel]:
    """The models of a models file (AllocationFileError naming file, line, column)."""
    header, body = read_rows(path)
    missing = [c for c in MODEL_COLUMNS if c not in header]
    if missing:
        raise AllocationFileError(f"{path.name}: missing column(s) {', '.join(missing)}; "
                                  f"columns: {', '.join(header)}")
    return [_model(path.name, line, row) for line, row in body]


def _model(file: str, line: int, row: dict[str, str]) -> ServedModel:
    try:
        return ServedModel(model=row["model"], team=row["team"], workload=row["workload"],
                           accelerator=row["accelerator"], qps=float(row["qps"]),
                           replicas=int(row["replicas"]), tp=int(row.get("tp") or 1))
    except (ValueError, InputError) as exc:
        raise AllocationFileError(f"{file}: line {line}: {exc}") from None


def serving_allocations(models: Sequence[ServedModel], *, window_h: float, requests: int,
                        seed: int) -> list[Allocation]:
    """One allocation per model (each simulated with its own seed stream)."""
    seeds = np.random.SeedSequence(seed).generate_state(len(models))
    return [served_allocation(simulate_model(m, requests=requests, seed=int(s)),
                              window_h=window_h) for m, s in zip(models, seeds, strict=True)]

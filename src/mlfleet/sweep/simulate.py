"""Simulation sweeps: each valid grid point becomes a simulator point, run on Ray.

``--sim serving`` runs the serving simulator (:func:`mlfleet.sweep.points.serving_point`)
per point with the scenario's workload, ``cluster.accelerator``, ``serving.precision``,
``serving.qps`` and request sizes, and one replica per GPU of ``cluster.gpus`` (tensor
parallelism 1), with paged (continuous) batching for an LLM and dynamic batching for any
other workload (one item per request: the point has no ``items_per_request``). ``--sim cluster`` runs the cluster-scheduling simulator
(:func:`mlfleet.sweep.points.cluster_point`) on the shared cluster the training job queues
on (``scheduling.shared_gpus``, else ``cluster.gpus``) under ``scheduling.policy``, with a
bundled Pollux job trace; its nodes have at most 4 GPUs, the size the Pollux jobs were
profiled on. The points fan out on Ray (:func:`mlfleet.sweep.ray_backend.run_points`): local by
default, an existing cluster with ``address``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mlfleet.scenario import Scenario
from mlfleet.sweep.grid import SweepInputError
from mlfleet.sweep.points import CLUSTER_METRICS, SERVING_METRICS
from mlfleet.sweep.training_inputs import workload_of_name

SIMULATIONS: Mapping[str, str] = {
    "serving": "mlfleet.sweep.points:serving_point",
    "cluster": "mlfleet.sweep.points:cluster_point",
}
"""``--sim`` names and the point function each runs."""

PROFILED_GPUS_PER_NODE = 4
"""Node size of the Pollux job profiles the cluster simulator replays (Qiao et al., OSDI'21)."""

SIM_METRICS: Mapping[str, tuple[str, ...]] = {"serving": SERVING_METRICS,
                                               "cluster": CLUSTER_METRICS}


@dataclass(frozen=True, kw_only=True)
class SimOptions:
    """How each simulation point runs."""

    requests: int = 2000
    """Requests per serving simulation."""
    seed: int = 1
    """Seed of every serving simulation (the same for every point: common random numbers)."""
    address: str | None = None
    """``HOST:PORT`` of an existing Ray cluster; None starts a private local Ray."""
    num_cpus: int | None = None
    """CPUs of the local Ray (None: Ray's default, all cores)."""


def sim_point(sim: str, scenario: Scenario, options: SimOptions) -> dict[str, Any]:
    """The point dict of ``sim`` for one scenario (module docstring)."""
    if sim == "serving":
        serving = scenario.serving
        if serving is None:
            raise SweepInputError("--sim serving needs a scenario with a serving section")
        point: dict[str, Any] = {
            "workload": scenario.workload, "accelerator": scenario.cluster.accelerator,
            "precision": serving.precision, "replicas": scenario.cluster.gpus,
            "qps": serving.qps, "requests": options.requests, "seed": options.seed,
            "batching": "paged" if workload_of_name(scenario.workload).unit == "token"
            else "dynamic"}
        point.update({key: getattr(serving, key) for key in ("prompt_tokens", "output_tokens")
                      if getattr(serving, key) is not None})
        return point
    sched = scenario.scheduling
    gpus = scenario.cluster.gpus if sched is None else sched.shared_gpus
    per_node = min(scenario.cluster.gpus_per_node, PROFILED_GPUS_PER_NODE)
    point = {"nodes": max(1, gpus // per_node), "gpus_per_node": per_node}
    if sched is not None:
        point["policy"] = sched.policy
    return point


def simulate(sim: str, points: Sequence[dict[str, Any]], options: SimOptions, *,
             progress: Callable[[int], None] | None = None) -> dict[str, list[Any]]:
    """Run ``sim`` on every point (:func:`sim_point`) on Ray; one list per metric, in order."""
    from mlfleet.sweep.ray_backend import run_points

    results = run_points(SIMULATIONS[sim], list(points), address=options.address,
                         num_cpus=options.num_cpus, progress=progress)
    return {name: [result[name] for result in results] for name in SIM_METRICS[sim]}

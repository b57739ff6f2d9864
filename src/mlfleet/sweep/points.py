"""Point functions for simulation sweeps: one design point (a dict) in, metrics (a dict) out.

A sweep backend (:mod:`mlfleet.sweep.ray_backend`) runs ``"module:function"`` on each
point, so a point function takes plain JSON values and returns plain JSON values
(floats, ints, strings): it must be importable on every Ray worker and its result
must cross a process boundary. Both functions are deterministic for a given point
(the seed is one of its fields), so a sweep's result does not depend on where or in
what order its points ran.

* :func:`serving_point` — the serving simulator (``mlfleet sim serve``'s engine);
* :func:`cluster_point` — the cluster-scheduling simulator (``mlfleet sim cluster``);
* :func:`located_point` — any of them, plus the Ray node it ran on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from mlfleet.errors import InputError

if TYPE_CHECKING:
    from mlfleet.serving.sim.arrivals import LogNormal

SERVING_DEFAULTS: dict[str, Any] = {
    "workload": "Llama-3-8B", "accelerator": "A100-80GB", "precision": "bf16",
    "batching": "paged", "replicas": 1, "qps": 4.0, "requests": 2000, "seed": 1,
    "prompt_tokens": 512, "output_tokens": 128, "lb": "round_robin",
}
"""Fields of a serving point and their values when the point leaves them out."""

CLUSTER_DEFAULTS: dict[str, Any] = {
    "workload": "workload-3@0.5", "policy": "tiresias", "nodes": 16, "gpus_per_node": 4,
    "interval_s": 60.0,
}
"""Fields of a cluster point and their values when the point leaves them out."""

SERVING_METRICS = ("throughput_per_s", "tokens_per_s", "utilization", "ttft_p50_s",
                   "ttft_p99_s", "tpot_p50_s", "e2e_p50_s", "e2e_p99_s", "completed")
"""What :func:`serving_point` returns, in this order."""

CLUSTER_METRICS = ("avg_jct_s", "median_jct_s", "p99_jct_s", "avg_queueing_s", "makespan_s",
                   "gpu_utilisation", "finished", "preemptions")
"""What :func:`cluster_point` returns, in this order."""


def with_defaults(point: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """``point`` over ``defaults``; InputError naming a field that is not one of them."""
    unknown = sorted(set(point) - set(defaults))
    if unknown:
        raise InputError(f"point field(={unknown[0]!r}) is unknown; known: "
                         f"{', '.join(sorted(defaults))}")
    return {**defaults, **point}


def serving_point(point: Mapping[str, Any]) -> dict[str, Any]:
    """Simulate one serving configuration; latency percentiles and throughput.

    Poisson arrivals at ``qps``; for an LLM, lognormal prompt/output lengths (sigma 0.6,
    the simulator's default) around the given medians (other workloads: one item per
    request, the token fields unused); ``replicas`` replicas of the
    catalog ``workload`` on ``accelerator``; seeded, so the same point gives the same
    numbers bit for bit. Raises InputError (or a catalog error) for bad fields.
    """
    from mlfleet.catalog.types import Workload
    from mlfleet.serving.lb.registry import make_load_balancer
    from mlfleet.serving.sim import arrivals as arr
    from mlfleet.serving.sim.engine import Engine
    from mlfleet.serving.sim.fleet import FleetSpec, build_fleet

    p = with_defaults(point, SERVING_DEFAULTS)
    spec = FleetSpec(workload=p["workload"], accelerator=p["accelerator"],
                     precision=p["precision"], batching=p["batching"],
                     replicas=int(p["replicas"]))
    r_stream, r_engine = np.random.default_rng(int(p["seed"])).spawn(2)
    llm = Workload.from_name(spec.workload).unit == "token"
    stream = arr.make_requests(
        int(p["requests"]), arrivals=arr.PoissonArrivals(rate_per_s=float(p["qps"])),
        rng=r_stream, prompt=_lengths(p["prompt_tokens"]) if llm else None,
        output=_lengths(p["output_tokens"]) if llm else None)
    result = Engine(requests=stream, replicas=build_fleet(spec), rng=r_engine,
                    lb=make_load_balancer(p["lb"])).run()
    m = result.summary()
    values = {"throughput_per_s": m.throughput_per_s, "tokens_per_s": m.tokens_per_s,
              "utilization": m.utilization, "ttft_p50_s": m.ttft.p50_s,
              "ttft_p99_s": m.ttft.p99_s, "tpot_p50_s": m.tpot.p50_s,
              "e2e_p50_s": m.e2e.p50_s, "e2e_p99_s": m.e2e.p99_s, "completed": m.completed}
    return {name: _plain(values[name]) for name in SERVING_METRICS}


def _lengths(median: Any) -> LogNormal:
    """Lognormal token counts around ``median`` (the simulator's default sigma, 0.6)."""
    from mlfleet.serving.sim import arrivals as arr

    return arr.LogNormal(median=int(median), sigma=0.6)


def cluster_point(point: Mapping[str, Any]) -> dict[str, Any]:
    """Simulate one cluster-scheduling configuration; job completion time summary.

    ``workload`` is a bundled Pollux workload (``workload-3@0.5``) or ``philly``;
    ``policy`` one of ``mlfleet sim cluster``'s. Deterministic. Raises InputError
    subclasses for bad fields.
    """
    from mlfleet.infra.scheduling.run import run_cluster
    from mlfleet.infra.scheduling.workload import load_workload

    p = with_defaults(point, CLUSTER_DEFAULTS)
    run = run_cluster(load_workload(str(p["workload"])), policy=str(p["policy"]),
                      nodes=int(p["nodes"]), gpus_per_node=int(p["gpus_per_node"]),
                      interval_s=float(p["interval_s"]))
    m = run.result.metrics
    return {name: _plain(getattr(m, name)) for name in CLUSTER_METRICS}


def located_point(point: Mapping[str, Any]) -> dict[str, Any]:
    """Run ``point["func"]`` (``"module:function"``) on the other fields and add where it
    ran: ``node_id`` and ``node_ip`` of the Ray node (both None outside Ray), ``pid``.

    For checking how a sweep spread over a cluster; the metrics are the inner function's.
    """
    import os

    from mlfleet.sweep.ray_backend import call_point

    fields = dict(point)
    func = fields.pop("func", None)
    if not isinstance(func, str):
        raise InputError(f"point field func(={func!r}) must name the point function, "
                         "e.g. 'mlfleet.sweep.points:serving_point'")
    result = call_point(func, fields)
    node_id, node_ip = _ray_node()
    return {**result, "node_id": node_id, "node_ip": node_ip, "pid": os.getpid()}


def _ray_node() -> tuple[str | None, str | None]:
    """(node id, node IP) of the Ray node this process is a worker of; Nones outside Ray."""
    try:
        import ray
    except ModuleNotFoundError:
        return None, None
    if not ray.is_initialized():
        return None, None
    node_ip: str = ray.util.get_node_ip_address()  # type: ignore[no-untyped-call]
    return ray.get_runtime_context().get_node_id(), node_ip


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python number it holds (Parquet and JSON want plain types)."""
    return value.item() if isinstance(value, np.generic) else value

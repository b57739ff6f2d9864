"""One cluster-scheduling run from user-level arguments: workload, policy, cluster.

What ``mlfleet sim cluster`` (and the benchmark) call: resolves the policy name in
:data:`~.policies.POLICIES`, sizes the cluster for a trace when no node count is
given, refuses a cluster smaller than the largest job, and runs the engine.
"""

from __future__ import annotations

import importlib
import inspect
import math
from collections.abc import Mapping
from dataclasses import dataclass

from mlfleet.errors import InputError
from mlfleet.infra.scheduling.engine import Progress, simulate
from mlfleet.infra.scheduling.policies import POLICIES
from mlfleet.infra.scheduling.policies.options import build
from mlfleet.infra.scheduling.results import ClusterResult
from mlfleet.infra.scheduling.types import JobSpec, Policy
from mlfleet.infra.scheduling.workload import Workload

POLLUX_NODES = 16
"""Nodes of the Pollux artifact's cluster (16 x 4 GPUs)."""
PROFILED_MAX_GPUS_PER_NODE = 4
"""The application profiles were measured on 4-GPU nodes."""
TRACE_TARGET_LOAD = 0.7
"""Offered load a trace's cluster is sized for when no node count is given."""


class PolicyNameError(InputError):
    """A scheduling policy name that is not registered."""


class ClusterSizeError(InputError):
    """A cluster that cannot run the workload (smaller than its largest job)."""


def make_policy(name: str, *, interval_s: float, options: Mapping[str, str] | None = None) -> Policy:
    """The registered policy ``name`` with scheduling interval ``interval_s`` and its own
    ``options`` (text values, as ``--option KEY=VALUE`` gives them; an unknown key or a bad
    value is a one-line :class:`~.policies.options.PolicyOptionError`)."""
    if name not in POLICIES:
        raise PolicyNameError(f"policy(={name!r}) is unknown; known: {', '.join(sorted(POLICIES))}")
    module, attribute, _ = POLICIES[name]
    factory = getattr(importlib.import_module(module), attribute)
    given = {"interval_s": interval_s, **(options or {})}
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD
                    for p in inspect.signature(factory).parameters.values())
    policy: Policy = factory(**given) if takes_any else build(factory, name, given)
    return policy


def sized_nodes(specs: tuple[JobSpec, ...], *, gpus_per_node: int,
                load: float = TRACE_TARGET_LOAD) -> int:
    """Nodes for a trace: its GPU-seconds over its submission span at ``load``, and at
    least enough for the largest job."""
    span_s = max(s.submit_s for s in specs) - min(s.submit_s for s in specs)
    gpu_s = sum(s.gpus * (s.duration_s or 0.0) for s in specs)
    by_load = math.ceil(gpu_s / (span_s * load * gpus_per_node)) if span_s > 0 else 1
    return max(by_load, math.ceil(max(s.gpus for s in specs) / gpus_per_node))


@dataclass(frozen=True, kw_only=True)
class ClusterRun:
    """A finished run and the cluster it ran on."""

    workload: Workload
    nodes: int
    gpus_per_node: int
    interval_s: float
    result: ClusterResult


def run_cluster(workload: Workload, *, policy: str, nodes: int | None = None,
                gpus_per_node: int = 4, interval_s: float = 60.0,
                restart_delay_s: float = 30.0, progress: Progress | None = None,
                options: Mapping[str, str] | None = None) -> ClusterRun:
    """Simulate ``workload`` under ``policy`` (with the policy's own ``options``); raises
    InputError subclasses for bad input."""
    chosen = make_policy(policy, interval_s=interval_s, options=options)
    if workload.kind == "pollux" and gpus_per_node > PROFILED_MAX_GPUS_PER_NODE:
        raise ClusterSizeError(f"gpus_per_node(={gpus_per_node}) must be <= "
                               f"{PROFILED_MAX_GPUS_PER_NODE} for profiled jobs (the Pollux "
                               "profiles were measured on 4-GPU nodes)")
    if nodes is None:
        nodes = POLLUX_NODES if workload.kind == "pollux" else sized_nodes(
            workload.specs, gpus_per_node=gpus_per_node)
    biggest = max(workload.specs, key=lambda s: s.gpus)
    if biggest.gpus > nodes * gpus_per_node:
        raise ClusterSizeError(
            f"cluster(={nodes} nodes x {gpus_per_node} GPUs = {nodes * gpus_per_node}) is smaller "
            f"than the largest job ({biggest.name}: {biggest.gpus} GPUs)")
    result = simulate(workload.specs, workload.speeds(gpus_per_node=gpus_per_node), chosen,
                      nodes=nodes, gpus_per_node=gpus_per_node, restart_delay_s=restart_delay_s,
                      progress=progress)
    return ClusterRun(workload=workload, nodes=nodes, gpus_per_node=gpus_per_node,
                      interval_s=interval_s, result=result)

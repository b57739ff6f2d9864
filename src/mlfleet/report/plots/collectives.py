"""AllReduce time vs message size per algorithm, with the sizes where the fastest changes.

The times are :func:`mlfleet.comm.select.allreduce_times` (α-β-γ closed forms per link
class) on the data-parallel group the plan's communication section uses
(:func:`mlfleet.plan.communication.dp_group_cluster`); the winner's ranges come from
:func:`mlfleet.comm.select.crossover`. The plan's own gradient AllReduce is marked.
"""

from __future__ import annotations

import numpy as np

from mlfleet.comm.select import allreduce_times, crossover
from mlfleet.comm.topology import Topology, from_cluster
from mlfleet.plan.communication import dp_degree, dp_group_cluster
from mlfleet.plan.compose import Plan
from mlfleet.report.plots.chart import Axis, Chart, Marker, RefLine, Series
from mlfleet.scenario import Scenario
from mlfleet.units import format_bytes

SIZE_RANGE_BYTES = (1024.0, 2.0**36)
"""Message sizes spanned: 1 KiB to 64 GiB."""
DEFAULT_RANKS = 64
"""Ranks of the group drawn when the scenario has no data-parallel training job."""


def chart(scenario: Scenario, plan: Plan) -> Chart | None:
    """The collectives chart; None for a scenario of a single GPU."""
    topo = _topology(scenario, plan)
    if topo is None:
        return None
    sizes = np.logspace(np.log10(SIZE_RANGE_BYTES[0]), np.log10(SIZE_RANGE_BYTES[1]), 97)
    times = allreduce_times(topo, sizes)
    series = tuple(Series(name=name, x=tuple(sizes), y=tuple(t.tolist()))
                   for name, t in times.items())
    ranges = crossover(topo, min_bytes=SIZE_RANGE_BYTES[0], max_bytes=SIZE_RANGE_BYTES[1]).ranges
    refs = tuple(RefLine(axis="x", value=r.from_bytes, label=f"→ {r.algorithm}")
                 for r in ranges[1:])
    first = ranges[0].algorithm
    return Chart(
        plot_id="collectives",
        title=f"AllReduce on {topo.ranks} ranks ({topo.nodes} nodes x {topo.local_ranks} GPUs)",
        caption=(f"The lowest line wins at each size: {first} below "
                 f"{format_bytes(ranges[1].from_bytes) if len(ranges) > 1 else 'every size'}"
                 + "".join(f", {r.algorithm} from {format_bytes(r.from_bytes)}"
                           for r in ranges[1:]) + "; dotted lines mark where the winner changes."),
        x=Axis(label="message size (bytes)", log=True),
        y=Axis(label="AllReduce time (s)", log=True),
        series=series, refs=refs, markers=_plan_marker(plan))


def _topology(scenario: Scenario, plan: Plan) -> Topology | None:
    """The plan's data-parallel group; else :data:`DEFAULT_RANKS` GPUs of the cluster."""
    cluster = scenario.cluster.to_cluster()
    if plan.results.communication is not None:
        data, shards = dp_degree(scenario)
        return from_cluster(dp_group_cluster(cluster, data=data, shards=shards), ranks=data)
    ranks = min(DEFAULT_RANKS, scenario.cluster.gpus)
    return None if ranks < 2 else from_cluster(cluster, ranks=ranks)


def _plan_marker(plan: Plan) -> tuple[Marker, ...]:
    comm = plan.results.communication
    if comm is None:
        return ()
    chosen = comm.data_parallel
    return (Marker(x=chosen.gradient_bytes, y=chosen.allreduce.time_s,
                   label=f"plan: {format_bytes(chosen.gradient_bytes)} gradients, "
                         f"{chosen.allreduce.algorithm}"),)

"""Which nodes a job gets: select/cons_tres's best fit over consecutive node sets.

cons_tres (Slurm 22.05, ``_eval_nodes_consec`` without a topology plugin) groups the nodes
able to host the job into runs of consecutive node indices and picks the tightest run that
holds the job, counting the CPUs the job could use in each: with one task per node those
are the job's own CPUs on every node, so the tightest run is the one with the fewest
nodes (the first on ties); it takes that run's lowest-indexed nodes. If no single run is
long enough it takes nodes from the runs in index order. Free GPUs and CPUs are per node;
the job needs ``gpus_per_node`` and ``cpus_per_node`` on each of ``nodes`` nodes.
"""

from __future__ import annotations

from collections.abc import Sequence


def usable_nodes(free_gpus: Sequence[int], free_cpus: Sequence[int], *, gpus_per_node: int,
                 cpus_per_node: int) -> list[int]:
    """Indices of the nodes that can host one node's share of the job."""
    return [i for i, (g, c) in enumerate(zip(free_gpus, free_cpus, strict=True))
            if g >= gpus_per_node and c >= cpus_per_node]


def consecutive_runs(indices: Sequence[int]) -> list[list[int]]:
    """``[0, 1, 3]`` -> ``[[0, 1], [3]]``."""
    runs: list[list[int]] = []
    for i in indices:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def select_nodes(free_gpus: Sequence[int], free_cpus: Sequence[int], *, nodes: int,
                 gpus_per_node: int, cpus_per_node: int) -> tuple[int, ...] | None:
    """The nodes the job would get now, sorted; None if it does not fit."""
    usable = usable_nodes(free_gpus, free_cpus, gpus_per_node=gpus_per_node,
                          cpus_per_node=cpus_per_node)
    if len(usable) < nodes:
        return None
    runs = [r for r in consecutive_runs(usable) if len(r) >= nodes]
    if not runs:
        return tuple(usable[:nodes])
    best = min(runs, key=lambda r: (len(r), r[0]))
    return tuple(best[:nodes])

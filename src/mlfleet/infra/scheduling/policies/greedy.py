"""Greedy placement shared by Tiresias and Optimus: most-free nodes first."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mlfleet.infra.scheduling.types import ClusterView, JobView, Placement


def most_free_first(jobs: Sequence[JobView], cluster: ClusterView,
                    gpus_of: Callable[[JobView], int]) -> dict[str, Placement]:
    """Keep each listed job's current placement if it has ``gpus_of(job)`` GPUs; place
    the others, in list order, on the nodes with the most free GPUs (ties: lowest
    index), as the Pollux artifact's Tiresias and Optimus do. Jobs not listed hold
    nothing. Assumes the listed jobs fit in the cluster's total GPUs."""
    free = [cluster.gpus_per_node] * cluster.nodes
    placed: dict[str, Placement] = {}
    for job in jobs:
        if job.placement and len(job.placement) == gpus_of(job):
            placed[job.spec.name] = job.placement
            for node in job.placement:
                free[node] -= 1
    for job in jobs:
        if job.spec.name in placed:
            continue
        want, nodes = gpus_of(job), list[int]()
        while len(nodes) < want:
            node = max(range(len(free)), key=free.__getitem__)
            take = min(free[node], want - len(nodes))
            nodes.extend([node] * take)
            free[node] -= take
        placed[job.spec.name] = tuple(sorted(nodes))
    return placed

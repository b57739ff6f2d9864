"""GPUs in use per node, and the check of a policy's placements against capacity."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mlfleet.errors import RunError
from mlfleet.infra.scheduling.job_state import JobState
from mlfleet.infra.scheduling.types import Placement

EPS = 1e-9


class PlacementError(RunError):
    """A policy returned an impossible placement (a node over capacity, an unknown job)."""


class NodeUsage:
    """Per-node GPUs in use (a job with ``gpu_fraction`` < 1 counts that much per GPU)."""

    def __init__(self, *, nodes: int, gpus_per_node: int, policy: str) -> None:
        self.nodes, self.gpus_per_node, self.policy = nodes, gpus_per_node, policy
        self.used = [0.0] * nodes

    def free(self) -> tuple[int, ...]:
        """Whole free GPUs per node."""
        return tuple(int(self.gpus_per_node - u + EPS) for u in self.used)

    def move(self, job: JobState, old: Placement, new: Placement) -> None:
        """Account ``job`` moving from ``old`` to ``new``."""
        share = job.spec.gpu_fraction
        for node in old:
            self.used[node] -= share
        for node in new:
            self.used[node] += share

    def changes(self, active: Sequence[JobState],
                decided: Mapping[str, Placement]) -> list[tuple[JobState, Placement]]:
        """``(job, new placement)`` of every active job whose placement changes; raises
        :class:`PlacementError` for an unknown job, a bad node or a node over capacity."""
        out: list[tuple[JobState, Placement]] = []
        seen = 0
        for job in active:
            new = decided.get(job.spec.name, ())
            seen += job.spec.name in decided
            if new is job.placement:
                continue
            new = self._checked(job, new)
            if new != job.placement:
                out.append((job, new))
        if seen != len(decided):
            names = {j.spec.name for j in active}
            unknown = sorted(n for n in decided if n not in names)
            raise PlacementError(f"policy {self.policy!r} placed {unknown[0]!r}, which is "
                                 "not an active job")
        self._check_capacity(out)
        return out

    def _checked(self, job: JobState, placement: Placement) -> Placement:
        nodes = tuple(sorted(int(n) for n in placement))
        if nodes and (nodes[0] < 0 or nodes[-1] >= self.nodes):
            raise PlacementError(f"policy {self.policy!r} placed {job.spec.name!r} on nodes "
                                 f"{nodes}; nodes are 0..{self.nodes - 1}")
        return nodes

    def _check_capacity(self, changes: list[tuple[JobState, Placement]]) -> None:
        after = list(self.used)
        for job, new in changes:
            for node in job.placement:
                after[node] -= job.spec.gpu_fraction
            for node in new:
                after[node] += job.spec.gpu_fraction
        for node, used in enumerate(after):
            if used > self.gpus_per_node + EPS:
                movers = [j.spec.name for j, new in changes if node in new]
                raise PlacementError(
                    f"policy {self.policy!r} put {used:g} GPUs on node {node}, which has "
                    f"{self.gpus_per_node} (jobs placed there this round: {movers})")

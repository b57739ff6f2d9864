"""Gandiva: time-slicing, locality-aware placement and migration (Xiao et al., OSDI'18).

- **Time-slicing** (Sec. 3.1, 4.1): when the active jobs ask for more GPUs than the
  cluster has, jobs take turns: a job runs for a quantum of ``quantum_s``, then is
  suspended if someone is waiting, and the waiting jobs that ran least recently go next
  (round robin). When demand fits, nobody is suspended.
- **Placement**: jobs are packed on the fewest nodes (affinity, Sec. 4.2).
- **Migration** (Sec. 3.3): a job spread over more nodes than it needs moves onto the
  minimum when GPUs free up, if the engine's speed model says the move saves more than
  ``migration_min_gain_s`` of its remaining time.

Simplified: Gandiva suspends at a mini-batch boundary in about a second and time-slices
every minute; here every suspend/resume pays the engine's restart delay (30 s in the
Pollux artifact's setting), so the quantum is longer. Packing (co-locating two jobs on
one GPU when profiling shows they fit, Sec. 3.2) is not run: the engine gives a whole
GPU to one job; jobs with ``gpu_fraction < 1`` share GPUs under the kubernetes policy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mlfleet.checks import non_negative, positive
from mlfleet.infra.scheduling.placement import consolidation_moves, free_after
from mlfleet.infra.scheduling.policies.list_scheduling import list_schedule
from mlfleet.infra.scheduling.policies.options import PolicyOptionError, build
from mlfleet.infra.scheduling.types import ClusterView, JobView, Placement


class GandivaPolicy:
    """Round-robin time-slicing when oversubscribed, packing, migration."""

    name = "gandiva"

    def __init__(self, *, interval_s: float = 60.0, quantum_s: float = 1800.0,
                 migration_min_gain_s: float = 60.0) -> None:
        self.interval_s = positive("interval_s", interval_s, error=PolicyOptionError)
        """Seconds between scheduling rounds."""
        self.quantum_s = positive("quantum_s", quantum_s, error=PolicyOptionError)
        """Time slice a job keeps its GPUs for before it may be suspended for a waiter."""
        self.migration_min_gain_s = non_negative("migration_min_gain_s", migration_min_gain_s,
                                                 error=PolicyOptionError)
        """Remaining seconds a migration must save to be worth its restart."""
        self._slice_start: dict[str, float] = {}
        self._last_ran: dict[str, float] = {}

    def schedule(self, now_s: float, jobs: Sequence[JobView],
                 cluster: ClusterView) -> Mapping[str, Placement]:
        """Keep jobs inside their quantum; give the rest of the GPUs round robin."""
        for job in jobs:
            if job.placement:
                self._last_ran[job.spec.name] = now_s
        in_quantum = [j for j in jobs if j.placement
                      and now_s - self._slice_start.get(j.spec.name, now_s) < self.quantum_s]
        inside = {j.spec.name for j in in_quantum}
        turn = sorted((j for j in jobs if j.spec.name not in inside), key=self._turn_key)
        chosen = list_schedule(in_quantum + turn, cluster, blocking=False)
        chosen.update(self._migrations(chosen, jobs, cluster))
        self._bookkeep(now_s, jobs, chosen)
        return chosen

    def _turn_key(self, job: JobView) -> tuple[float, int]:
        """Round robin: least recently run first (never run: by submission)."""
        return (self._last_ran.get(job.spec.name, job.spec.submit_s - 1e12), job.order)

    def _migrations(self, chosen: Mapping[str, Placement], jobs: Sequence[JobView],
                    cluster: ClusterView) -> dict[str, Placement]:
        """Consolidation moves that save at least ``migration_min_gain_s``."""
        by_name = {j.spec.name: j for j in jobs}
        free = free_after(cluster, chosen.values())

        def worth(name: str, target: Placement) -> bool:
            job = by_name[name]
            return job.remaining_s(chosen[name]) - job.remaining_s(target) \
                > self.migration_min_gain_s

        return consolidation_moves(chosen, free, cluster.gpus_per_node, worth=worth)

    def _bookkeep(self, now_s: float, jobs: Sequence[JobView],
                  chosen: Mapping[str, Placement]) -> None:
        """A job that starts a turn, or keeps its GPUs past its quantum because nobody
        took them, starts a quantum now; forget suspended and finished jobs."""
        live = {j.spec.name for j in jobs}
        for job in jobs:
            name = job.spec.name
            if name not in chosen:
                self._slice_start.pop(name, None)
            elif not job.placement or now_s - self._slice_start.get(name, -1e300) \
                    >= self.quantum_s:
                self._slice_start[name] = now_s
        for table in (self._slice_start, self._last_ran):
            for name in [n for n in table if n not in live]:
                del table[name]

    def quiet_until_s(self, now_s: float, jobs: Sequence[JobView],
                      cluster: ClusterView) -> float:
        """The next quantum end while someone waits; else never by itself."""
        if all(j.spec.name in self._slice_start for j in jobs):
            return float("inf")
        return min(self._slice_start.values(), default=now_s) + self.quantum_s


def make(**options: Any) -> GandivaPolicy:
    """A :class:`GandivaPolicy` from keyword options (``interval_s``, ``quantum_s``,
    ``migration_min_gain_s``)."""
    return build(GandivaPolicy, "gandiva", options)

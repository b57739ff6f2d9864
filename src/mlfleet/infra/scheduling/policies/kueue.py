"""Team quotas with borrowing, as Kueue's ClusterQueues in a cohort do.

Semantics follow Kueue's ClusterQueue concept page (kueue.sigs.k8s.io/docs/concepts/
cluster_queue/, sections "Cohort", "BorrowingLimit", "Preemption"):

- each team (``JobSpec.team``) is a ClusterQueue with a ``nominalQuota`` of GPUs; all
  teams form one cohort whose capacity is the sum of the nominal quotas;
- a team may run beyond its nominal quota by borrowing the cohort's unused quota, up to
  its ``borrowingLimit`` (None: no limit);
- ``reclaimWithinCohort: Any``: a job that fits in its team's nominal quota but finds the
  cohort full preempts jobs of teams that are borrowing (lowest priority, most recently
  started first), so lent quota comes back when the lender needs it;
- admission order: jobs that fit within nominal quota before borrowing ones, then
  priority, then submission (Kueue's scheduler orders the queues' heads this way);
  ``BestEffortFIFO``: a job that does not fit is skipped, younger ones may pass it.
  Jobs stopped by a reclaim wait for the next round.

Simplified: one flavor (GPUs), gang admission, no ``lendingLimit``, no preemption
inside a team's own queue (``withinClusterQueue: Never``), no fair-sharing weights.
Without ``quotas`` every team seen so far gets an equal share of the cluster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mlfleet.checks import positive
from mlfleet.infra.scheduling.placement import free_after, give_back, pack, take
from mlfleet.infra.scheduling.policies.kubernetes import by_priority
from mlfleet.infra.scheduling.policies.list_scheduling import quiet_forever
from mlfleet.infra.scheduling.policies.options import PolicyOptionError, build
from mlfleet.infra.scheduling.policies.preemption import victims
from mlfleet.infra.scheduling.types import ClusterView, JobView, Placement

Quotas = Mapping[str, int] | str | None
"""``{"a": 32, "b": 32}`` or its command-line form ``"a=32,b=32"``."""


def parse_quotas(option: str, value: Quotas) -> dict[str, int] | None:
    """Team -> GPUs from a mapping or ``"team=gpus,..."``; PolicyOptionError when malformed."""
    if value is None:
        return None
    pairs = value.items() if isinstance(value, Mapping) else \
        [item.partition("=")[::2] for item in value.split(",") if item]
    parsed: dict[str, int] = {}
    for team, gpus in pairs:
        try:
            parsed[str(team).strip()] = int(gpus)
        except (TypeError, ValueError):
            parsed[str(team).strip()] = -1
        if parsed[str(team).strip()] < 0 or not str(team).strip():
            raise PolicyOptionError(f"policy 'kueue': {option}(={value!r}) must map teams to "
                                    "GPU counts >= 0, e.g. 'a=32,b=32'")
    return parsed


class KueuePolicy:
    """Per-team nominal quotas in one cohort, with borrowing and reclaim."""

    name = "kueue"

    def __init__(self, *, interval_s: float = 60.0, quotas: Quotas = None,
                 borrowing_limits: Quotas = None) -> None:
        self.interval_s = positive("interval_s", interval_s, error=PolicyOptionError)
        """Seconds between scheduling rounds."""
        self.quotas = parse_quotas("quotas", quotas)
        """Nominal GPUs per team (None: an equal share for every team seen)."""
        self.borrowing_limits = parse_quotas("borrowing_limits", borrowing_limits) or {}
        """Most GPUs a team may borrow beyond its nominal quota (absent: unlimited)."""
        self._teams: list[str] = []
        self._settled = True

    def nominal(self, cluster: ClusterView, jobs: Sequence[JobView]) -> dict[str, int]:
        """Nominal GPUs per team for this round; PolicyOptionError for an unknown team."""
        if self.quotas is not None:
            unknown = sorted({j.spec.team for j in jobs} - set(self.quotas))
            if unknown:
                raise PolicyOptionError(f"policy 'kueue': team(s) {', '.join(unknown)} have no "
                                        f"quota; quotas: {', '.join(self.quotas)}")
            if sum(self.quotas.values()) > cluster.gpus:
                raise PolicyOptionError(f"policy 'kueue': quotas sum to "
                                        f"{sum(self.quotas.values())} GPUs, more than the "
                                        f"cluster's {cluster.gpus}")
            return dict(self.quotas)
        self._teams += sorted({j.spec.team for j in jobs} - set(self._teams))
        share, extra = divmod(cluster.gpus, len(self._teams))
        return {t: share + (i < extra) for i, t in enumerate(self._teams)}

    def limit(self, team: str, nominal: Mapping[str, int]) -> float:
        """Most GPUs ``team`` may hold: nominal plus its borrowing limit."""
        return nominal[team] + self.borrowing_limits.get(team, float("inf"))

    def schedule(self, now_s: float, jobs: Sequence[JobView],
                 cluster: ClusterView) -> Mapping[str, Placement]:
        """Admit jobs within quota, then borrowing; reclaim lent quota by preemption."""
        if not jobs:
            return {}
        admission = _Admission(self, cluster, jobs)
        admission.run()
        self._settled = not admission.reclaimed
        return admission.held

    def quiet_until_s(self, now_s: float, jobs: Sequence[JobView],
                      cluster: ClusterView) -> float:
        """The next round after a reclaim (its victims wait for it); otherwise never by
        itself: admission changes only when a job arrives or finishes."""
        return quiet_forever(now_s, jobs, cluster) if self._settled else now_s + self.interval_s


class _Admission:
    """One round of admission: the usage bookkeeping of :meth:`KueuePolicy.schedule`."""

    def __init__(self, policy: KueuePolicy, cluster: ClusterView, jobs: Sequence[JobView]):
        self.policy, self.jobs = policy, {j.spec.name: j for j in jobs}
        self.nominal = policy.nominal(cluster, jobs)
        self.outside = cluster.gpus - sum(self.nominal.values())
        """GPUs outside the cohort (quotas that do not cover the cluster)."""
        self.held = {j.spec.name: j.placement for j in jobs if j.placement}
        self.free = free_after(cluster, self.held.values())
        self.reclaimed = False
        self.used = {t: 0 for t in self.nominal}
        for name, placement in self.held.items():
            self.used[self.jobs[name].spec.team] += len(placement)

    def cohort_fits(self, free: list[int], gpus: int) -> bool:
        """The cohort has ``gpus`` of unused quota, and the nodes have them free."""
        return sum(free) - gpus >= self.outside and pack(free, gpus) is not None

    def run(self) -> None:
        """Admit the best admissible pending job until none is left."""
        pending = [j for j in self.jobs.values() if not j.placement]
        while pending:
            ranked = sorted(pending, key=lambda j: (self.borrows(j),) + by_priority(j))
            job = next((j for j in ranked if self.admissible(j)), None)
            if job is None:
                return
            pending.remove(job)
            if not self.cohort_fits(self.free, job.spec.gpus):
                self.reclaim(job)  # the victims wait for the next round
            if self.cohort_fits(self.free, job.spec.gpus):
                self.admit(job)

    def borrows(self, job: JobView) -> bool:
        """Admitting ``job`` takes its team beyond its nominal quota."""
        return self.used[job.spec.team] + job.spec.gpus > self.nominal[job.spec.team]

    def admissible(self, job: JobView) -> bool:
        """Within its team's limit, and either room in the cohort or quota to reclaim."""
        team, gpus = job.spec.team, job.spec.gpus
        if self.used[team] + gpus > self.policy.limit(team, self.nominal):
            return False
        if self.cohort_fits(self.free, gpus):
            return True
        return not self.borrows(job) and bool(self.reclaim_victims(job))

    def reclaim_victims(self, job: JobView) -> list[str]:
        """Jobs of borrowing teams to stop so that ``job`` fits (``[]``: cannot)."""
        borrowing = {t for t, u in self.used.items() if u > self.nominal[t]}
        stop = victims(job, self.held, self.jobs, self.free,
                       fits=lambda f: self.cohort_fits(f, job.spec.gpus),
                       eligible=lambda v: v.spec.team in borrowing)
        return stop or []

    def reclaim(self, job: JobView) -> None:
        """Stop the reclaim victims for ``job``."""
        for name in self.reclaim_victims(job):
            self.reclaimed = True
            placement = self.held.pop(name)
            give_back(self.free, placement)
            self.used[self.jobs[name].spec.team] -= len(placement)

    def admit(self, job: JobView) -> None:
        """Give ``job`` its GPUs, packed."""
        placement = pack(self.free, job.spec.gpus)
        assert placement is not None
        take(self.free, placement)
        self.held[job.spec.name] = placement
        self.used[job.spec.team] += job.spec.gpus


def make(**options: Any) -> KueuePolicy:
    """A :class:`KueuePolicy` from keyword options (``interval_s``, ``quotas``,
    ``borrowing_limits``)."""
    return build(KueuePolicy, "kueue", options)

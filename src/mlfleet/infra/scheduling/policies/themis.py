"""Themis: finish-time fair GPU allocation (Mahajan et al., NSDI'20).

Finish-time fairness ρ = T_shared / T_id (Sec. 3): a job's expected completion time in
the shared cluster over its run time alone. At every lease expiry Themis offers the
freed GPUs to the ``1 − f`` fraction of jobs with the *worst* ρ (``f`` is the fairness
knob, Sec. 5.1: f → 1 offers only to the single worst job, f = 0 to everybody), and
those jobs bid in a partial-allocation auction that maximises the product of their ρ
improvements (efficiency among the unfairly treated); GPUs the winners do not take go
to the remaining jobs (work conservation).

What is modelled: per-job ρ estimates from the engine's speed model; leases of
``lease_s`` (a job keeps its GPUs until its lease ends); the ``1 − f`` filter; a
greedy stand-in for the auction: candidates are served in order of the ρ improvement
one lease of GPUs buys them, ``(a + L + r) / (a + r)`` for age ``a``, lease ``L`` and
remaining time ``r`` (so short, young jobs bid highest, as in the auction's
product-of-speedups objective); leftovers go to the other jobs in the same order.
Simplified: jobs bid only for their requested GPU count packed (no partial bundles,
no hidden payments / strategy-proofness), one app = one job.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from mlfleet.checks import fraction, positive
from mlfleet.infra.scheduling.policies.list_scheduling import list_schedule
from mlfleet.infra.scheduling.policies.options import PolicyOptionError, build
from mlfleet.infra.scheduling.policies.sjf import ideal_placement
from mlfleet.infra.scheduling.types import ClusterView, JobView, Placement


def rho_estimate(job: JobView, left_s: float) -> float:
    """ρ if the job ran on its ideal placement from now, with ``left_s`` seconds left
    there: (age + time left) / T_id, T_id estimated as the time left scaled to the
    whole job, ``left_s / (1 − progress)``."""
    t_id = left_s / (1.0 - job.progress) if job.progress < 1.0 else left_s
    if not math.isfinite(t_id) or t_id <= 0:
        return math.inf
    return (job.age_s + left_s) / t_id


class ThemisPolicy:
    """Finish-time fairness with leases and the fairness knob ``f``."""

    name = "themis"

    def __init__(self, *, interval_s: float = 60.0, f: float = 0.8,
                 lease_s: float = 600.0) -> None:
        self.interval_s = positive("interval_s", interval_s, error=PolicyOptionError)
        """Seconds between scheduling rounds."""
        self.f = fraction("f", f, open_high=True, error=PolicyOptionError)
        """Fairness knob: only the worst ``1 − f`` fraction of jobs bid first."""
        self.lease_s = positive("lease_s", lease_s, error=PolicyOptionError)
        """How long an allocation lasts before it is offered again."""
        self._lease_end: dict[str, float] = {}

    def schedule(self, now_s: float, jobs: Sequence[JobView],
                 cluster: ClusterView) -> Mapping[str, Placement]:
        """Jobs on a lease keep it; the rest bid, worst ρ first filtered, then leftovers."""
        leased = [j for j in jobs if j.placement and self._lease_end.get(j.spec.name, 0) > now_s]
        kept = {j.spec.name for j in leased}
        offered = [j for j in jobs if j.spec.name not in kept]
        left = {j.spec.name: j.remaining_s(ideal_placement(j, cluster)) for j in offered}
        worst_first = sorted(offered, key=lambda j: (-rho_estimate(j, left[j.spec.name]),
                                                     j.order))
        bidders = max(1, math.ceil((1.0 - self.f) * len(offered))) if offered else 0

        def bid(job: JobView) -> tuple[float, int]:
            a, r = job.age_s, left[job.spec.name]
            return (-(a + self.lease_s + r) / (a + r), job.order)

        order = leased + sorted(worst_first[:bidders], key=bid) + \
            sorted(worst_first[bidders:], key=bid)
        chosen = list_schedule(order, cluster, blocking=False)
        self._renew(now_s, jobs, chosen)
        return chosen

    def _renew(self, now_s: float, jobs: Sequence[JobView],
               chosen: Mapping[str, Placement]) -> None:
        """Start a lease for every job that won GPUs (or kept them past its lease)."""
        live = {j.spec.name for j in jobs}
        self._lease_end = {n: t for n, t in self._lease_end.items() if n in live and n in chosen}
        for name in chosen:
            if self._lease_end.get(name, 0) <= now_s:
                self._lease_end[name] = now_s + self.lease_s

    def quiet_until_s(self, now_s: float, jobs: Sequence[JobView],
                      cluster: ClusterView) -> float:
        """The next lease expiry: offers happen only then, or on an arrival or finish."""
        return min(self._lease_end.values(), default=math.inf)


def make(**options: Any) -> ThemisPolicy:
    """A :class:`ThemisPolicy` from keyword options (``interval_s``, ``f``, ``lease_s``)."""
    return build(ThemisPolicy, "themis", options)

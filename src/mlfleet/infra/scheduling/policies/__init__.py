"""The scheduling policies ``mlfleet sim cluster --policy NAME`` can run.

Each row: name -> (module, factory attribute, one-line help). A factory takes keyword
options (``interval_s=...`` and the policy's own) and returns a
:class:`~mlfleet.infra.scheduling.types.Policy`. Modules are imported on first use.
"""

from __future__ import annotations

POLICIES: dict[str, tuple[str, str, str]] = {
    "fifo": ("mlfleet.infra.scheduling.policies.fifo", "make",
             "first in, first out, no backfill: head-of-line blocking"),
    "sjf": ("mlfleet.infra.scheduling.policies.sjf", "make",
            "shortest job first by oracle remaining time (size=gpu_time: requested GPU time)"),
    "kubernetes": ("mlfleet.infra.scheduling.policies.kubernetes", "make",
                   "gang scheduling, priority classes, preemption of lower priority"),
    "kueue": ("mlfleet.infra.scheduling.policies.kueue", "make",
              "team quotas in a cohort: borrow idle quota, reclaim it by preemption"),
    "themis": ("mlfleet.infra.scheduling.policies.themis", "make",
               "finish-time fairness: leases offered to the worst-rho jobs first (knob f)"),
    "gandiva": ("mlfleet.infra.scheduling.policies.gandiva", "make",
                "round-robin time-slicing when oversubscribed, migration onto fewer nodes"),
    "elastic": ("mlfleet.infra.scheduling.policies.elastic", "make",
                "elastic jobs: admit at min GPUs, grow by marginal gain, shrink for newcomers"),
    "locality": ("mlfleet.infra.scheduling.policies.locality", "make",
                 "wait (up to max_wait_s) for a placement on few nodes unless spread is fast"),
    "tiresias": ("mlfleet.infra.scheduling.policies.tiresias", "make",
                 "two-queue discretised 2D-LAS, demotion at 16 GPU-hours (Pollux artifact)"),
    "optimus": ("mlfleet.infra.scheduling.policies.optimus", "make",
                "Optimus+Oracle: GPUs by marginal gain in oracle remaining time"),
    "slurm": ("mlfleet.infra.scheduling.slurm.policy", "make",
              "Slurm: multifactor priority (Fair Tree), main pass + backfill, tier preemption"),
}
"""Policy name -> (module, factory, one-line help). Chapters add rows; never reorder."""

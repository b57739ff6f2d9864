"""Cluster scheduling: who gets which GPUs when, and what that does to job completion time.

``types`` is the contract between the engine and the policies: a policy sees
:class:`~mlfleet.infra.scheduling.types.JobView` s and a
:class:`~mlfleet.infra.scheduling.types.ClusterView` at each scheduling round and
returns a placement per job; the engine (on :mod:`mlfleet.sim`) advances every job
at the speed its placement gives it. See ``docs/scheduling.md``.
"""

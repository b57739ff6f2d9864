"""One rule for every command and scenario that names a catalog cluster: a job may use at
most the GPUs the cluster has. A larger fleet is a different cluster, described explicitly.
"""

from __future__ import annotations

SCENARIO_CUSTOM_CLUSTER = "describe a custom cluster (accelerator, gpus, gpus_per_node, " \
    "scaleup, scaleout)"
"""How a scenario goes beyond a catalog cluster's size."""


def too_many_gpus(*, cluster: str, cluster_gpus: int, gpus: int,
                  custom: str = SCENARIO_CUSTOM_CLUSTER) -> str | None:
    """Why ``gpus`` cannot run on the catalog ``cluster`` of ``cluster_gpus``; None if it can.

    The caller prefixes the flag or field with its value, e.g. ``--ranks(=2048) `` or
    ``cluster.gpus``, so the message names what the user wrote; ``custom`` says how to
    describe a larger fleet where the caller is (scenario fields, or CLI flags).
    """
    if gpus <= cluster_gpus:
        return None
    return (f"must be at most the {cluster_gpus:,} GPUs of catalog cluster {cluster}; "
            + f"to model a larger fleet, {custom}")

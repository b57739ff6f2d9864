"""Builders shared by the communication model tests."""

from __future__ import annotations

from mlfleet.catalog.types import Accelerator, Cluster, Interconnect


def make_cluster(**overrides: object) -> Cluster:
    """A DGX-H100-like cluster built by hand (no catalog needed)."""
    chip = Accelerator(name="H100-test", peak_flops_per_s={"bf16": 989e12}, hbm_bytes=80e9,
                       hbm_bw_bytes_per_s=3.35e12, tdp_w=700.0, scaleup_bw_bytes_per_s=450e9)
    fields: dict[str, object] = {
        "name": "test-cluster", "accelerator": chip, "nodes": 128, "gpus_per_node": 8,
        "scaleup": Interconnect(name="NVSwitch", bw_bytes_per_s=450e9, latency_s=0.6e-6,
                                scope="scale-up"),
        "scaleout": Interconnect(name="IB-NDR", bw_bytes_per_s=50e9, latency_s=1e-6,
                                 scope="scale-out"),
        "rails_per_node": 8, "oversubscription": 2.0, "topology": "fat-tree"}
    fields.update(overrides)
    return Cluster(**fields)  # type: ignore[arg-type]

"""The plan's fabric summary: catalog clusters, and no networkx on its import path."""

from __future__ import annotations

import subprocess
import sys

from mlfleet.catalog.types import Cluster
from mlfleet.infra.topology import summary_for, summary_for_cluster


def test_superpod_cluster_summary() -> None:
    summary = summary_for_cluster(Cluster.from_name("H100-1k-fat-tree"))
    assert summary.kind == "rail-optimized" and summary.switch == "QM9700"
    assert summary.switches_by_tier == {"leaf": 32, "spine": 16}
    assert summary.bisection_bw_bytes_per_s == 1024 * 50e9 / 2
    assert summary.max_hops == 4


def test_one_node_has_no_fabric() -> None:
    summary = summary_for_cluster(Cluster.from_name("DGX-H100"))
    assert (summary.kind, summary.switches, summary.capex_usd) == ("none", 0, 0.0)


def test_torus_summary_of_the_v5p_pod_shape() -> None:
    """16x20x28 = 8,960 chips: bisection cuts 2·8960/28 = 640 links of 100 GB/s."""
    summary = summary_for(gpus=8960, gpus_per_node=4, rails_per_node=4, oversubscription=1.0,
                          port_bw_bytes_per_s=100e9, topology="3d-torus",
                          torus_shape="16x20x28", torus_link_bw_bytes_per_s=100e9)
    assert summary.bisection_bw_bytes_per_s == 640 * 100e9
    assert summary.max_hops == 8 + 10 + 14 and summary.cables == 3 * 8960
    assert summary.capex_usd is None


def test_summary_import_does_not_load_networkx() -> None:
    code = ("import sys; from mlfleet.infra.topology import summary_for_cluster; "
            "print('networkx' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

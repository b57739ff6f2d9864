"""``mlfleet sweep --sim``: each valid point runs a real simulator on a real local Ray."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cli_helpers import run_cli
from mlfleet.scenario import load_scenario
from mlfleet.sweep.parquet import METADATA_KEY
from mlfleet.sweep.points import CLUSTER_METRICS, cluster_point
from mlfleet.sweep.simulate import SimOptions, sim_point

VISION = str(Path(__file__).resolve().parents[2] / "examples" / "vision-training.yaml")


def test_cluster_point_is_the_shared_cluster_on_profiled_node_sizes() -> None:
    point = sim_point("cluster", load_scenario(VISION), SimOptions())
    assert point == {"nodes": 64, "gpus_per_node": 4, "policy": "tiresias"}  # 256 shared GPUs


@pytest.mark.slow  # starts a local Ray (~15 s on a busy host)
def test_cluster_sim_sweep_on_local_ray_equals_in_process_runs(tmp_path: Path) -> None:
    out = tmp_path / "sim.parquet"
    proc = run_cli("sweep", VISION, "--set", "scheduling.shared_gpus=32,64", "--set",
                   "scheduling.policy=fifo,tiresias", "--sim", "cluster", "--num-cpus", "1",
                   "--out", str(out), timeout_s=300)
    assert proc.returncode == 0, proc.stderr
    table = pq.read_table(out).to_pylist()
    meta = json.loads(pq.read_schema(out).metadata[METADATA_KEY])
    assert meta["question"] == "cluster" and meta["metrics"] == list(CLUSTER_METRICS)
    assert meta["units"]["avg_jct_s"] == "s" and meta["units"]["gpu_utilisation"] == "fraction"
    for row in table:
        expected = cluster_point({"nodes": row["scheduling.shared_gpus"] // 4,
                                  "gpus_per_node": 4, "policy": row["scheduling.policy"]})
        assert {name: row[name] for name in CLUSTER_METRICS} == expected
    assert [r["scheduling.policy"] for r in table] == ["fifo", "tiresias"] * 2

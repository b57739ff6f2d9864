"""``mlfleet sweep --sim``: each valid point runs a real simulator on a real local Ray."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cli_helpers import run_cli
from mlfleet.scenario import load_scenario
from mlfleet.sweep.parquet import METADATA_KEY
from mlfleet.sweep.points import CLUSTER_METRICS, cluster_point, serving_point
from mlfleet.sweep.simulate import SimOptions, sim_point

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
VISION = str(EXAMPLES / "vision-training.yaml")
RECSYS = str(EXAMPLES / "recsys-serving.yaml")


def test_cluster_point_is_the_shared_cluster_on_profiled_node_sizes() -> None:
    point = sim_point("cluster", load_scenario(VISION), SimOptions())
    assert point == {"nodes": 64, "gpus_per_node": 4, "policy": "tiresias"}  # 256 shared GPUs


def test_serving_points_carry_the_scenarios_traffic(tmp_path: Path) -> None:
    llm = tmp_path / "llm.yaml"
    llm.write_text("name: chat\nworkload: Llama-3-8B\ncluster: {name: DGX-H100, gpus: 2}\n"
                   "serving: {qps: 4, prompt_tokens: 512, output_tokens: 128}\n")
    options = SimOptions(requests=50, seed=3)
    point = sim_point("serving", load_scenario(llm), options)
    assert point == {"workload": "Llama-3-8B", "accelerator": "H100-SXM", "precision": "bf16",
                     "replicas": 2, "qps": 4.0, "requests": 50, "seed": 3, "batching": "paged",
                     "prompt_tokens": 512, "output_tokens": 128}
    recsys = sim_point("serving", load_scenario(RECSYS), options)
    assert recsys["batching"] == "dynamic" and recsys["replicas"] == 16
    assert serving_point(recsys)["completed"] == 50  # the simulator takes the point as it is


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

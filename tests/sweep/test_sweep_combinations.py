"""Grid points as scenarios: the pre-validated base document, setting fields, derived data."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlfleet.scenario import bundled_scenarios, load_scenario, parse_scenario
from mlfleet.sweep.combinations import base_document, combinations, with_values
from mlfleet.sweep.grid import parse_grid

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = [*bundled_scenarios(),
             *sorted((ROOT / "src" / "mlfleet" / "examples" / "environments").glob("*.yaml"))]


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_the_prevalidated_base_is_the_same_scenario(path: Path) -> None:
    assert parse_scenario(base_document(path)) == load_scenario(path)


def test_setting_fields_copies_only_and_expands_short_sections() -> None:
    base = {"cluster": "DGX-H100", "training": {"mfu": 0.4, "parallelism": {"data": 8}}}
    out = with_values(base, ["cluster.gpus", "training.parallelism.tensor"], [4, 2])
    assert out == {"cluster": {"name": "DGX-H100", "gpus": 4},
                   "training": {"mfu": 0.4, "parallelism": {"data": 8, "tensor": 2}}}
    assert base == {"cluster": "DGX-H100", "training": {"mfu": 0.4, "parallelism": {"data": 8}}}


def test_data_parallel_degree_follows_gpus_and_swept_tensor() -> None:
    grid = parse_grid(["cluster.gpus=2048,4096", "training.parallelism.tensor=4,8"])
    combos = combinations(base_document(ROOT / "examples" / "llm-pretraining.yaml"), grid,
                          lambda scenario: scenario.cluster.gpus)
    assert combos.derived == {"training.parallelism.data": (32, 16, 64, 32)}  # g / (t x 16)
    assert combos.invalid_count == 0
    assert combos.records == (2048, 2048, 4096, 4096)  # what the sweep kept of each scenario

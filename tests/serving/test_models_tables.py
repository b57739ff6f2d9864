"""The chapter's model-specific tables computed from the catalog."""

from __future__ import annotations

import pytest

from mlfleet.serving.models import tables


@pytest.fixture(scope="module")
def rows() -> dict[str, dict[str, object]]:
    return {str(r["workload"]): r for r in tables.characteristics()}


def test_every_family_has_a_row(rows: dict[str, dict[str, object]]) -> None:
    assert {r["family"] for r in rows.values()} == {"recsys", "vision", "llm", "speech", "gnn"}


def test_computed_bottlenecks_agree_with_the_outline(rows: dict[str, dict[str, object]]) -> None:
    """The outline's "key bottleneck" column, recovered from the roofline numbers."""
    assert rows["Llama-3-8B"]["computed_bottleneck"] == "memory bandwidth"
    assert rows["Llama-3-70B"]["tp"] == 2  # 141 GB of bf16 weights need two 80 GB GPUs
    assert rows["ResNet-50"]["computed_bottleneck"] == "compute"
    assert rows["ViT-L-16"]["computed_bottleneck"] == "compute"
    assert str(rows["Whisper-large"]["computed_bottleneck"]).startswith("sequential decode")
    assert "embedding" in str(rows["DLRM-DCNv2"]["computed_bottleneck"])
    assert "gathering" in str(rows["GraphSAGE-products"]["computed_bottleneck"])


def test_key_quantities_by_hand(rows: dict[str, dict[str, object]]) -> None:
    # DLRM: 214 lookups × 128 × 2 B = 54.8 kB; dense 16.07M params × 2 B / 54,784 B = 587
    assert "54.8 kB" in str(rows["DLRM-DCNv2"]["key_quantity"])
    assert "587 samples" in str(rows["DLRM-DCNv2"]["key_quantity"])
    # ResNet-50: ridge 295 FLOP/B × 51.1 MB / 8.18 GFLOP = 1.8 -> compute-bound from batch 2
    assert "from batch 2" in str(rows["ResNet-50"]["key_quantity"])
    # GraphSAGE: 1 + 15 + 150 + 750 = 916 sampled nodes
    assert "916 sampled nodes" in str(rows["GraphSAGE-products"]["key_quantity"])
    # LLM decode at batch 1: ~1 FLOP per byte
    assert float(rows["Llama-3-8B"]["intensity_flop_per_byte"]) == pytest.approx(1.0, rel=0.05)


def test_batching_table_matches_the_outline_strategies() -> None:
    for row in tables.batching():
        if row["family"] != "gnn":
            assert row["recommended"] == str(row["spec_strategy"]).lower()
        assert row["computed_reason"]
    llm = next(r for r in tables.batching() if r["family"] == "llm")
    assert "79%" in llm["computed_reason"]  # 1 - 1/H_64 = 0.79

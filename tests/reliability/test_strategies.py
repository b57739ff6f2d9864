"""The model-specific checkpoint strategies table, computed from the catalog."""

from __future__ import annotations

import pytest

from mlfleet import catalog
from mlfleet.catalog.types import Workload
from mlfleet.reliability import strategies


def rows() -> dict[str, strategies.StrategyRow]:
    return {r.workload: r for r in strategies.strategy_table()}


def test_every_catalog_workload_has_a_row() -> None:
    assert set(rows()) == set(catalog.names("workload"))


def test_spec_table_classes() -> None:
    """The spec: LLM 70B+ 100+ GB sharded async; recommendation TB-scale incremental;
    vision 1-10 GB standard sync; small models < 1 GB simple and frequent."""
    table = rows()
    for name in ("Llama-3-70B", "Llama-3-405B", "GPT-3-175B"):
        assert table[name].ckpt_bytes >= 100e9 and table[name].strategy == "sharded, async"
    assert table["DLRM-DCNv2"].strategy == "incremental, sparse"
    assert table["ViT-L-16"].strategy == "standard sync"
    assert 1e9 <= table["ViT-L-16"].ckpt_bytes <= 10e9
    assert table["GraphSAGE-products"].strategy == "simple, frequent"


def test_llama3_405b_checkpoint_counts_weights_master_and_adam() -> None:
    """bf16 weights (2 B) + fp32 master (4 B) + Adam m, v (8 B) = 14 B per parameter."""
    row = rows()["Llama-3-405B"]
    assert row.ckpt_bytes == pytest.approx(14 * Workload.from_name("Llama-3-405B").params)


def test_incremental_writes_less_than_the_full_checkpoint() -> None:
    row = rows()["DLRM-DCNv2"]
    assert row.written_bytes == pytest.approx(row.ckpt_bytes / strategies.CHECK_N_RUN_REDUCTION)


def test_intervals_and_goodput_are_sane() -> None:
    for row in rows().values():
        assert row.interval_s > 0 and 0.9 < row.goodput < 1.0, row
    # a larger job fails more often: the same model checkpoints more often on more GPUs
    small = strategies.strategy_row(Workload.from_name("ViT-L-16"), gpus=8)
    large = strategies.strategy_row(Workload.from_name("ViT-L-16"), gpus=4096)
    assert large.interval_s < small.interval_s


@pytest.mark.parametrize(("size", "strategy"), [(5e11, "sharded, async"), (5e9, "standard sync"),
                                                 (5e8, "simple, frequent")])
def test_strategy_rules(size: float, strategy: str) -> None:
    assert strategies.strategy_for(family="llm", ckpt_bytes=size) == strategy

"""Placement helpers: packing, spreading, consolidation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlfleet.infra.scheduling.placement import (
    consolidation_moves,
    fastest,
    free_after,
    is_consolidated,
    nodes_spanned,
    pack,
    spread,
    take,
)
from mlfleet.infra.scheduling.types import ClusterView


def fewest_nodes(free: list[int], gpus: int) -> int:
    """The fewest nodes that can hold ``gpus`` (largest free first is optimal)."""
    count, left = 0, gpus
    for f in sorted(free, reverse=True):
        if left <= 0:
            break
        left -= f
        count += f > 0
    return count


def test_pack_best_fits_the_remainder() -> None:
    assert pack([4, 2, 3], 2) == (1, 1)
    assert pack([4, 2, 3], 5) == (0, 0, 0, 0, 1)
    assert pack([4, 2, 3], 10) is None
    assert pack([1, 1], 0) == ()


def test_spread_puts_one_gpu_per_node_first() -> None:
    assert spread([4, 4, 4], 3) == (0, 1, 2)
    assert spread([4, 1, 4], 5) == (0, 0, 1, 2, 2)
    assert spread([1], 2) is None


@given(st.lists(st.integers(0, 8), min_size=1, max_size=12), st.integers(1, 40))
def test_pack_uses_the_fewest_nodes_and_never_overfills(free: list[int], gpus: int) -> None:
    placement = pack(free, gpus)
    if sum(free) < gpus:
        assert placement is None
        return
    assert placement is not None and len(placement) == gpus
    assert list(placement) == sorted(placement)
    take(list(free), placement)  # raises if a node is overfilled
    assert nodes_spanned(placement) == fewest_nodes(free, gpus)


def test_free_after_rejects_an_overfilled_node() -> None:
    cluster = ClusterView(nodes=2, gpus_per_node=4)
    assert free_after(cluster, [(0, 0, 1), (1,)]) == [2, 2]
    with pytest.raises(ValueError, match="node 0 has 1 free GPUs, placement needs 2"):
        free_after(cluster, [(0, 0, 0), (0, 0)])


def test_consolidation_moves_a_spread_job_onto_one_node() -> None:
    held = {"a": (0, 0, 1, 1), "b": (2,)}
    moves = consolidation_moves(held, [2, 2, 3], gpus_per_node=4)
    assert moves == {"a": (0, 0, 0, 0)}
    assert is_consolidated(moves["a"], 4) and not is_consolidated(held["a"], 4)


def test_consolidation_keeps_a_job_that_cannot_move() -> None:
    assert consolidation_moves({"a": (0, 1)}, [0, 0], gpus_per_node=1) == {}
    assert consolidation_moves({"a": (0, 0, 1, 1), "b": (0, 0, 1, 1)}, [0, 0],
                               gpus_per_node=4) == {}


def test_fastest_picks_the_highest_throughput() -> None:
    def rate(p: tuple[int, ...]) -> float:
        return 1.0 / nodes_spanned(p)

    assert fastest([spread([4, 4], 4), pack([4, 4], 4), None], rate) == (0, 0, 0, 0)
    assert fastest([None], rate) is None

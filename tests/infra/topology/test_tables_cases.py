"""The trade-off tables and the two case studies."""

from __future__ import annotations

import pytest

from mlfleet.infra.topology.cases import PUBLISHED_SUPERPOD, superpod_h100, tpu_v4_pod
from mlfleet.infra.topology.errors import TopologyInputError
from mlfleet.infra.topology.tables import fat_tree_vs_rail, nonblocking_vs_oversubscribed


def _row(table: object, metric: str) -> tuple[float, ...]:
    return next(r.values for r in table.rows if r.metric.startswith(metric))  # type: ignore[attr-defined]


@pytest.mark.slow
def test_oversubscribed_alltoall_slows_by_the_closed_form() -> None:
    """k = 8 fat-tree AlltoAll: a host link carries (N−1)/N·S, an edge uplink at b/o carries
    (N − k/2)/N·S·(k/2)/(k/2), so the slowdown is o·(N − k/2)/(N − 1) = o·124/127."""
    ratios = (1.0, 2.0, 3.0, 4.0)
    table = nonblocking_vs_oversubscribed(ratios=ratios)
    slowdown = _row(table, "AlltoAll slowdown")
    assert slowdown == pytest.approx([max(1.0, o * 124 / 127) for o in ratios], rel=1e-12)
    capex = _row(table, "capex vs non-blocking")
    assert capex[0] == 1.0 and all(a > b for a, b in zip(capex, capex[1:], strict=False))


def test_rail_optimized_keeps_collectives_off_the_spine() -> None:
    table = fat_tree_vs_rail(nodes=8, oversubscription=2.0)
    tor, rail = _row(table, "alltoall: bytes on leaf-spine")
    assert rail == 0.0 and tor > 0.0
    tor_s, rail_s = _row(table, "alltoall time")
    assert rail_s < tor_s
    # 64 NICs fit one 64-port switch; rails need a leaf each (built for a full unit) + spines
    assert _row(table, "switches") == (1.0, 12.0)
    assert _row(table, "GPUs on other nodes one switch away") == (24.0, 7.0)  # 8 nodes < 1 SU


@pytest.mark.parametrize("sus", sorted(PUBLISHED_SUPERPOD))
def test_superpod_switch_and_uplink_counts_match_exactly(sus: int) -> None:
    rows = {r.quantity: r for r in superpod_h100(sus)}
    for quantity in ("leaf switches", "spine switches", "core switches", "leaf-spine cables",
                     "spine-core cables"):
        assert rows[quantity].computed == rows[quantity].published, quantity
    # ours wires full SUs; the H100 RA leaves one node slot per SU group to UFM
    gap = rows["node-leaf cables"].computed - rows["node-leaf cables"].published  # type: ignore[operator]
    assert gap == (4 if sus <= 4 else 0)


def test_tpu_v4_pod_counts() -> None:
    rows = {r.quantity: r for r in tpu_v4_pod()}
    for quantity in ("chips", "4x4x4 cubes (racks)", "ICI links per chip",
                     "optical circuit switches"):
        assert rows[quantity].rel_error == 0.0, quantity
    assert rows["bisection links (16x16x16 torus)"].computed == 512
    with pytest.raises(TopologyInputError, match="scalable_units"):
        superpod_h100(5)

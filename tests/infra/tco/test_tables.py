"""The spec's TCO tables, and the owned hardware cost against a published cluster estimate."""

from __future__ import annotations

import pytest

from mlfleet.infra.tco import tables
from mlfleet.infra.tco.offers import offer, ownership_defaults, spot_terms
from mlfleet.infra.tco.ownership import owned_cost, resolve_inputs


def _rows(scales: tuple[int, ...]) -> list[tables.ScaleRow]:
    return tables.scale_rows(accelerator="H100", scales=scales, gpus_per_node=8,
                             utilization=0.6, cloud_usd_per_gpu_h=4.0,
                             defaults=ownership_defaults())


def test_hardware_per_gpu_against_the_published_h100_cluster_sheet() -> None:
    # The H100 cluster cost sheet (Aug 2024, offer.yaml source h100-cluster-sheet) prices
    # GPUs + hosts + switches + cables per GPU at $42,998 (1,024 GPUs), $41,748 (4,096; its
    # nodes at $300k there) and $42,998 (16,384), after removing its $6,250/GPU facility &
    # ops line. Our GPUs + host share reproduce its $310k node by construction (the host
    # share is derived from it); the fabric (topology chapter) and tiering are independent.
    # Observed: -2.8 % (1,024), +4.3 % (4,096), +1.2 % (16,384).
    rows = {r.gpus: r for r in _rows((1024, 4096, 16384))}
    gaps = {}
    for gpus, row in rows.items():
        published = row.published_hardware_usd_per_gpu
        assert published is not None
        gaps[gpus] = row.hardware_usd_per_gpu / published - 1
    print("hardware/GPU vs published:", {g: f"{e:+.1%}" for g, e in gaps.items()})
    assert all(abs(e) < 0.06 for e in gaps.values())
    assert gaps[1024] == pytest.approx(-0.028, abs=0.002)


def test_tco_by_scale_grows_with_the_fabric_tiers() -> None:
    rows = _rows(tables.SCALES)
    assert [r.gpus for r in rows] == list(tables.SCALES)
    assert rows[0].network_usd == 0.0  # one node: no scale-out fabric
    per_gpu = [r.hardware_usd_per_gpu for r in rows]
    assert per_gpu == sorted(per_gpu)  # more tiers of switches per GPU as the fabric grows
    for r in rows:
        assert r.breakeven_utilization == pytest.approx(r.owned_usd_per_gpu_h * 0.6 / 4.0)


def test_breakeven_rows_against_each_tier() -> None:
    owned = owned_cost(resolve_inputs(accelerator="H100", gpus=512))
    p5 = offer("aws-p5")
    spot = tables.spot_for(p5, spot_terms(), gpus=512, gpus_per_instance=8, ckpt_s=120.0,
                           restart_s=600.0)
    rows = {r.tier: r for r in tables.breakeven_rows(owned, p5, utilization=0.6, spot=spot,
                                                     spot_source="test")}
    assert set(rows) == {"on-demand", "reserved-1y", "reserved-3y", "spot"}
    assert rows["reserved-1y"].breakeven_utilization is None
    on_demand = rows["on-demand"]
    assert on_demand.breakeven_utilization is not None
    assert on_demand.owning_wins == (on_demand.breakeven_utilization < 0.6)
    assert rows["spot"].usd_per_used_gpu_h > rows["spot"].usd_per_gpu_h  # preemptions cost
    assert rows["on-demand"].breakeven_months < rows["reserved-3y"].breakeven_months


def test_payback_takes_exactly_one_refresh_cycle_at_the_breakeven_utilization() -> None:
    owned = owned_cost(resolve_inputs(accelerator="H100", gpus=1024))
    u_star = tables.price_rows(owned, [("p", 4.0)], utilization=0.5)[0].breakeven_utilization
    row = tables.price_rows(owned, [("p", 4.0)], utilization=u_star)[0]
    assert row.payback_months == pytest.approx(owned.years * 12.0)
    above = tables.price_rows(owned, [("p", 4.0)], utilization=min(1.0, u_star * 1.1))[0]
    assert above.pays_back_in_cycle and above.payback_months < owned.years * 12.0

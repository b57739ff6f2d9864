"""The OpenCost model: allocation cost, the breakdown, Appendix A and the worked example.

The worked example (docs/operations-cost.md) is checked against an exact reference computed
here by hand with fractions: every figure of the model matches it to float round-off.
"""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from mlfleet.ops.cost.allocation import Allocation, allocation_cost_usd, idle_within_usd
from mlfleet.ops.cost.breakdown import Capacity, CapacityError, breakdown
from mlfleet.ops.cost.chargeback import chargeback
from mlfleet.ops.cost.resources import (
    OPENCOST_DEFAULTS,
    Rates,
    Resource,
    normalise_to_node,
    with_offer,
)
from mlfleet.ops.cost.shares import Split

G, C, R = Resource.GPU, Resource.CPU, Resource.RAM_GB
RATES = Rates(gpu_usd_per_h=2.0, cpu_usd_per_core_h=0.05, ram_usd_per_gb_h=0.01,
              storage_usd_per_gb_h=0.0, network_usd_per_gb=0.10)


def example() -> list[Allocation]:
    """The bundled allocations.csv, as the worked example in the docs."""
    return [
        Allocation(name="train-resnet", team="vision", model="resnet", duration_h=24,
                   requested={G: 4, C: 16, R: 128}, used={G: 3, C: 20, R: 100}),
        Allocation(name="serve-dlrm", team="recsys", model="dlrm", duration_h=12,
                   requested={G: 2, C: 8, R: 64}, used={G: 2, C: 4, R: 80}, network_gb=100,
                   metrics={"requests": 9e6}),
        Allocation(name="notebook-ranker", team="recsys", model="ranker", duration_h=24,
                   requested={G: 1 / 7, C: 2, R: 16}, used={G: 0.1, C: 1, R: 8},
                   metrics={"requests": 1e6}),
        Allocation(name="gateway", team="shared", model="gateway", duration_h=24,
                   requested={C: 4, R: 16}, used={C: 4, R: 16}),
    ]


CAPACITY = Capacity(amounts={G: 8, C: 64, R: 512}, duration_h=24)

# Exact reference, by hand: amount = max(request, usage); cost = amount x hours x rate.
GPU_RATE, CPU_RATE, RAM_RATE, NET_RATE = F(2), F(5, 100), F(1, 100), F(1, 10)
VISION = 4 * 24 * GPU_RATE + 20 * 24 * CPU_RATE + 128 * 24 * RAM_RATE        # 246.72
DLRM = 2 * 12 * GPU_RATE + 8 * 12 * CPU_RATE + 80 * 12 * RAM_RATE + 100 * NET_RATE  # 72.4
RANKER = F(1, 7) * 24 * GPU_RATE + 2 * 24 * CPU_RATE + 16 * 24 * RAM_RATE    # 13.0971...
GATEWAY = 4 * 24 * CPU_RATE + 16 * 24 * RAM_RATE                              # 8.64
ASSETS = 8 * 24 * GPU_RATE + 64 * 24 * CPU_RATE + 512 * 24 * RAM_RATE         # 583.68
OVERHEAD = F(24)
IDLE = ASSETS - (VISION + DLRM + RANKER + GATEWAY - 100 * NET_RATE)
TOTAL = ASSETS + 100 * NET_RATE + OVERHEAD                                    # 617.68


def test_allocation_is_charged_for_the_greater_of_request_and_usage() -> None:
    cost = allocation_cost_usd(example()[0], RATES)
    assert cost["gpu"] == pytest.approx(4 * 24 * 2.0)      # request 4 > usage 3
    assert cost["cpu"] == pytest.approx(20 * 24 * 0.05)    # usage 20 > request 16
    assert sum(cost.values()) == pytest.approx(float(VISION), rel=1e-12)
    assert idle_within_usd(example()[0], RATES) == pytest.approx(1 * 24 * 2.0 + 28 * 24 * 0.01)


def test_worked_example_matches_the_exact_reference() -> None:
    b = breakdown(example(), rates=RATES, capacity=CAPACITY, overhead_usd=24.0)
    assert b.total_usd == pytest.approx(float(TOTAL), rel=1e-12)
    assert float(TOTAL) == pytest.approx(617.68, abs=1e-9)
    assert b.total_idle_usd == pytest.approx(float(IDLE), rel=1e-12)
    assert b.idle_usd["gpu"] == pytest.approx(float(GPU_RATE * (8 * 24 - (4 * 24 + 2 * 12 + F(24, 7)))), rel=1e-12)
    cb = chargeback(example(), rates=RATES, capacity=CAPACITY, overhead_usd=24.0,
                    split=Split(method="proportional"))
    shared = GATEWAY + IDLE + OVERHEAD
    own = {"vision": VISION, "recsys": DLRM + RANKER}
    for charge in cb.charges:
        want = own[charge.tenant] * (1 + shared / sum(own.values()))
        assert charge.total_usd == pytest.approx(float(want), rel=1e-12)
    assert cb.charged_usd == pytest.approx(float(TOTAL), rel=1e-12)


def test_metric_split_follows_requests_served() -> None:
    cb = chargeback(example(), rates=RATES, capacity=CAPACITY, by="model",
                    split=Split.parse("metric:requests"))
    by_model = {c.tenant: c for c in cb.charges}
    assert by_model["resnet"].shared_usd == 0.0
    assert by_model["dlrm"].shared_usd == pytest.approx(9 * by_model["ranker"].shared_usd)


def test_keep_idle_leaves_it_unassigned() -> None:
    cb = chargeback(example(), rates=RATES, capacity=CAPACITY, share_idle=False)
    assert cb.unassigned_idle_usd == pytest.approx(float(IDLE))
    assert cb.charged_usd + cb.unassigned_idle_usd == pytest.approx(float(TOTAL - OVERHEAD))


def test_allocations_above_capacity_are_refused() -> None:
    with pytest.raises(CapacityError, match="gpu"):
        breakdown(example(), rates=RATES, capacity=Capacity(amounts={G: 4, C: 64, R: 512},
                                                            duration_h=24))


def test_appendix_a_normalises_base_prices_to_the_node_price() -> None:
    """OpenCost spec Appendix A: bases $30/$30/$10 and a $35 node of 1 GPU, 1 CPU, 1 GB give
    $15/$15/$5 (the spec quotes monthly prices; the ratio is what matters)."""
    base = Rates(gpu_usd_per_h=30, cpu_usd_per_core_h=30, ram_usd_per_gb_h=10,
                 storage_usd_per_gb_h=0, network_usd_per_gb=0)
    got = normalise_to_node(base, node_amounts={G: 1, C: 1, R: 1}, node_usd_per_h=35)
    assert (got.gpu_usd_per_h, got.cpu_usd_per_core_h, got.ram_usd_per_gb_h) \
        == pytest.approx((15, 15, 5), rel=1e-12)


def test_offer_prices_the_gpu_from_the_catalog() -> None:
    from mlfleet.infra.tco.offers import offer

    rates = with_offer(OPENCOST_DEFAULTS, "aws-p4d", tier="reserved-1y")
    assert rates.gpu_usd_per_h == offer("aws-p4d").reserved_1y_usd_per_h
    assert rates.cpu_usd_per_core_h == OPENCOST_DEFAULTS.cpu_usd_per_core_h

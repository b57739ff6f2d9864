"""FLOP/s per watt and cost per PFLOP: exact arithmetic on the catalog's sourced values."""

from __future__ import annotations

import pytest

from mlfleet import catalog
from mlfleet.errors import CatalogError, InputError
from mlfleet.infra.power import efficiency as eff


def test_h100_bf16_flops_per_watt_by_hand() -> None:
    # 989.5 TFLOP/s dense BF16 / 700 W = 1.4136 TFLOP/s per W.
    assert eff.flops_per_watt("H100", "bf16") == pytest.approx(989.5e12 / 700)


def test_a100_purchase_cost_per_pflops_by_hand() -> None:
    # $10,000 / 0.312 PFLOP/s = $32,051 per PFLOP/s.
    assert eff.cost_per_pflop("A100-40GB", "bf16") == pytest.approx(10_000 / 0.312)


def test_h100_cloud_cost_per_pflops_hour_range() -> None:
    low = eff.cost_per_pflop("H100", "bf16", price="cloud", bound="low")
    high = eff.cost_per_pflop("H100", "bf16", price="cloud", bound="high")
    assert low == pytest.approx(2.99 / 0.9895)
    assert high == pytest.approx(12.29 / 0.9895)


def test_l4_inference_gpu_by_hand() -> None:
    # NVIDIA L4: 242 TFLOP/s BF16 with sparsity -> 121 dense, over 72 W = 1.68 TFLOP/s per W.
    assert eff.flops_per_watt("L4", "bf16") == pytest.approx(121e12 / 72)


def test_generations_get_more_efficient() -> None:
    # A100 -> H100 -> B200 at BF16: each generation more FLOP/s per watt.
    a, h, b = (eff.flops_per_watt(n, "bf16") for n in ("A100", "H100", "B200"))
    assert a < h < b


def test_table_covers_the_spec_chips_and_keeps_missing_values_none() -> None:
    rows = {r.name: r for r in eff.efficiency_table("bf16")}
    for name in ("A100-80GB", "H100-SXM", "B200", "TPU-v4", "TPU-v5p", "MI300X", "Gaudi3",
                 "L4"):
        assert name in rows
    assert rows["TPU-v5p"].flops_per_w is None            # Google publishes no v5p TDP
    assert rows["MI300X"].purchase_usd_per_pflops is None  # no public price in the catalog
    values = [r.flops_per_w for r in rows.values() if r.flops_per_w is not None]
    assert values == sorted(values, reverse=True)


def test_every_row_cites_its_peak() -> None:
    for row in eff.efficiency_table("bf16"):
        entry = catalog.get(row.name)
        assert row.sources["peak"] == entry.values["flops_per_s.bf16"].source


def test_unknown_accelerator_says_did_you_mean() -> None:
    with pytest.raises(CatalogError, match="closest"):
        eff.flops_per_watt("B2000", "bf16")


def test_unknown_precision_is_refused() -> None:
    with pytest.raises(InputError, match="precision"):
        eff.flops_per_watt("H100", "fp4")


def test_missing_price_or_tdp_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no public purchase price"):
        eff.cost_per_pflop("MI300X", "bf16")
    with pytest.raises(InputError, match="no published TDP"):
        eff.flops_per_watt("TPU-v5p", "bf16")

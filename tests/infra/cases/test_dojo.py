"""Tesla Dojo: FLOP/s per watt against Tesla's stated figures, and the Poisson yield by hand."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlfleet.errors import InputError
from mlfleet.infra.cases import dojo


def test_per_watt_is_exact_arithmetic_on_teslas_figures() -> None:
    rows = {r.name: r for r in dojo.efficiency_rows()}
    # AI Day 2021: 362 TFLOPS BF16 at 400 W; tile 9 PFLOPS at 15 kW (Hamilton 2021).
    assert rows["Dojo D1 chip"].flops_per_w == 362e12 / 400 == 9.05e11
    assert rows["Dojo training tile (25 D1)"].flops_per_w == 9e15 / 15e3 == 6e11
    # H100 SXM datasheet 989.5 TFLOPS dense bf16 at 700 W; DGX H100 8 GPUs at 10.2 kW.
    assert rows["H100 SXM chip"].flops_per_w == pytest.approx(989.5e12 / 700, rel=1e-15)
    assert rows["DGX H100 node (8 H100)"].flops_per_w == pytest.approx(8 * 989.5e12 / 10.2e3,
                                                                       rel=1e-15)
    d1, h100 = dojo.chip_flops_per_watt()
    assert d1 == 9.05e11 and h100 == pytest.approx(989.5e12 / 700, rel=1e-15)


def test_tile_peak_is_25_dies_within_tesla_rounding() -> None:
    rows = {r.name: r for r in dojo.efficiency_rows()}
    sum_of_dies = 25 * rows["Dojo D1 chip"].peak_flops_per_s        # 9.05 PFLOP/s
    stated = rows["Dojo training tile (25 D1)"].peak_flops_per_s   # "9 PFLOPS"
    assert sum_of_dies / stated - 1 == pytest.approx(0.00556, abs=1e-5)  # +0.56 %
    # the tile's 15 kW is 1.5x its dies' 10 kW: regulators, I/O, and SerDes on the tile
    assert rows["Dojo training tile (25 D1)"].power_w / (25 * 400) == 1.5


def test_poisson_yield_by_hand() -> None:
    # TSMC N7 D0 = 0.09 /cm^2 (AnandTech 2020), D1 = 645 mm^2 = 6.45 cm^2
    y = dojo.tile_yield()
    assert y.die_yield == math.exp(-0.5805)                         # 0.5596
    assert y.monolithic_yield == pytest.approx(math.exp(-14.5125), rel=1e-12)  # 4.98e-7
    # dies per 300 mm wafer: pi*150^2/645 - pi*300/sqrt(1290) = 109.59 - 26.24 = 83.35
    assert y.dies_per_wafer == 83
    assert y.wafers_per_tile_known_good == pytest.approx(25 / (83 * math.exp(-0.5805)))
    assert y.monolithic_per_wafer == 1   # 161 cm^2 square: diagonal 180 mm < 300 mm
    assert y.wafers_per_tile_monolithic == pytest.approx(1 / math.exp(-14.5125))


def test_zero_defects_make_every_die_good() -> None:
    y = dojo.tile_yield(defects_per_cm2=0.0)
    assert y.die_yield == y.monolithic_yield == 1.0
    assert y.wafers_per_tile_known_good == 25 / 83


@given(d=st.floats(0, 2), a=st.floats(0.01, 50), b=st.floats(0.01, 50))
def test_yield_multiplies_over_areas_and_falls_with_area(d: float, a: float, b: float) -> None:
    ya, yb, yab = (dojo.poisson_yield(d, x) for x in (a, b, a + b))
    assert 0 < yab <= min(ya, yb) <= 1
    assert yab == pytest.approx(ya * yb, rel=1e-9)


@pytest.mark.parametrize(("d", "area"), [(-0.1, 1.0), (0.1, 0.0), (float("nan"), 1.0)])
def test_bad_yield_inputs_are_input_errors(d: float, area: float) -> None:
    with pytest.raises(InputError):
        dojo.poisson_yield(d, area)

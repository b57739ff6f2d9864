"""Time-of-use shifting: a hand-computed case, the closed form against an hour-by-hour
greedy schedule, and the saving's invariants; renewable PPAs vs the grid by hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.errors import InputError
from mlfleet.infra.tco import electricity as el

TARIFF = el.Tariff(peak_usd_per_kwh=0.30, off_peak_usd_per_kwh=0.12, peak_hours=5)


def test_hand_computed_case() -> None:
    s = el.shift_off_peak(load_w=1e6, capacity_w=1.25e6, deferrable=0.5, tariff=TARIFF)
    # flat: 1,000 kW x (5 h x $0.30 + 19 h x $0.12) = $3,780 a day
    assert s.flat_usd_per_day == pytest.approx(3780.0)
    # movable: 0.5 x 1,000 kW x 5 h = 2,500 kWh < headroom 250 kW x 19 h = 4,750 kWh
    assert s.moved_kwh_per_day == pytest.approx(2500.0) and not s.headroom_bound
    assert s.saving_usd_per_day == pytest.approx(2500 * 0.18)          # $450
    assert s.saving_usd_per_year == pytest.approx(450 * 365)           # $164,250


def test_headroom_binds() -> None:
    s = el.shift_off_peak(load_w=1e6, capacity_w=1.1e6, deferrable=1.0, tariff=TARIFF)
    # 5,000 kWh deferrable at peak, but only 100 kW x 19 h = 1,900 kWh of room off-peak
    assert s.moved_kwh_per_day == pytest.approx(1900.0) and s.headroom_bound
    assert s.saving_usd_per_day == pytest.approx(1900 * 0.18)


def greedy_day(*, load_w: float, capacity_w: float, deferrable: float,
               tariff: el.Tariff) -> float:
    """Reference: an hour-by-hour schedule. Each peak hour keeps its firm load and gives up
    its deferrable part; the pooled deferrable energy fills off-peak hours up to capacity;
    what does not fit runs back in the peak hours. Returns the day's bill in USD."""
    n_peak = int(tariff.peak_hours)
    prices = np.array([tariff.peak_usd_per_kwh] * n_peak
                      + [tariff.off_peak_usd_per_kwh] * (24 - n_peak))
    kw = np.full(24, load_w / 1000.0)
    if tariff.peak_usd_per_kwh > tariff.off_peak_usd_per_kwh:
        pool = deferrable * load_w / 1000.0 * n_peak
        kw[:n_peak] -= deferrable * load_w / 1000.0
        for hour in range(n_peak, 24):
            add = min(pool, capacity_w / 1000.0 - kw[hour])
            kw[hour] += add
            pool -= add
        kw[:n_peak] += pool / n_peak if n_peak else 0.0
    return float(np.sum(kw * prices))


@settings(max_examples=200, deadline=None)
@given(load=st.floats(1e3, 1e8), extra=st.floats(0.0, 2.0), f=st.floats(0.0, 1.0),
       peak=st.floats(0.0, 1.0), off=st.floats(0.0, 1.0), hours=st.integers(1, 23))
def test_closed_form_equals_the_greedy_schedule(load: float, extra: float, f: float,
                                                peak: float, off: float, hours: int) -> None:
    tariff = el.Tariff(peak_usd_per_kwh=peak, off_peak_usd_per_kwh=off, peak_hours=hours)
    cap = load * (1 + extra)
    s = el.shift_off_peak(load_w=load, capacity_w=cap, deferrable=f, tariff=tariff)
    ref = greedy_day(load_w=load, capacity_w=cap, deferrable=f, tariff=tariff)
    assert s.shifted_usd_per_day == pytest.approx(ref, rel=1e-9, abs=1e-9 * load)


@settings(max_examples=200, deadline=None)
@given(f=st.floats(0.0, 1.0, allow_subnormal=False),
       extra=st.floats(0.0, 1.0, allow_subnormal=False),
       peak=st.floats(0.0, 1.0), off=st.floats(0.0, 1.0),
       hours=st.integers(0, 96).map(lambda q: q / 4))
def test_saving_never_negative_and_linear_until_headroom(f: float, extra: float, peak: float,
                                                         off: float, hours: float) -> None:
    tariff = el.Tariff(peak_usd_per_kwh=peak, off_peak_usd_per_kwh=off, peak_hours=hours)
    s = el.shift_off_peak(load_w=1e6, capacity_w=1e6 * (1 + extra), deferrable=f,
                          tariff=tariff)
    assert s.saving_usd_per_day >= 0
    slope = 1e6 / 1000 * hours * max(0.0, peak - off)     # saving per unit of f, unbounded
    knee = extra * (24 - hours) / hours if hours else float("inf")
    if f <= knee:
        assert s.saving_usd_per_day == pytest.approx(f * slope, rel=1e-9, abs=1e-9)
    else:
        assert s.headroom_bound or slope == 0
        assert s.saving_usd_per_day <= f * slope * (1 + 1e-12)


def test_ppa_vs_grid_by_hand() -> None:
    grid, solar, wind = el.grid_and_ppas(load_w=1e6, grid_usd_per_kwh=0.0806)
    energy = 1e3 * 24 * 365                                     # 8,760,000 kWh
    assert grid.usd_per_year == pytest.approx(energy * 0.0806)
    assert grid.co2_t_per_year == pytest.approx(energy * 0.366 / 1000)   # 3,206 t (EIA 2023)
    assert solar.usd_per_year == pytest.approx(energy * 0.05676)         # LevelTen Q4 2024
    assert wind.usd_per_year == pytest.approx(energy * 0.06781)
    assert solar.co2_t_per_year == wind.co2_t_per_year == 0.0


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"deferrable": 1.5}, "deferrable"),
    ({"deferrable": -0.1}, "deferrable"),
    ({"capacity_w": 0.5e6}, "capacity"),
    ({"load_w": -1.0}, "load_w"),
])
def test_bad_shift_inputs(kwargs: dict[str, float], fragment: str) -> None:
    args = {"load_w": 1e6, "capacity_w": 1.25e6, "deferrable": 0.5, **kwargs}
    with pytest.raises(InputError, match=fragment):
        el.shift_off_peak(tariff=TARIFF, **args)


@pytest.mark.parametrize("kwargs", [{"peak_usd_per_kwh": -0.1}, {"off_peak_usd_per_kwh": -1},
                                    {"peak_hours": 25}, {"peak_hours": -1}])
def test_bad_tariffs(kwargs: dict[str, float]) -> None:
    with pytest.raises(InputError):
        el.Tariff(**{"peak_usd_per_kwh": 0.3, "off_peak_usd_per_kwh": 0.1, "peak_hours": 5,
                     **kwargs})

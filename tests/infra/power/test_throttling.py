"""The DVFS power-cap model against the Zeus (NSDI'23) A40 power-limit sweep.

Data: You, Chung & Chowdhury, "Zeus: Understanding and Optimizing GPU Energy Consumption
of DNN Training", NSDI 2023; github.com/ml-energy/zeus,
examples/research_reproducibility/zeus_nsdi23/trace/summary_power_a40.csv (NVIDIA A40,
300 W TDP): per power limit, the time per epoch and the average power drawn. Rows where the
GPU drew more than 5 % above its limit (it could not meet the cap: minimum clock) are
outside the model's domain and left out.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlfleet.errors import CatalogError, InputError
from mlfleet.infra.power import throttling as th

A40_TDP_W = 300.0
# workload -> rows of (power limit W, time per epoch s, average power W); the 300 W row
# is the uncapped reference.
ZEUS_A40: dict[str, list[tuple[float, float, float]]] = {
    "imagenet-resnet50-b256": [
        (100, 10606.19, 120.7), (125, 9639.82, 125.5), (150, 6326.84, 144.6),
        (175, 4705.61, 160.2), (200, 4123.52, 177.6), (225, 3909.47, 196.4),
        (250, 3864.98, 214.6), (275, 3857.81, 230.8), (300, 3847.48, 235.2)],
    "imagenet-resnet50-b128": [
        (100, 11009.39, 114.7), (125, 9375.09, 125.1), (150, 6147.46, 144.3),
        (175, 4463.24, 160.9), (200, 3992.39, 179.2), (225, 3862.42, 198.4),
        (250, 3804.21, 216.2), (275, 3777.29, 230.8), (300, 3739.5, 244.3)],
    "imagenet-resnet50-b512": [
        (100, 11983.87, 119.0), (125, 10710.98, 125.2), (150, 6801.75, 142.2),
        (175, 4824.91, 157.5), (200, 4463.71, 175.2), (225, 4211.38, 192.7),
        (250, 4145.46, 208.4), (275, 4132.73, 222.6), (300, 4121.5, 233.8)],
    "librispeech-deepspeech2-b32": [
        (100, 16315.83, 103.0), (125, 10060.71, 113.9), (150, 6847.29, 127.0),
        (175, 5442.70, 138.6), (200, 5311.94, 150.6), (225, 5215.75, 162.2),
        (250, 5135.19, 168.6), (275, 5065.79, 180.1), (300, 5135.95, 177.4)],
    "cifar100-shufflenetv2-b1024": [
        (100, 27.13, 106.9), (125, 16.85, 119.0), (150, 11.09, 141.6),
        (175, 9.175, 160.7), (200, 8.8, 181.8), (225, 8.755, 201.1),
        (250, 8.605, 209.2), (275, 8.605, 216.9), (300, 8.525, 218.9)],
}
FIT_ON = "imagenet-resnet50-b256"


def sweep(name: str) -> tuple[np.ndarray, np.ndarray, float]:
    """(caps met, measured speed ratio, uncapped power) of one workload."""
    rows = ZEUS_A40[name]
    t0, p0 = rows[-1][1], rows[-1][2]
    kept = [(cap, t0 / t) for cap, t, p in rows[:-1] if p <= 1.05 * cap]
    caps, speed = (np.array(c, dtype=float) for c in zip(*kept, strict=True))
    return caps, speed, p0


def errors(name: str, params: th.DvfsParams) -> np.ndarray:
    caps, speed, p0 = sweep(name)
    predicted = th.predicted_speed(caps, uncapped_w=p0, tdp_w=A40_TDP_W, params=params)
    return np.asarray(predicted / speed - 1.0, dtype=np.float64)


def test_fit_on_resnet50_recovers_the_shipped_parameters() -> None:
    caps, speed, p0 = sweep(FIT_ON)
    fitted = th.fit_dvfs(cap_w=caps, speed_ratio=speed, uncapped_w=p0, tdp_w=A40_TDP_W)
    assert fitted.static_fraction == pytest.approx(th.A40_FIT.static_fraction, abs=1e-9)
    assert fitted.v_min_ratio == pytest.approx(th.A40_FIT.v_min_ratio, abs=1e-9)


def test_fitted_workload_within_2_percent() -> None:
    assert np.max(np.abs(errors(FIT_ON, th.A40_FIT))) < 0.02  # observed 1.4 %


@pytest.mark.parametrize(("name", "bound"), [
    ("imagenet-resnet50-b128", 0.09),        # observed max |error| 7.8 %
    ("imagenet-resnet50-b512", 0.06),        # observed 5.2 %
    ("cifar100-shufflenetv2-b1024", 0.13),   # observed 11.7 %
    ("librispeech-deepspeech2-b32", 0.25),   # observed 23.7 % (LSTM, low uncapped power)
])
def test_held_out_workloads(name: str, bound: float) -> None:
    assert np.max(np.abs(errors(name, th.A40_FIT))) < bound


def test_held_out_median_error_below_4_percent() -> None:
    held = np.concatenate([errors(n, th.A40_FIT) for n in ZEUS_A40 if n != FIT_ON])
    assert held.size == 29
    assert np.median(np.abs(held)) < 0.04  # observed 2.7 % over 29 capped runs


def test_cube_law_above_the_voltage_floor_by_hand() -> None:
    # P0 = 700 W, static 0 W: a cap at 700 * 0.9^3 W runs at exactly 90 % clock.
    x = th.freq_ratio_at_power(700 * 0.9 ** 3, uncapped_w=700, static_w=0.0, v_min_ratio=0.5)
    assert float(x) == pytest.approx(0.9)


def test_linear_below_the_voltage_floor_by_hand() -> None:
    # v_min 0.8: at x = 0.5, g = 0.5 * 0.64 = 0.32 of full dynamic power.
    x = th.freq_ratio_at_power(100 + 0.32 * 500, uncapped_w=600, static_w=100, v_min_ratio=0.8)
    assert float(x) == pytest.approx(0.5)


def test_h100_cap_report() -> None:
    res = th.power_cap(accelerator="H100", cap_fraction=0.7)
    assert res.binding and res.cap_w == pytest.approx(490.0)
    assert 0.7 < res.speed_ratio < 1.0
    assert res.energy_per_work_ratio < 1.0   # a moderate cap saves energy per unit of work
    memory_bound = th.power_cap(accelerator="H100", cap_fraction=0.7, compute_fraction=0.2)
    assert memory_bound.speed_ratio > res.speed_ratio
    assert res.validated and not th.power_cap(accelerator="H100", cap_fraction=0.5).validated


def test_cap_above_the_draw_costs_nothing() -> None:
    res = th.power_cap(accelerator="H100", cap_fraction=0.9, load_fraction=0.6)
    assert not res.binding and res.speed_ratio == 1.0 and res.power_w == pytest.approx(420.0)


@pytest.mark.parametrize("cap", [0.0, -0.1, 1.5, float("nan")])
def test_cap_outside_unit_interval_is_refused(cap: float) -> None:
    with pytest.raises(InputError, match="cap"):
        th.power_cap(accelerator="H100", cap_fraction=cap)


def test_cap_below_static_power_is_refused() -> None:
    with pytest.raises(InputError, match="static"):
        th.power_cap(accelerator="H100", cap_fraction=0.2)


def test_unknown_accelerator_suggests_names() -> None:
    with pytest.raises(CatalogError, match="closest"):
        th.power_cap(accelerator="H1000", cap_fraction=0.7)


def test_chip_without_tdp_is_refused() -> None:
    with pytest.raises(InputError, match="TDP"):
        th.power_cap(accelerator="TPU-v5p", cap_fraction=0.7)


@given(st.floats(0.3, 1.0), st.floats(0.3, 1.0))
def test_lower_cap_never_faster_nor_more_power(a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    r_lo = th.power_cap(accelerator="H100", cap_fraction=lo)
    r_hi = th.power_cap(accelerator="H100", cap_fraction=hi)
    assert r_lo.speed_ratio <= r_hi.speed_ratio + 1e-12
    assert r_lo.power_w <= r_hi.power_w + 1e-9
    assert 0 < r_lo.freq_ratio <= 1


@given(st.floats(0.05, 1.0), st.floats(0.3, 0.99))
def test_power_of_the_solved_clock_is_the_cap(t: float, vmin: float) -> None:
    static, p0 = 50.0, 300.0
    x = th.freq_ratio_at_power(static + t * (p0 - static), uncapped_w=p0, static_w=static,
                               v_min_ratio=vmin)
    g = th.dynamic_power_ratio(x, v_min_ratio=vmin)
    assert float(g) == pytest.approx(t, rel=1e-9)


# The same Zeus sweep on an NVIDIA V100 (PCIe, 250 W TDP; summary_power_v100.csv): the
# A40-fitted parameters applied to another GPU, with no refit.
V100_TDP_W = 250.0
ZEUS_V100: dict[str, list[tuple[float, float, float]]] = {
    "imagenet-resnet50-b256": [
        (100, 6781.17, 98.38), (125, 5064.97, 121.97), (150, 4148.66, 144.59),
        (175, 3852.18, 166.37), (200, 3700.97, 184.94), (225, 3584.30, 205.44),
        (250, 3514.99, 220.25)],
    "librispeech-deepspeech2-b32": [
        (100, 8225.55, 94.67), (125, 7000.65, 115.39), (150, 6680.36, 129.59),
        (175, 6377.93, 148.18), (200, 6156.5, 168.92), (225, 5959.29, 188.95),
        (250, 5888.39, 204.59)],
}


def v100_errors(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(caps as a fraction of TDP, relative error) of the A40 fit on the V100 sweep."""
    rows = ZEUS_V100[name]
    t0, p0 = rows[-1][1], rows[-1][2]
    caps = np.array([c for c, _, _ in rows[:-1]])
    speed = np.array([t0 / t for _, t, _ in rows[:-1]])
    predicted = th.predicted_speed(caps, uncapped_w=p0, tdp_w=V100_TDP_W, params=th.A40_FIT)
    return caps / V100_TDP_W, np.asarray(predicted / speed - 1.0, dtype=np.float64)


@pytest.mark.parametrize("name", sorted(ZEUS_V100))
def test_a40_fit_transfers_to_v100_down_to_70_percent_of_tdp(name: str) -> None:
    share, err = v100_errors(name)
    assert np.max(np.abs(err[share >= 0.7])) < 0.035   # observed 2.2 % / 3.4 %
    # Deeper caps: the fit is pessimistic on the V100 (predicts slower than measured),
    # -41 % (ResNet-50) and -53 % (DeepSpeech2) at 40 % of TDP: its static share differs.
    assert np.all(err[share <= 0.5] < -0.08)

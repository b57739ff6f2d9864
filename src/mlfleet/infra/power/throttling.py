"""Power capping and thermal throttling as a speed loss: a DVFS model.

Fidelity: model, fitted to and validated against a published measurement.

A chip's power splits into a frequency-independent part (leakage, HBM, board) and the
dynamic CMOS power alpha·C·V²·f. Voltage tracks frequency down to a floor ``V_min``
(reached at ``f/f_max = v_min_ratio``), below which only frequency falls. With
``x = f / f_max``:

    P(x) = P_static + (P_0 - P_static) · g(x) / g(1),   g(x) = x · max(v_min_ratio, x)²

(the cube law above the voltage floor, linear below it; e.g. Kaxiras & Martonosi,
*Computer Architecture Techniques for Power-Efficiency*, 2008, ch. 2). ``P_0`` is the
workload's uncapped draw. Under a cap ``P_cap < P_0`` the firmware lowers the clock until
``P(x) = P_cap``; the inverse is closed-form:

    t = (P_cap - P_static) / (P_0 - P_static)
    x = t^(1/3)                  if t >= v_min_ratio³
    x = t / v_min_ratio²         otherwise

A step whose frequency-sensitive (compute-bound) share of time is ``beta`` then runs at

    speed = 1 / (beta / x + 1 - beta)

(memory- or communication-bound time does not stretch with the core clock). Thermal
throttling is the same mechanism with the cap set by what the cooling removes.

The two parameters are fitted (:func:`fit_dvfs`, a grid search) to the NVIDIA A40
power-limit sweep published with Zeus (You, Chung & Chowdhury, "Zeus: Understanding and
Optimizing GPU Energy Consumption of DNN Training", NSDI 2023; data in
github.com/ml-energy/zeus, ``examples/research_reproducibility/zeus_nsdi23/trace/
summary_power_a40.csv``) on ImageNet ResNet-50 at batch 256, and checked on the other
workloads of the same sweep (tests/infra/power/test_throttling.py states the errors).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.catalog.types import Accelerator
from mlfleet.checks import fraction, fraction_array, positive, positive_array
from mlfleet.errors import InputError

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class DvfsParams:
    """The two DVFS parameters of the module docstring."""

    static_fraction: float
    """Frequency-independent power as a fraction of the chip's TDP."""
    v_min_ratio: float
    """f / f_max at which the voltage reaches its floor."""

    def __post_init__(self) -> None:
        fraction("static_fraction", self.static_fraction, open_high=True)
        fraction("v_min_ratio", self.v_min_ratio, open_low=True)


VALIDATED_CAP_FRACTION = 0.7
"""Caps at or above this share of TDP transferred from the A40 fit to a V100 within 3.4 %;
deeper caps were off by up to -53 % there (tests/infra/power/test_throttling.py)."""

A40_FIT = DvfsParams(static_fraction=0.256, v_min_ratio=0.871)
"""Fitted on the Zeus A40 sweep, ResNet-50 batch 256 (77 W static of 300 W TDP; voltage
floor at 87 % of the top clock)."""


def dynamic_power_ratio(freq_ratio: npt.ArrayLike, *, v_min_ratio: float) -> FloatArray:
    """g(x) / g(1): dynamic power at ``x = f/f_max`` relative to full clock."""
    x = fraction_array("freq_ratio", freq_ratio)
    return np.asarray(x * np.maximum(v_min_ratio, x) ** 2, dtype=np.float64)


def freq_ratio_at_power(power_w: npt.ArrayLike, *, uncapped_w: float, static_w: float,
                        v_min_ratio: float) -> FloatArray:
    """Clock ratio x at which the chip draws ``power_w`` (1 where the cap does not bind).

    Raises InputError when a power is at or below the static power (no clock meets it).
    """
    p = positive_array("power_w", power_w)
    if np.any(p <= static_w):
        raise InputError(f"power cap(={float(p.min()):.0f} W) must exceed the chip's static "
                         f"power ({static_w:.0f} W): no clock frequency draws less")
    t = np.clip((p - static_w) / (uncapped_w - static_w), None, 1.0)
    return np.where(t >= v_min_ratio ** 3, np.cbrt(t), t / v_min_ratio ** 2)


def throughput_ratio(freq_ratio: npt.ArrayLike, *, compute_fraction: float = 1.0) -> FloatArray:
    """Speed relative to full clock when a ``compute_fraction`` of time scales with 1/x."""
    fraction("compute_fraction", compute_fraction)
    x = positive_array("freq_ratio", freq_ratio)
    return np.asarray(1.0 / (compute_fraction / x + 1.0 - compute_fraction), dtype=np.float64)


@dataclass(frozen=True, kw_only=True)
class CapResult:
    """A power cap on one chip running a workload."""

    accelerator: str
    tdp_w: float
    cap_fraction: float
    cap_w: float
    uncapped_w: float
    """The workload's draw without a cap (load_fraction x TDP)."""
    binding: bool
    """Whether the cap is below the uncapped draw."""
    freq_ratio: float
    speed_ratio: float
    """Throughput under the cap / throughput without it."""
    slowdown: float
    """1 / speed_ratio: how much longer the same work takes."""
    power_w: float
    """Power drawn under the cap."""
    energy_per_work_ratio: float
    """Energy per unit of work under the cap / without it (< 1: capping saves energy)."""
    validated: bool
    """Whether the cap is in the range checked on a second GPU (>= 70 % of TDP)."""


def power_cap(*, accelerator: str, cap_fraction: float, load_fraction: float = 1.0,
              compute_fraction: float = 1.0, params: DvfsParams = A40_FIT) -> CapResult:
    """Speed and energy of ``accelerator`` capped at ``cap_fraction`` of its TDP.

    ``load_fraction`` is the workload's uncapped draw as a fraction of TDP (about 1 for
    compute-bound training). Raises InputError for a cap outside (0, 1], a chip without
    a TDP, or a cap below the static power; CatalogError for an unknown chip.
    """
    fraction("cap", cap_fraction, open_low=True)
    fraction("load_fraction", load_fraction, open_low=True)
    acc = Accelerator.from_name(accelerator)
    if acc.tdp_w is None:
        raise InputError(f"{acc.name} has no published TDP in the catalog; a cap as a "
                         "fraction of TDP is undefined for it")
    cap_w, uncapped_w = cap_fraction * acc.tdp_w, load_fraction * acc.tdp_w
    static_w = params.static_fraction * acc.tdp_w
    if uncapped_w <= static_w:
        raise InputError(f"load_fraction(={load_fraction:g}) must exceed the static power "
                         f"fraction {params.static_fraction:g} of TDP")
    x = float(freq_ratio_at_power(cap_w, uncapped_w=uncapped_w, static_w=static_w,
                                  v_min_ratio=params.v_min_ratio))
    speed = float(throughput_ratio(x, compute_fraction=compute_fraction))
    drawn = min(cap_w, uncapped_w)
    return CapResult(accelerator=acc.name, tdp_w=acc.tdp_w, cap_fraction=cap_fraction,
                     cap_w=cap_w, uncapped_w=uncapped_w, binding=cap_w < uncapped_w,
                     freq_ratio=x, speed_ratio=speed, slowdown=1.0 / speed, power_w=drawn,
                     energy_per_work_ratio=drawn / uncapped_w / speed,
                     validated=cap_fraction >= VALIDATED_CAP_FRACTION)


def predicted_speed(cap_w: npt.ArrayLike, *, uncapped_w: float, tdp_w: float,
                    params: DvfsParams) -> FloatArray:
    """Speed ratio at each cap for a compute-bound workload drawing ``uncapped_w``."""
    x = freq_ratio_at_power(cap_w, uncapped_w=uncapped_w, static_w=params.static_fraction * tdp_w,
                            v_min_ratio=params.v_min_ratio)
    return throughput_ratio(x)


def fit_dvfs(*, cap_w: npt.ArrayLike, speed_ratio: npt.ArrayLike, uncapped_w: float,
             tdp_w: float, step: float = 0.001) -> DvfsParams:
    """Least-squares DVFS parameters on a grid of ``step``, from a measured power sweep.

    ``speed_ratio`` is the measured throughput at each cap over the uncapped one.
    """
    caps = positive_array("cap_w", cap_w)
    speed = positive_array("speed_ratio", speed_ratio)
    positive("uncapped_w", uncapped_w)
    positive("tdp_w", tdp_w)
    statics = np.arange(0.0, min(caps.min(), uncapped_w) / tdp_w, step)[:, None, None]
    vmins = np.arange(step, 1.0, step * 10)[None, :, None]
    t = np.clip((caps - statics * tdp_w) / (uncapped_w - statics * tdp_w), None, 1.0)
    x = np.where(t >= vmins ** 3, np.cbrt(t), t / vmins ** 2)  # (static, vmin, cap)
    err = ((x - speed) ** 2).sum(axis=2)
    i, j = np.unravel_index(int(np.argmin(err)), err.shape)
    return DvfsParams(static_fraction=round(float(statics[i, 0, 0]), 6),
                      v_min_ratio=round(float(vmins[0, j, 0]), 6))

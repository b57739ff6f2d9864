"""Hybrid strategy: own a baseline of GPUs and rent the rest on demand.

Owning a GPU costs ``c_o`` every hour (the owned cost per provisioned GPU-hour); renting
costs ``c_c`` per used GPU-hour. The ``x``-th owned GPU saves ``c_c`` in every hour the
demand exceeds ``x``, so with demand ``d(t)`` the cost

    cost(x) = c_o x T + c_c sum_t max(0, d(t) - x)

falls while ``P(d > x) > c_o / c_c`` and rises after: own up to the demand quantile

    x* = quantile(d, 1 - u*),   u* = c_o / c_c        (the break-even utilization)

(the newsvendor rule of capacity planning). A flat demand is all owned (when ``u* < 1``);
a spiky one is mostly rented. ``demand_profile`` gives a diurnal demand to try it on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlfleet.checks import (
    FloatArray,
    fraction,
    non_negative,
    non_negative_array,
    positive,
    positive_int,
)


@dataclass(frozen=True, kw_only=True)
class HybridPlan:
    """Cost over the demand profile of owning ``owned_gpus`` and renting the rest."""

    owned_gpus: float
    cost_usd: float
    owned_usd: float
    rented_usd: float
    rented_gpu_h: float
    owned_utilization: float
    """Used / provisioned hours of the owned GPUs."""


def demand_profile(*, mean_gpus: float, amplitude: float, hours: int = 168,
                   period_h: float = 24.0) -> FloatArray:
    """Hourly GPU demand ``mean x (1 + amplitude x sin(2 pi t / period))`` for ``hours``."""
    positive("mean_gpus", mean_gpus)
    fraction("amplitude", amplitude)
    positive_int("hours", hours)
    positive("period_h", period_h)
    t = np.arange(hours, dtype=np.float64) + 0.5  # hour midpoints
    return np.asarray(mean_gpus * (1.0 + amplitude * np.sin(2.0 * np.pi * t / period_h)),
                      dtype=np.float64)


def plan(demand: FloatArray, *, owned_gpus: float, owned_usd_per_gpu_h: float,
         cloud_usd_per_gpu_h: float) -> HybridPlan:
    """The cost of owning ``owned_gpus`` (paid every hour) and renting the excess hourly."""
    d = non_negative_array("demand", demand)
    positive("owned_usd_per_gpu_h", owned_usd_per_gpu_h)
    positive("cloud_usd_per_gpu_h", cloud_usd_per_gpu_h)
    non_negative("owned_gpus", owned_gpus)
    rented = float(np.sum(np.maximum(d - owned_gpus, 0.0)))
    used_owned = float(np.sum(np.minimum(d, owned_gpus)))
    owned = owned_usd_per_gpu_h * owned_gpus * d.size
    return HybridPlan(owned_gpus=owned_gpus, cost_usd=owned + cloud_usd_per_gpu_h * rented,
                      owned_usd=owned, rented_usd=cloud_usd_per_gpu_h * rented,
                      rented_gpu_h=rented,
                      owned_utilization=used_owned / (owned_gpus * d.size) if owned_gpus else 0.0)


def best_owned_gpus(demand: FloatArray, *, owned_usd_per_gpu_h: float,
                    cloud_usd_per_gpu_h: float) -> float:
    """``x* = quantile(demand, 1 - c_o / c_c)``; 0 when owning never pays (``c_o >= c_c``)."""
    d = non_negative_array("demand", demand)
    u_star = positive("owned_usd_per_gpu_h", owned_usd_per_gpu_h) \
        / positive("cloud_usd_per_gpu_h", cloud_usd_per_gpu_h)
    if u_star >= 1.0:
        return 0.0
    return float(np.quantile(d, 1.0 - u_star, method="inverted_cdf"))

"""Reserved, on-demand or spot: how to buy a demand profile of GPU-hours.

Demand per hour is ``firm + preemptible``; preemptible work checkpoints and may run on
spot. Reserved capacity is paid every hour, used or not, so it pays for the always-on
floor: the ``x``-th reserved GPU saves the on-demand price in every hour firm demand
exceeds ``x``, and the cheapest count is the newsvendor quantile
``x* = quantile(firm, 1 - reserved / on-demand)`` (:mod:`mlfleet.infra.tco.hybrid`,
reused). Preemptible work first fills reserved GPUs the firm demand leaves idle, then
goes to spot when a useful spot GPU-hour is cheaper than on-demand: spot is billed per
hour held, and preemptions cost lost work and restarts, Daly's expected wall time per
unit of work (:func:`mlfleet.infra.tco.cloud.spot_job`, checked there against
:mod:`mlfleet.infra.tco.spot_sim`). Otherwise it runs on demand with the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlfleet.checks import FloatArray, non_negative_array, positive
from mlfleet.errors import InputError
from mlfleet.infra.tco.cloud import SpotJob
from mlfleet.infra.tco.hybrid import best_owned_gpus, plan


@dataclass(frozen=True, kw_only=True)
class CommitmentPlan:
    """What to buy for the profile, and what it costs against all on-demand."""

    reserved_gpus: float
    reserved_usd: float
    on_demand_gpu_h: float
    on_demand_usd: float
    spot_gpu_h: float
    """Useful GPU-hours run on spot."""
    spot_usd: float
    spot_usd_per_useful_gpu_h: float | None
    """None when spot is not used (no preemptible work, or no cheaper than on-demand)."""
    all_on_demand_usd: float

    @property
    def total_usd(self) -> float:
        return self.reserved_usd + self.on_demand_usd + self.spot_usd

    @property
    def saving_usd(self) -> float:
        return self.all_on_demand_usd - self.total_usd


def commitment_plan(firm_gpus: FloatArray, *, preemptible_gpus: FloatArray | None = None,
                    on_demand_usd_per_gpu_h: float, reserved_usd_per_gpu_h: float,
                    spot: SpotJob | None = None) -> CommitmentPlan:
    """The plan for hourly demand ``firm_gpus`` (+ ``preemptible_gpus``)."""
    firm = non_negative_array("firm_gpus", firm_gpus)
    pre = np.zeros_like(firm) if preemptible_gpus is None \
        else non_negative_array("preemptible_gpus", preemptible_gpus)
    if pre.shape != firm.shape:
        raise InputError(f"preemptible_gpus has {pre.size} hours, firm_gpus {firm.size}; "
                         "want the same hours")
    od = positive("on_demand_usd_per_gpu_h", on_demand_usd_per_gpu_h)
    x = best_owned_gpus(firm, owned_usd_per_gpu_h=positive("reserved_usd_per_gpu_h",
                                                           reserved_usd_per_gpu_h),
                        cloud_usd_per_gpu_h=od)
    firm_plan = plan(firm, owned_gpus=x, owned_usd_per_gpu_h=reserved_usd_per_gpu_h,
                     cloud_usd_per_gpu_h=od)
    leftover = np.maximum(pre - np.maximum(x - firm, 0.0), 0.0)  # after idle reserved GPUs
    rest_h = float(leftover.sum())
    spot_price = spot.usd_per_useful_gpu_h if spot is not None else None
    use_spot = spot_price is not None and spot_price < od and rest_h > 0
    spot_h = rest_h if use_spot else 0.0
    return CommitmentPlan(
        reserved_gpus=x, reserved_usd=firm_plan.owned_usd,
        on_demand_gpu_h=firm_plan.rented_gpu_h + rest_h - spot_h,
        on_demand_usd=(firm_plan.rented_gpu_h + rest_h - spot_h) * od,
        spot_gpu_h=spot_h, spot_usd=spot_h * spot_price if use_spot and spot_price else 0.0,
        spot_usd_per_useful_gpu_h=spot_price if use_spot else None,
        all_on_demand_usd=float(firm.sum() + pre.sum()) * od)

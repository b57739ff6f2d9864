"""Cloud tiers per used GPU-hour: on-demand, 1- and 3-year reserved, and spot.

* On-demand is paid per used GPU-hour: the list price.
* Reserved capacity is paid every hour of the term, used or not: ``price / utilization``
  per used GPU-hour.
* Spot is paid per hour held, at ``(1 - discount) x on-demand``, but preemptions cost
  work: the job checkpoints every ``interval_s`` (Daly's optimum by default), each
  preemption loses the work since the last checkpoint and a restart. The expected wall
  time per unit of work is Daly's (FGCS 2006, eq. 20, exact for Poisson preemptions,
  reused from :mod:`mlfleet.reliability.checkpoint_interval`); every hour of it is billed.

A preemption of any instance stops the whole synchronous job, so the job's preemption rate
is the number of instances times one instance's. A provider's interruption figure is the
fraction ``p`` of instances reclaimed in a month (AWS Spot Instance Advisor bands); as a
Poisson process that is a rate of ``-ln(1 - p)`` per instance-month.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mlfleet.checks import fraction, non_negative, positive, positive_int
from mlfleet.infra.tco.offers import CloudOffer
from mlfleet.reliability.checkpoint_interval import daly_expected_wall_s, daly_interval_s
from mlfleet.units import parse_quantity

SECONDS_PER_MONTH = parse_quantity("1month", "s")


@dataclass(frozen=True, kw_only=True)
class SpotJob:
    """A synchronous training job on spot instances: what a useful GPU-hour costs."""

    usd_per_gpu_h: float
    """Spot price per GPU-hour held."""
    preemptions_per_s: float
    """Preemption rate of the whole job (instances x one instance's rate)."""
    interval_s: float
    """Work between checkpoints."""
    ckpt_s: float
    restart_s: float
    wall_per_work: float
    """Expected wall time per unit of useful work (>= 1)."""

    @property
    def usd_per_useful_gpu_h(self) -> float:
        return self.usd_per_gpu_h * self.wall_per_work

    @property
    def mtbp_s(self) -> float:
        """Mean time between preemptions of the job."""
        return 1.0 / self.preemptions_per_s


def instance_rate_per_s(interruption_per_month: float) -> float:
    """``-ln(1 - p)`` per month: the Poisson rate at which a fraction ``p`` of instances is
    reclaimed within a month."""
    p = fraction("interruption_per_month", interruption_per_month, open_high=True)
    return -math.log1p(-p) / SECONDS_PER_MONTH


def spot_job(*, on_demand_usd_per_gpu_h: float, discount: float, interruption_per_month: float,
             gpus: int, gpus_per_instance: int, ckpt_s: float, restart_s: float,
             interval_s: float | None = None) -> SpotJob:
    """The spot tier of a ``gpus``-GPU job (module docstring); ``interval_s`` defaults to
    Daly's optimum. With no interruptions the job pays the spot price and loses nothing
    but the checkpoint writes."""
    positive("on_demand_usd_per_gpu_h", on_demand_usd_per_gpu_h)
    fraction("discount", discount, open_high=True)
    instances = math.ceil(positive_int("gpus", gpus)
                          / positive_int("gpus_per_instance", gpus_per_instance))
    positive("ckpt_s", ckpt_s)
    non_negative("restart_s", restart_s)
    rate = instances * instance_rate_per_s(interruption_per_month)
    price = on_demand_usd_per_gpu_h * (1.0 - discount)
    mtbp = 1.0 / rate if rate > 0.0 else math.inf
    if math.isinf(mtbp):  # no (or vanishingly rare) preemptions
        tau = positive("interval_s", interval_s) if interval_s is not None else math.inf
        wall = 1.0 if math.isinf(tau) else (tau + ckpt_s) / tau
        return SpotJob(usd_per_gpu_h=price, preemptions_per_s=0.0, interval_s=tau,
                       ckpt_s=ckpt_s, restart_s=restart_s, wall_per_work=wall)
    tau = daly_interval_s(ckpt_s=ckpt_s, mtbf_s=mtbp) if interval_s is None \
        else positive("interval_s", interval_s)
    try:
        wall = daly_expected_wall_s(solve_s=1.0, interval_s=tau, ckpt_s=ckpt_s,
                                    restart_s=restart_s, mtbf_s=mtbp)
    except OverflowError:  # restarts or checkpoints far longer than the time between
        wall = math.inf    # preemptions: the job never finishes
    return SpotJob(usd_per_gpu_h=price, preemptions_per_s=rate, interval_s=tau, ckpt_s=ckpt_s,
                   restart_s=restart_s, wall_per_work=wall)


@dataclass(frozen=True, kw_only=True)
class CloudTier:
    """One way to rent: its list price and what a used GPU-hour costs at a utilization."""

    name: str
    usd_per_gpu_h: float
    """List price per GPU-hour (per hour held)."""
    usd_per_used_gpu_h: float
    commitment_years: float
    source: str


def tiers(found: CloudOffer, *, utilization: float,
          spot: SpotJob | None = None, spot_source: str = "") -> list[CloudTier]:
    """On-demand, the reserved terms the offer publishes, and spot (when given)."""
    u = fraction("utilization", utilization, open_low=True)
    out = [CloudTier(name="on-demand", usd_per_gpu_h=found.on_demand_usd_per_h,
                     usd_per_used_gpu_h=found.on_demand_usd_per_h, commitment_years=0.0,
                     source=found.source)]
    for name, years, price in (("reserved-1y", 1.0, found.reserved_1y_usd_per_h),
                               ("reserved-3y", 3.0, found.reserved_3y_usd_per_h)):
        if price is not None:
            out.append(CloudTier(name=name, usd_per_gpu_h=price, usd_per_used_gpu_h=price / u,
                                 commitment_years=years, source=found.source))
    if spot is not None:
        out.append(CloudTier(name="spot", usd_per_gpu_h=spot.usd_per_gpu_h,
                             usd_per_used_gpu_h=spot.usd_per_useful_gpu_h,
                             commitment_years=0.0, source=spot_source))
    return out

"""Break-even between owning and renting: the utilization, and the months to pay back capex.

Owning costs the same every hour whether the GPUs work or not; on-demand cloud is paid
per used GPU-hour. With ``C`` the owned cost per year (capex amortised + opex), ``n``
GPUs, ``H`` hours per year and ``p`` the cloud price per GPU-hour, the owned cost per
*used* GPU-hour at utilization ``u`` is ``C / (n H u)``; it equals ``p`` at

    u* = C / (n H p)                      (break-even utilization)

Above ``u*`` owning is cheaper. A reserved (committed) price is paid used or not, so
against it the comparison does not depend on ``u``: owning wins iff ``u* < 1``.

Payback: buying costs ``K`` up front (the hardware and the building's share for one
refresh cycle) and ``o`` per month to run; renting the same used GPU-hours costs
``r = n H/12 u p`` per month. Owning has paid for itself after ``m* = K / (r - o)`` months
(never when ``r <= o``). At ``u = u*`` the payback is exactly one refresh cycle.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from mlfleet.checks import (
    FloatArray,
    fraction_array,
    non_negative,
    positive,
    positive_array,
    positive_int,
)
from mlfleet.infra.tco.opex import HOURS_PER_YEAR


def breakeven_utilization(*, owned_usd_per_year: float, gpus: int,
                          cloud_usd_per_gpu_h: ArrayLike) -> FloatArray:
    """``u* = C / (n H p)``: the utilization above which owning beats on-demand (may be > 1,
    then owning never wins). Vectorised over cloud prices."""
    positive("owned_usd_per_year", owned_usd_per_year)
    positive_int("gpus", gpus)
    price = positive_array("cloud_usd_per_gpu_h", cloud_usd_per_gpu_h)
    return np.asarray(owned_usd_per_year / (gpus * HOURS_PER_YEAR * price), dtype=np.float64)


def owned_usd_per_used_gpu_h(*, owned_usd_per_year: float, gpus: int,
                             utilization: ArrayLike) -> FloatArray:
    """``C / (n H u)``: what one *used* GPU-hour of the owned cluster costs."""
    positive("owned_usd_per_year", owned_usd_per_year)
    positive_int("gpus", gpus)
    u = fraction_array("utilization", utilization, open_low=True)
    return np.asarray(owned_usd_per_year / (gpus * HOURS_PER_YEAR * u), dtype=np.float64)


def breakeven_months(*, capex_usd: float, owned_opex_usd_per_month: float,
                     cloud_usd_per_month: float) -> float:
    """``K / (r - o)`` months until buying has cost less than renting; inf if never, 0 if
    renting costs without bound (a spot job that never finishes)."""
    non_negative("capex_usd", capex_usd)
    non_negative("owned_opex_usd_per_month", owned_opex_usd_per_month)
    if math.isinf(cloud_usd_per_month) and cloud_usd_per_month > 0:
        return 0.0
    non_negative("cloud_usd_per_month", cloud_usd_per_month)
    saving = cloud_usd_per_month - owned_opex_usd_per_month
    return capex_usd / saving if saving > 0 else math.inf

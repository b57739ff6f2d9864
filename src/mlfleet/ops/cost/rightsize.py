"""Right-sizing: a request far above what a workload uses, and what shrinking it saves.

The recommended request is a high percentile of the observed usage times a headroom,
``p95 x 1.2`` by default (Kubernetes' Vertical Pod Autoscaler recommender uses the same
rule with the 90th percentile and a 15% margin, its ``target-cpu-percentile`` and
``recommendation-margin-fraction`` defaults; we keep more room for GPUs), rounded up to the
resource's step (a whole GPU, or a MIG slice of 1/7). Over a month the saving is
``(request - recommended) x rate x hours``; negative when the workload needs more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mlfleet.checks import FloatArray, non_negative, non_negative_array, positive
from mlfleet.errors import InputError
from mlfleet.units import parse_quantity

HOURS_PER_MONTH = parse_quantity("1month", "h")
"""The units module's month, as every monthly figure of the project."""


@dataclass(frozen=True, kw_only=True)
class Rightsizing:
    """One workload's request, what it needs, and the monthly difference."""

    name: str
    resource: str
    requested: float
    recommended: float
    usage_percentile: float
    """The chosen percentile of the usage samples."""
    saving_usd_per_month: float

    @property
    def action(self) -> str:
        if math.isclose(self.recommended, self.requested):
            return "keep"
        return "shrink" if self.recommended < self.requested else "grow"


def recommended_request(usage: FloatArray, *, percentile: float = 95.0,
                        headroom: float = 1.2, step: float = 0.0) -> float:
    """``percentile(usage) x headroom``, rounded up to a multiple of ``step`` (0: none)."""
    u = non_negative_array("usage", usage)
    if u.size == 0:
        raise InputError("usage has no samples; want at least one")
    if not 0.0 < percentile <= 100.0:
        raise InputError(f"percentile(={percentile!r}) must be in (0, 100]")
    value = float(np.percentile(u, percentile)) * positive("headroom", headroom)
    if non_negative("step", step) > 0:
        value = math.ceil(value / step - 1e-9) * step
    return value


def rightsize(*, name: str, resource: str, requested: float, usage: FloatArray,
              usd_per_unit_h: float, percentile: float = 95.0, headroom: float = 1.2,
              step: float = 0.0, hours_per_month: float = HOURS_PER_MONTH) -> Rightsizing:
    """The recommendation for one workload."""
    non_negative("requested", requested)
    recommended = recommended_request(usage, percentile=percentile, headroom=headroom,
                                      step=step)
    return Rightsizing(name=name, resource=resource, requested=requested,
                       recommended=recommended,
                       usage_percentile=float(np.percentile(usage, percentile)),
                       saving_usd_per_month=(requested - recommended)
                       * non_negative("usd_per_unit_h", usd_per_unit_h)
                       * positive("hours_per_month", hours_per_month))

"""Splitting a shared cost among tenants (OpenCost specification v0.1, "Shared Costs").

Three methods: **uniform** (each tenant an equal part), **proportional** (to each
tenant's own workload cost) and **metric** (to a custom metric such as requests served or
bytes egressed). Every method returns parts that sum to the shared cost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mlfleet.checks import non_negative
from mlfleet.errors import InputError

METHODS = ("uniform", "proportional", "metric")


class SplitError(InputError):
    """A split that cannot be made: unknown method, or a metric no tenant has."""


@dataclass(frozen=True, kw_only=True)
class Split:
    """How shared costs are divided: a method, and for ``metric`` the metric's name."""

    method: str = "proportional"
    metric: str | None = None

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise SplitError(f"split(={self.method!r}) is unknown; known: uniform, "
                             "proportional, metric:COLUMN")
        if (self.method == "metric") != bool(self.metric):
            raise SplitError(f"split(={self.label!r}) must name a metric exactly when it is "
                             "metric:COLUMN")

    @property
    def label(self) -> str:
        return f"metric:{self.metric}" if self.method == "metric" else self.method

    @classmethod
    def parse(cls, text: str) -> Split:
        """``uniform``, ``proportional`` or ``metric:COLUMN``."""
        method, sep, metric = text.strip().partition(":")
        if sep and method != "metric":
            raise SplitError(f"split(={text!r}) is unknown; known: uniform, proportional, "
                             "metric:COLUMN")
        return cls(method=method, metric=metric.strip() or None)


def split_by_weight(cost_usd: float, weights: Mapping[str, float]) -> dict[str, float]:
    """``cost x w_i / sum(w)`` per tenant; all weights 0 (or none): uniform."""
    if not weights:
        raise SplitError("no tenant to split a shared cost among")
    for tenant, w in weights.items():
        non_negative(f"weight of {tenant}", w)
    total = sum(weights.values())
    if total <= 0.0:
        return {t: cost_usd / len(weights) for t in weights}
    return {t: cost_usd * (w / total) for t, w in weights.items()}  # share first: w may be subnormal


def split_shared(cost_usd: float, split: Split, *, workload_usd: Mapping[str, float],
                 metrics: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Each tenant's part of ``cost_usd``. ``workload_usd``: tenant -> its workload cost
    (the tenants); ``metrics``: tenant -> metric name -> its total."""
    non_negative("shared cost_usd", cost_usd)
    if split.method == "uniform":
        return split_by_weight(cost_usd, {t: 1.0 for t in workload_usd})
    if split.method == "proportional":
        return split_by_weight(cost_usd, workload_usd)
    assert split.metric is not None
    if not any(split.metric in metrics.get(t, {}) for t in workload_usd):
        raise SplitError(f"split(={split.label!r}): no allocation has a metric "
                         f"{split.metric!r}")
    weights = {t: metrics.get(t, {}).get(split.metric, 0.0) for t in workload_usd}
    if sum(weights.values()) <= 0.0:
        raise SplitError(f"split(={split.label!r}): metric {split.metric!r} sums to 0; "
                         "want a positive total")
    return split_by_weight(cost_usd, weights)

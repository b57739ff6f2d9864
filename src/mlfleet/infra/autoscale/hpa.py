"""Kubernetes' Horizontal Pod Autoscaler, decision for decision.

Source: kubernetes.io, "Horizontal Pod Autoscaling" (concepts/workloads/autoscaling),
sections "Algorithm details", "Stability of workload scale", "Configurable scaling
behavior" and "Default behavior"; the controller's code (pkg/controller/podautoscaler,
``replica_calculator.go`` and ``horizontal.go``) where the page leaves a detail open.

One call of :meth:`HorizontalPodAutoscaler.step` is one sync of the controller
(every 15 s by default, ``--horizontal-pod-autoscaler-sync-period``):

1. **Replica calculator** (:func:`metric_replicas`): ratio = mean utilisation of the
   ready pods with a metric / target; within ``1 ± tolerance`` (0.1) the count stays;
   else ``ceil(ratio · ready pods)``. Pods with a missing metric count as 100 % of
   the target on a scale-down (the page's rule; the code fills max(100 %, target) of
   the pod's request, which is more for a target below 100 %) and 0 % on a
   scale-up; not-yet-ready pods count as 0 %
   on a scale-up (ignored otherwise); the ratio is then recomputed over all of them,
   and a result inside the tolerance or reversing the direction keeps the count.
2. **Stabilisation**: the recommendation is kept between the lowest recommendation of
   the scale-up window (default 0 s) and the highest of the scale-down window
   (default 300 s), starting from the current count.
3. **Rate limits** (``behavior`` policies): ``Pods`` adds/removes at most ``value``
   pods, ``Percent`` at most ``value`` % of the count at the start of the last
   ``period_s``; ``select_policy`` Max takes the policy allowing the largest change,
   Min the smallest, Disabled none. Then ``min_replicas``/``max_replicas`` clamp.

Modelled: CPU-style utilisation metrics, one metric, pods that are starting
(not ready), ready, or have no metric. Not modelled: several metrics (the largest
recommendation wins), external/object metrics, the CPU-initialisation period's exact
rules (the caller decides which pods are unready), pods being deleted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from mlfleet.checks import fraction, non_negative, one_of, positive, positive_int
from mlfleet.errors import InputError

POLICY_TYPES = ("Pods", "Percent")
SELECT_POLICIES = ("Max", "Min", "Disabled")


@dataclass(frozen=True, kw_only=True)
class ScalingPolicy:
    """One ``behavior`` policy: change by at most ``value`` (pods or %) per ``period_s``."""

    type: str
    """``Pods`` or ``Percent``."""
    value: int
    period_s: float

    def __post_init__(self) -> None:
        one_of("type", self.type, POLICY_TYPES)
        positive_int("value", self.value)
        positive("period_s", self.period_s)


@dataclass(frozen=True, kw_only=True)
class ScalingRules:
    """``behavior.scaleUp`` or ``behavior.scaleDown``."""

    stabilization_window_s: float
    policies: tuple[ScalingPolicy, ...]
    select_policy: str = "Max"

    def __post_init__(self) -> None:
        non_negative("stabilization_window_s", self.stabilization_window_s)
        one_of("select_policy", self.select_policy, SELECT_POLICIES)
        if not self.policies:
            raise InputError("policies(=()) must hold at least one scaling policy")


DEFAULT_SCALE_UP = ScalingRules(
    stabilization_window_s=0.0, select_policy="Max",
    policies=(ScalingPolicy(type="Percent", value=100, period_s=15.0),
              ScalingPolicy(type="Pods", value=4, period_s=15.0)))
"""Docs, "Default behavior": double, or add 4 pods, per 15 s, whichever is more."""
DEFAULT_SCALE_DOWN = ScalingRules(
    stabilization_window_s=300.0, select_policy="Max",
    policies=(ScalingPolicy(type="Percent", value=100, period_s=15.0),))
"""Docs, "Default behavior": a 300 s window, then down to the recommendation at once."""


@dataclass(frozen=True, kw_only=True)
class HpaSpec:
    """An HPA object with one utilisation target (``averageUtilization`` / 100)."""

    target_utilization: float
    """Target mean utilisation of a pod, in (0, 1]."""
    max_replicas: int
    min_replicas: int = 1
    tolerance: float = 0.1
    """No change while the ratio is within 1 ± tolerance (cluster default 0.1)."""
    scale_up: ScalingRules = DEFAULT_SCALE_UP
    scale_down: ScalingRules = DEFAULT_SCALE_DOWN
    sync_period_s: float = 15.0

    def __post_init__(self) -> None:
        fraction("target_utilization", self.target_utilization, open_low=True)
        positive_int("min_replicas", self.min_replicas)
        positive_int("max_replicas", self.max_replicas)
        if self.min_replicas > self.max_replicas:
            raise InputError(f"min_replicas(={self.min_replicas}) must be <= "
                             f"max_replicas(={self.max_replicas})")
        non_negative("tolerance", self.tolerance)
        positive("sync_period_s", self.sync_period_s)


@dataclass(frozen=True, kw_only=True)
class PodMetrics:
    """What the controller sees of the target's pods at one sync."""

    utilizations: tuple[float, ...]
    """Utilisation (fraction of the request) of each ready pod that has a metric."""
    unready: int = 0
    """Pods not yet ready (starting); no usable metric."""
    missing: int = 0
    """Ready pods without a metric."""

    @property
    def pods(self) -> int:
        return len(self.utilizations) + self.unready + self.missing


def metric_replicas(current: int, metrics: PodMetrics, *, target: float,
                    tolerance: float) -> int:
    """The replica calculator: the count the metric asks for (docs, "Algorithm details").

    ``current`` is the target's replica count (the scale subresource). With no metric
    at all the controller cannot compute a ratio and keeps ``current``.
    """
    used = metrics.utilizations
    if not used:
        return current
    ratio = sum(used) / len(used) / target
    scale_up_with_unready = metrics.unready > 0 and ratio > 1.0
    if not scale_up_with_unready and metrics.missing == 0:
        return current if abs(1.0 - ratio) <= tolerance else math.ceil(ratio * len(used))
    filled = list(used)
    if metrics.missing and ratio != 1.0:
        filled += [target if ratio < 1.0 else 0.0] * metrics.missing
    if scale_up_with_unready:
        filled += [0.0] * metrics.unready
    new_ratio = sum(filled) / len(filled) / target
    if abs(1.0 - new_ratio) <= tolerance or (ratio - 1.0) * (new_ratio - 1.0) < 0:
        return current  # too small a change, or the direction reversed
    proposed = math.ceil(new_ratio * len(filled))
    if (new_ratio - 1.0) * (proposed - current) < 0:
        return current
    return proposed


@dataclass
class _Event:
    at_s: float
    change: int


@dataclass
class HorizontalPodAutoscaler:
    """The controller's state for one HPA: past recommendations and scale events."""

    spec: HpaSpec
    recommendations: list[tuple[float, int]] = field(default_factory=list)
    up_events: list[_Event] = field(default_factory=list)
    down_events: list[_Event] = field(default_factory=list)

    def step(self, now_s: float, *, current: int, metrics: PodMetrics) -> int:
        """One sync at ``now_s``: the replica count to set (``current`` if none)."""
        spec = self.spec
        if current > spec.max_replicas:
            desired = spec.max_replicas
        elif current < spec.min_replicas:
            desired = spec.min_replicas
        else:
            wanted = metric_replicas(current, metrics, target=spec.target_utilization,
                                     tolerance=spec.tolerance)
            desired = self._rate_limited(now_s, current, self._stabilized(now_s, current,
                                                                          wanted))
        self._record_event(now_s, desired - current)
        return desired

    def _stabilized(self, now_s: float, current: int, wanted: int) -> int:
        """Docs, "Stabilization window": the highest recommendation of the scale-down
        window caps a scale-down, the lowest of the scale-up window a scale-up."""
        up_cut = now_s - self.spec.scale_up.stabilization_window_s
        down_cut = now_s - self.spec.scale_down.stabilization_window_s
        up = min([wanted, *(r for t, r in self.recommendations if t > up_cut)])
        down = max([wanted, *(r for t, r in self.recommendations if t > down_cut)])
        keep_s = max(self.spec.scale_up.stabilization_window_s,
                     self.spec.scale_down.stabilization_window_s)
        self.recommendations = [(t, r) for t, r in self.recommendations if t > now_s - keep_s]
        self.recommendations.append((now_s, wanted))
        return min(max(current, up), down)

    def _rate_limited(self, now_s: float, current: int, desired: int) -> int:
        spec = self.spec
        if desired > current:
            limit = max(current, self._limit(now_s, current, spec.scale_up, up=True))
            return min(desired, spec.max_replicas, limit)
        if desired < current:
            limit = min(current, self._limit(now_s, current, spec.scale_down, up=False))
            return max(desired, spec.min_replicas, limit)
        return desired

    def _limit(self, now_s: float, current: int, rules: ScalingRules, *, up: bool) -> int:
        """The furthest count the ``behavior`` policies allow (docs, "Scaling policies")."""
        if rules.select_policy == "Disabled":
            return current
        proposals = []
        for policy in rules.policies:
            added = _changed(self.up_events, now_s, policy.period_s)
            removed = _changed(self.down_events, now_s, policy.period_s)
            start = current - added + removed  # the count at the start of the period
            if policy.type == "Pods":
                proposals.append(start + policy.value if up else start - policy.value)
            elif up:  # a percentage rounds towards more change
                proposals.append(math.ceil(start * (1 + policy.value / 100)))
            else:
                proposals.append(int(start * (1 - policy.value / 100)))
        most = max if up else min  # the largest change
        return (most if rules.select_policy == "Max" else (min if up else max))(proposals)

    def _record_event(self, now_s: float, change: int) -> None:
        keep_s = max(p.period_s for p in (*self.spec.scale_up.policies,
                                          *self.spec.scale_down.policies))
        self.up_events = [e for e in self.up_events if e.at_s > now_s - keep_s]
        self.down_events = [e for e in self.down_events if e.at_s > now_s - keep_s]
        if change > 0:
            self.up_events.append(_Event(at_s=now_s, change=change))
        elif change < 0:
            self.down_events.append(_Event(at_s=now_s, change=-change))


def _changed(events: list[_Event], now_s: float, period_s: float) -> int:
    """Pods added (or removed) by the events of the last ``period_s``."""
    return sum(e.change for e in events if e.at_s > now_s - period_s)

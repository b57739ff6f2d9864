"""The HPA against Kubernetes' documented decisions, worked by hand.

Source: kubernetes.io "Horizontal Pod Autoscaling" (concepts/workloads/autoscaling):
"Algorithm details", "Stability of workload scale", "Configurable scaling behavior",
"Default behavior". Utilisations are exact binary fractions so that the tolerance
comparisons below are not decided by rounding.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlfleet.errors import InputError
from mlfleet.infra.autoscale.hpa import (
    HorizontalPodAutoscaler,
    HpaSpec,
    PodMetrics,
    ScalingPolicy,
    ScalingRules,
    metric_replicas,
)


def _metrics(*utils: float, unready: int = 0, missing: int = 0) -> PodMetrics:
    return PodMetrics(utilizations=tuple(utils), unready=unready, missing=missing)


def _hpa(**overrides: object) -> HorizontalPodAutoscaler:
    fields: dict[str, object] = {"target_utilization": 0.5, "max_replicas": 100}
    fields.update(overrides)
    return HorizontalPodAutoscaler(HpaSpec(**fields))  # type: ignore[arg-type]


def test_formula_doubles_and_halves_as_in_the_docs_example() -> None:
    """"Algorithm details": metric 200m against 100m doubles the replicas, 50m halves
    them. 4 pods at 1.0 with target 0.5: ratio 2, ceil(2 · 4) = 8; at 0.25: ceil(0.5 · 4) = 2."""
    assert metric_replicas(4, _metrics(1.0, 1.0, 1.0, 1.0), target=0.5, tolerance=0.1) == 8
    assert metric_replicas(4, _metrics(0.25, 0.25, 0.25, 0.25), target=0.5, tolerance=0.1) == 2


def test_formula_rounds_up() -> None:
    """desiredReplicas = ceil[currentReplicas · current / desired]: 3 pods at mean 0.75,
    target 0.5: ratio 1.5, 1.5 · 3 = 4.5 -> 5."""
    assert metric_replicas(3, _metrics(1.0, 0.75, 0.5), target=0.5, tolerance=0.1) == 5


def test_tolerance_keeps_the_count_within_ten_per_cent() -> None:
    """"Algorithm details": a ratio within 1 ± 0.1 skips scaling. Ratio 1.0625 (0.53125 /
    0.5) and 0.9375 keep 4 pods; 1.125 scales to ceil(4.5) = 5; 0.875 to ceil(3.5) = 4,
    i.e. stays, and 0.75 to 3."""
    def at(u: float) -> int:
        return metric_replicas(4, _metrics(u, u, u, u), target=0.5, tolerance=0.1)

    assert at(0.53125) == 4 and at(0.46875) == 4
    assert at(0.5625) == 5
    assert at(0.4375) == 4 and at(0.375) == 3


def test_missing_metrics_count_as_the_target_on_a_scale_down() -> None:
    """Missing metrics on a scale-down count as 100 % of the desired value: 2 pods at
    0.25 and 2 without metric, target 0.5: (0.25 + 0.25 + 0.5 + 0.5) / 4 = 0.375,
    ratio 0.75, ceil(0.75 · 4) = 3 (not ceil(0.5 · 2) = 1 from the two reporting)."""
    assert metric_replicas(4, _metrics(0.25, 0.25, missing=2), target=0.5, tolerance=0.1) == 3


def test_missing_metrics_count_as_zero_on_a_scale_up() -> None:
    """On a scale-up missing pods count as 0 %: 2 pods at 1.0 (ratio 2) and 2 missing give
    a mean of 0.5, ratio 1.0, within tolerance: the count stays at 4."""
    assert metric_replicas(4, _metrics(1.0, 1.0, missing=2), target=0.5, tolerance=0.1) == 4


def test_unready_pods_count_as_zero_on_a_scale_up() -> None:
    """Not-yet-ready pods count as 0 % when scaling up: 3 ready at 1.0 (ratio 2.0) and 3
    starting: mean 0.5, ratio 1.0: stay at 6 (not ceil(2 · 3) = 6 + 3 starting = 9).
    2 ready at 0.8 (ratio 1.6) and 2 starting: ratio 0.8 reverses the direction: stay."""
    assert metric_replicas(6, _metrics(1.0, 1.0, 1.0, unready=3), target=0.5,
                           tolerance=0.1) == 6
    assert metric_replicas(4, _metrics(0.8, 0.8, unready=2), target=0.5, tolerance=0.1) == 4


def test_unready_pods_are_ignored_on_a_scale_down() -> None:
    """Scaling down, unready pods are set aside: 2 ready at 0.125 (ratio 0.25), 2
    starting: ceil(0.25 · 2) = 1."""
    assert metric_replicas(4, _metrics(0.125, 0.125, unready=2), target=0.5,
                           tolerance=0.1) == 1


def test_no_metric_at_all_keeps_the_count() -> None:
    assert metric_replicas(3, _metrics(unready=3), target=0.5, tolerance=0.1) == 3


def test_scale_down_waits_for_the_highest_recommendation_of_300_s() -> None:
    """"Stabilization window" (default 300 s for scale-down): 10 pods at the target at
    t = 0 recommend 10; from t = 15 every sync recommends 5. Until t = 285 the window
    (t - 300, t] still holds t = 0's 10: stay at 10. At t = 300 it no longer does: 5."""
    hpa = _hpa()
    assert hpa.step(0.0, current=10, metrics=_metrics(*[0.5] * 10)) == 10
    low = _metrics(*[0.25] * 10)
    for t in range(15, 300, 15):
        assert hpa.step(float(t), current=10, metrics=low) == 10, t
    assert hpa.step(300.0, current=10, metrics=low) == 5


def test_scale_up_is_not_stabilised_by_default() -> None:
    """Scale-up window 0: a recommendation of 8 at t = 15 applies at once."""
    hpa = _hpa()
    hpa.step(0.0, current=4, metrics=_metrics(*[0.5] * 4))
    assert hpa.step(15.0, current=4, metrics=_metrics(*[1.0] * 4)) == 8


def test_scale_up_window_takes_the_lowest_recommendation() -> None:
    """A 60 s scale-up window: recommendations 4 (t = 0) then 8 (t = 15): the lowest in
    (t - 60, t] is 4 until t = 45: stay. At t = 60 the window (0, 60] holds only 8s: 8."""
    up = ScalingRules(stabilization_window_s=60.0,
                      policies=(ScalingPolicy(type="Percent", value=100, period_s=15.0),))
    hpa = _hpa(scale_up=up)
    hpa.step(0.0, current=4, metrics=_metrics(*[0.5] * 4))
    high = _metrics(*[1.0] * 4)
    assert [hpa.step(float(t), current=4, metrics=high) for t in (15, 30, 45)] == [4] * 3
    assert hpa.step(60.0, current=4, metrics=high) == 8


def test_default_scale_up_rate_is_double_or_four_pods_per_15_s() -> None:
    """Default scale-up: Percent 100 and Pods 4 per 15 s, Max. From 1 pod wanting 10:
    max(ceil(1 · 2), 1 + 4) = 5; 15 s later the event has left the period, from 5:
    max(10, 9) = 10."""
    hpa = _hpa()
    assert hpa.step(0.0, current=1, metrics=_metrics(5.0)) == 5
    assert hpa.step(15.0, current=5, metrics=_metrics(*[1.0] * 5)) == 10


def _docs_scale_down(select: str) -> HorizontalPodAutoscaler:
    """"Scaling policies" example: Pods 4 and Percent 10 per 60 s (no window)."""
    down = ScalingRules(stabilization_window_s=0.0, select_policy=select, policies=(
        ScalingPolicy(type="Pods", value=4, period_s=60.0),
        ScalingPolicy(type="Percent", value=10, period_s=60.0)))
    return _hpa(scale_down=down)


def test_scale_down_policies_as_in_the_docs_example() -> None:
    """80 pods going to 10: Max picks the larger change, 10 % of 80 = 8 -> 72. Within
    the same 60 s the period started at 80, so 72 stays; after it, 10 % of 72 = 7.2 is
    rounded up to 8 (int(72 · 0.9) = 64) -> 64."""
    hpa = _docs_scale_down("Max")
    low = _metrics(*[0.0625] * 80)  # ratio 0.125: 10 pods
    assert hpa.step(0.0, current=80, metrics=low) == 72
    assert hpa.step(15.0, current=72, metrics=_metrics(*[0.0625] * 72)) == 72
    assert hpa.step(60.0, current=72, metrics=_metrics(*[0.0625] * 72)) == 64


def test_select_policy_min_takes_the_smaller_change() -> None:
    """selectPolicy Min: min(4, 8) = 4 pods: 80 -> 76."""
    hpa = _docs_scale_down("Min")
    assert hpa.step(0.0, current=80, metrics=_metrics(*[0.0625] * 80)) == 76


def test_disabled_scale_down_never_removes() -> None:
    down = ScalingRules(stabilization_window_s=0.0, select_policy="Disabled",
                        policies=(ScalingPolicy(type="Pods", value=1, period_s=15.0),))
    assert _hpa(scale_down=down).step(0.0, current=6, metrics=_metrics(*[0.0] * 6)) == 6


def test_min_and_max_replicas_clamp() -> None:
    """Wanting ceil(4 · 4) = 16 with max 8 gives 8; wanting 1 with min 3 gives 3; a count
    above max is brought down to max without reading the metric."""
    assert _hpa(max_replicas=8).step(0.0, current=4, metrics=_metrics(*[2.0] * 4)) == 8
    down = ScalingRules(stabilization_window_s=0.0,
                        policies=(ScalingPolicy(type="Percent", value=100, period_s=15.0),))
    hpa = _hpa(min_replicas=3, scale_down=down)
    assert hpa.step(0.0, current=6, metrics=_metrics(*[0.0625] * 6)) == 3
    assert _hpa(max_replicas=5).step(0.0, current=9, metrics=_metrics(*[0.5] * 9)) == 5


@pytest.mark.parametrize("overrides", [
    {"target_utilization": 0.0}, {"target_utilization": 1.5}, {"target_utilization": -0.2},
    {"min_replicas": 5, "max_replicas": 4}, {"tolerance": -0.1}, {"max_replicas": 0},
])
def test_bad_specs_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(InputError):
        _hpa(**overrides)


@given(current=st.integers(1, 50), utils=st.lists(st.floats(0.0, 4.0), min_size=1,
                                                  max_size=50),
       min_r=st.integers(1, 10), span=st.integers(0, 40))
def test_every_decision_stays_within_min_and_max(current: int, utils: list[float],
                                                 min_r: int, span: int) -> None:
    hpa = _hpa(min_replicas=min_r, max_replicas=min_r + span)
    desired = hpa.step(0.0, current=current, metrics=_metrics(*utils))
    assert min_r <= desired <= min_r + span

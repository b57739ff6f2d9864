"""How a canary should be run for a service's traffic: stages, intervals, time to a verdict.

The judge needs enough canary requests per interval for a stable per-interval metric, and
enough intervals for Mann-Whitney to detect the shift worth catching. Intervals: Noether's
sample size for the Wilcoxon-Mann-Whitney test (Noether, JASA 1987), equal groups,

    n per group = (z_{1-a/2} + z_{1-b})^2 / (6 (p - 1/2)^2),   p = P(canary > baseline),

with a normal per-interval metric of coefficient of variation ``interval_cv`` and a
relative shift ``shift``: p = Phi(d / sqrt 2), d = shift·(1 - tolerance) / interval_cv,
and z_{1-b} scaled by (1 - tolerance) too. Kayenta's rule asks the interval's lower end
``est - z_{1-a/2}·se`` to clear ``tolerance·est``, i.e. ``est·(1 - tolerance) >
z_{1-a/2}·se``; with ``est ~ N(shift, se)`` the power is
``Phi(shift/se - z_{1-a/2}/(1 - tolerance))``, which is Noether's form with both scalings.
Validated by simulating the classifier at the planned n (tests/ops/canary/test_canary_policy.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

from mlfleet.checks import fraction, positive, positive_int
from mlfleet.ops.canary.classifier import CONFIDENCE, TOLERANCE
from mlfleet.ops.canary.errors import CanaryInputError

STAGES = (0.01, 0.05, 0.25, 0.5, 1.0)


@dataclass(frozen=True, kw_only=True)
class CanaryPolicy:
    """The planned canary."""

    stages: tuple[float, ...]
    """Traffic shares from ``canary_share`` up, ending at 1.0."""
    interval_s: float
    """Metric interval (lengthened from the asked one if too few canary requests)."""
    canary_requests_per_interval: float
    """At the first stage."""
    intervals_per_judgement: int
    """Intervals per group for the stated power (at least 3)."""
    time_to_first_judgement_s: float
    time_to_full_rollout_s: float
    """Every stage judged once and passed."""


def intervals_for_power(*, shift: float, interval_cv: float, power: float = 0.8,
                        confidence: float = CONFIDENCE, tolerance: float = TOLERANCE) -> int:
    """Intervals per group for Mann-Whitney to flag a relative ``shift`` with ``power``."""
    d = shift * (1 - tolerance) / interval_cv
    p = float(stats.norm.cdf(d / math.sqrt(2)))
    z = float(stats.norm.ppf(1 - (1 - confidence) / 2)
              + stats.norm.ppf(power) * (1 - tolerance))
    return max(3, math.ceil(z * z / (6 * (p - 0.5) ** 2)))


def canary_policy(*, qps: float, canary_share: float = 0.05, interval_s: float = 60.0,
                  min_samples_per_interval: int = 50, shift: float = 0.1,
                  interval_cv: float = 0.1, power: float = 0.8) -> CanaryPolicy:
    """The canary policy for a service at ``qps``.

    Raises:
        CanaryInputError: an argument out of range.
    """
    err = CanaryInputError
    positive("qps", qps, error=err)
    fraction("canary_share", canary_share, open_low=True, open_high=True, error=err)
    positive("interval_s", interval_s, error=err)
    positive_int("min_samples_per_interval", min_samples_per_interval, error=err)
    positive("shift", shift, error=err)
    positive("interval_cv", interval_cv, error=err)
    fraction("power", power, open_low=True, open_high=True, error=err)
    interval = max(interval_s, min_samples_per_interval / (qps * canary_share))
    n = intervals_for_power(shift=shift, interval_cv=interval_cv, power=power)
    stages = (canary_share, *(s for s in STAGES if s > canary_share))
    window = n * interval
    return CanaryPolicy(stages=stages, interval_s=interval,
                        canary_requests_per_interval=qps * canary_share * interval,
                        intervals_per_judgement=n, time_to_first_judgement_s=window,
                        time_to_full_rollout_s=window * (len(stages) - 1))

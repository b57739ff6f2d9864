"""What the judge is told: each metric's analysis settings, group weights, score thresholds.

The fields follow Kayenta's canary configuration (``analysisConfigurations.canary``:
``direction``, ``nanStrategy``, ``critical``, ``mustHaveData``, ``effectSize``;
``classifier.groupWeights``; ``scoreThresholds.pass/marginal``); ``shape_test``,
``rate_test`` and ``exposure`` are ours (:mod:`mlfleet.ops.canary.blind_spots`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from mlfleet.checks import fraction, one_of, positive
from mlfleet.ops.canary.classifier import CONFIDENCE, DIRECTIONS, TOLERANCE
from mlfleet.ops.canary.errors import CanaryInputError
from mlfleet.ops.canary.preprocess import NAN_STRATEGIES

CRITICALITIES = ("normal", "critical", "report-only")
SHAPE_TESTS = ("none", "ks", "spread", "ks+spread")
RATE_TESTS = ("none", "poisson")


@dataclass(frozen=True, kw_only=True)
class MetricSpec:
    """How one metric is judged."""

    name: str
    direction: str = "either"
    """Which change fails the canary: ``increase``, ``decrease`` or ``either``."""
    group: str = "default"
    """The score group it counts in."""
    criticality: str = "normal"
    """``critical``: any classification but Pass fails the whole canary; ``report-only``:
    classified but not scored."""
    must_have_data: bool = False
    """No data for this metric counts as a failing metric (``NodataFailure``)."""
    nan_strategy: str = "remove"
    """``remove`` NaNs, or ``replace`` them with 0."""
    outliers: bool = True
    """Remove IQR outliers (factor 3) before classifying."""
    allowed_increase: float = 1.0
    """Effect size: High needs mean(canary)/mean(baseline) above this."""
    allowed_decrease: float = 1.0
    """Effect size: Low needs the ratio below this."""
    shape_test: str = "none"
    """``ks`` (shape, e.g. bimodal), ``spread`` (variance) or ``ks+spread``: also fail on
    a change Mann-Whitney cannot see."""
    rate_test: str = "none"
    """``poisson``: the values are event counts; also test their rate."""
    exposure: str | None = None
    """For ``rate_test``: the metric holding each interval's exposure (e.g. requests)."""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise CanaryInputError(f"metric name(={self.name!r}) must be a non-empty string")
        err = CanaryInputError
        one_of(f"{self.name}.direction", self.direction, DIRECTIONS, error=err)
        one_of(f"{self.name}.criticality", self.criticality, CRITICALITIES, error=err)
        one_of(f"{self.name}.nan_strategy", self.nan_strategy, NAN_STRATEGIES, error=err)
        one_of(f"{self.name}.shape_test", self.shape_test, SHAPE_TESTS, error=err)
        one_of(f"{self.name}.rate_test", self.rate_test, RATE_TESTS, error=err)
        positive(f"{self.name}.allowed_increase", self.allowed_increase, error=err)
        positive(f"{self.name}.allowed_decrease", self.allowed_decrease, error=err)
        for flag in ("must_have_data", "outliers"):
            if not isinstance(getattr(self, flag), bool):
                raise err(f"{self.name}.{flag}(={getattr(self, flag)!r}) must be true or false")
        if self.exposure is not None and (not isinstance(self.exposure, str) or not self.exposure):
            raise err(f"{self.name}.exposure(={self.exposure!r}) must name a metric")
        if not isinstance(self.group, str) or not self.group:
            raise err(f"{self.name}.group(={self.group!r}) must be a non-empty string")


@dataclass(frozen=True, kw_only=True)
class JudgeConfig:
    """The whole judge: metrics, group weights (percent), score thresholds (0-100)."""

    metrics: tuple[MetricSpec, ...]
    group_weights: Mapping[str, float] = field(default_factory=dict)
    """Percent per group; groups left out share what is left of 100 equally."""
    pass_threshold: float = 95.0
    marginal_threshold: float = 75.0
    tolerance: float = TOLERANCE
    confidence: float = CONFIDENCE
    alpha: float = 0.01
    """Significance of the added shape and rate tests."""

    def __post_init__(self) -> None:
        err = CanaryInputError
        if not self.metrics:
            raise err("metrics(=[]) must name at least one metric")
        names = [m.name for m in self.metrics]
        if len(set(names)) != len(names):
            raise err(f"metrics(={names}) must have distinct names")
        for m in self.metrics:
            if m.exposure is not None and m.rate_test == "none":
                raise err(f"{m.name}.exposure(={m.exposure!r}) needs rate_test: poisson")
        for name, value in (("pass", self.pass_threshold), ("marginal", self.marginal_threshold)):
            if not (isinstance(value, int | float) and 0 <= value <= 100):
                raise err(f"thresholds.{name}(={value!r}) must be a number in [0, 100]")
        if self.marginal_threshold > self.pass_threshold:
            raise err(f"thresholds.marginal(={self.marginal_threshold:g}) must be <= "
                      f"thresholds.pass(={self.pass_threshold:g})")
        fraction("tolerance", self.tolerance, error=err)
        fraction("confidence", self.confidence, open_low=True, open_high=True, error=err)
        fraction("alpha", self.alpha, open_low=True, open_high=True, error=err)
        self._check_weights()

    def _check_weights(self) -> None:
        groups = {m.group for m in self.metrics}
        unknown = sorted(set(self.group_weights) - groups)
        if unknown:
            raise CanaryInputError(f"group_weights names group {unknown[0]!r} no metric is in; "
                                   f"groups: {', '.join(sorted(groups))}")
        for group, weight in self.group_weights.items():
            if not (isinstance(weight, int | float) and math.isfinite(weight) and weight >= 0):
                raise CanaryInputError(f"group_weights.{group}(={weight!r}) must be a number >= 0")
        total = float(sum(self.group_weights.values()))
        covered = groups <= set(self.group_weights)
        if self.group_weights and ((covered and abs(total - 100) > 1e-6) or total > 100 + 1e-6):
            raise CanaryInputError(f"group_weights sum(={total:g}) must be 100 (percent) when "
                                   "every group has a weight, at most 100 otherwise")

    def kayenta_only(self) -> JudgeConfig:
        """The same config with the added tests off: Kayenta's judge alone."""
        plain = tuple(replace(m, shape_test="none", rate_test="none", exposure=None)
                      for m in self.metrics)
        return replace(self, metrics=plain)

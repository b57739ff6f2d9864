"""The canary judge: classify every metric, score the groups, decide.

Follows Netflix's ACA judge in Kayenta (``NetflixACAJudge.classifyMetric`` and
``judge``; Graff et al., "Automated Canary Analysis at Netflix with Kayenta", Netflix
Technology Blog, 2018): per metric, NaN handling and IQR outlier removal
(:mod:`.preprocess`), the Mann-Whitney classifier (:mod:`.classifier`), then the
weighted score and its thresholds (:mod:`.scoring`). Where a metric opts in, a
``Pass`` from Mann-Whitney is re-examined by the shape or rate test of
:mod:`.blind_spots`; their failing label replaces it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.ops.canary.blind_spots import rate_test, shape_test, spread_test
from mlfleet.ops.canary.classifier import Classification, classify
from mlfleet.ops.canary.errors import CanaryInputError
from mlfleet.ops.canary.judge_config import JudgeConfig, MetricSpec
from mlfleet.ops.canary.preprocess import preprocess
from mlfleet.ops.canary.scoring import MetricOutcome, Score, score

FloatArray = npt.NDArray[np.float64]
Series = Mapping[str, FloatArray]
"""Metric name -> its per-interval values for one group."""


@dataclass(frozen=True, kw_only=True)
class MetricResult:
    """One metric's classification with the test that decided it."""

    name: str
    group: str
    criticality: str
    label: str
    reason: str
    test: str
    """``mann-whitney``, ``ks``, ``poisson`` or ``none`` (no data)."""
    ratio: float
    """mean(canary) / mean(baseline) after pre-processing (nan: undefined)."""
    canary_n: int
    baseline_n: int


@dataclass(frozen=True, kw_only=True)
class JudgeResult:
    """The verdict: the decision, the score, and every metric's classification."""

    decision: str
    """``pass``, ``marginal``, ``fail`` or ``nodata``."""
    score: float
    group_scores: dict[str, float | None]
    critical_failure: bool
    metrics: tuple[MetricResult, ...]


def _column(series: Series, name: str, who: str) -> FloatArray:
    if name not in series:
        raise CanaryInputError(f"metric {name!r} is not in the {who} data; it has: "
                               f"{', '.join(sorted(series)) or 'nothing'}")
    return np.asarray(series[name], dtype=float)


def _added_test(spec: MetricSpec, control: FloatArray, experiment: FloatArray,
                baseline: Series, canary: Series, alpha: float) -> tuple[Classification | None, str]:
    tests = [] if spec.shape_test == "none" else spec.shape_test.split("+")
    for name in tests:
        test = shape_test if name == "ks" else spread_test
        found = test(control, experiment, direction=spec.direction, alpha=alpha / len(tests),
                     allowed_increase=spec.allowed_increase,
                     allowed_decrease=spec.allowed_decrease)
        if found is not None:
            return found, name
    if spec.rate_test == "poisson":
        exp_b = _column(baseline, spec.exposure, "baseline") if spec.exposure else None
        exp_c = _column(canary, spec.exposure, "canary") if spec.exposure else None
        found = rate_test(_column(baseline, spec.name, "baseline"),
                          _column(canary, spec.name, "canary"), direction=spec.direction,
                          control_exposure=exp_b, experiment_exposure=exp_c, alpha=alpha,
                          allowed_increase=spec.allowed_increase,
                          allowed_decrease=spec.allowed_decrease)
        if found is not None:
            return found, "poisson"
    return None, ""


def classify_metric(spec: MetricSpec, baseline: Series, canary: Series, *,
                    config: JudgeConfig) -> MetricResult:
    """Pre-process one metric of both groups and classify it."""
    control = preprocess(_column(baseline, spec.name, "baseline"),
                         nan_strategy=spec.nan_strategy, outliers=spec.outliers)
    experiment = preprocess(_column(canary, spec.name, "canary"),
                            nan_strategy=spec.nan_strategy, outliers=spec.outliers)
    found = classify(control, experiment, direction=spec.direction, tolerance=config.tolerance,
                     confidence=config.confidence, allowed_increase=spec.allowed_increase,
                     allowed_decrease=spec.allowed_decrease)
    test = "mann-whitney" if found.label != "Nodata" else "none"
    if found.label == "Nodata" and spec.must_have_data:
        found = Classification(label="NodataFailure", reason=found.reason, ratio=found.ratio)
    elif found.label == "Pass":
        added, name = _added_test(spec, control, experiment, baseline, canary, config.alpha)
        if added is not None:
            found, test = Classification(label=added.label, reason=added.reason,
                                         ratio=found.ratio), name
    return MetricResult(name=spec.name, group=spec.group, criticality=spec.criticality,
                        label=found.label, reason=found.reason, test=test, ratio=found.ratio,
                        canary_n=int(experiment.size), baseline_n=int(control.size))


def judge(config: JudgeConfig, *, baseline: Series, canary: Series) -> JudgeResult:
    """Classify every configured metric of ``canary`` against ``baseline`` and decide.

    Raises:
        CanaryInputError: a configured metric (or exposure) is missing from the data.
    """
    for spec in config.metrics:
        for name in (spec.name, spec.exposure):
            for series, who in ((baseline, "baseline"), (canary, "canary")):
                if name is not None:
                    _column(series, name, who)
    results = tuple(classify_metric(m, baseline, canary, config=config) for m in config.metrics)
    outcomes = [MetricOutcome(name=r.name, group=r.group, label=r.label,
                              criticality=r.criticality) for r in results]
    verdict: Score = score(outcomes, weights=config.group_weights,
                           pass_threshold=config.pass_threshold,
                           marginal_threshold=config.marginal_threshold)
    return JudgeResult(decision=verdict.decision, score=verdict.score,
                       group_scores=verdict.group_scores,
                       critical_failure=verdict.critical_failure, metrics=results)

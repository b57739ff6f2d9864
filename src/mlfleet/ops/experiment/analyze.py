"""The analysis of one experiment's metric file: SRM, and each treatment against control.

For each treatment arm: Welch's test of the difference in means (on the CUPED-adjusted
metric with ``cuped``), the relative lift with its delta-method interval, optionally a
percentile-bootstrap interval, and the p-values adjusted across the treatment arms by
the chosen multiple-testing correction. A file with an ``arm_b`` column also gets the
A×B interaction test. Every boundary is a frozen dataclass.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from mlfleet.checks import fraction, positive_int
from mlfleet.ops.experiment.bootstrap import BootstrapInterval, bootstrap_diff
from mlfleet.ops.experiment.cuped import CupedFit, cuped_adjust
from mlfleet.ops.experiment.errors import ExperimentInputError
from mlfleet.ops.experiment.interactions import Interaction, interaction_test
from mlfleet.ops.experiment.lift import Lift, relative_lift
from mlfleet.ops.experiment.metric_file import FloatArray, IntArray, MetricData, require_arms
from mlfleet.ops.experiment.multiple_testing import adjust
from mlfleet.ops.experiment.srm import SrmResult, srm_test
from mlfleet.ops.experiment.welch import ArmSummary, WelchResult, summarize, welch_test


@dataclass(frozen=True, kw_only=True)
class AnalysisOptions:
    """How to analyse: which arm is control, the split's weights, the tests."""

    control: str | None = None
    """Control arm (default: the arm named ``control``, else the file's first arm)."""
    weights: Mapping[str, float] | None = None
    """Intended split as fractions (default: equal); SRM tests against it."""
    alpha: float = 0.05
    """Significance level of every test and interval."""
    correction: str = "holm"
    """Multiple-testing correction across treatment arms: none, bonferroni, holm, bh."""
    cuped: bool = False
    """Adjust the metric by the ``pre_value`` covariate (CUPED)."""
    bootstrap: int = 0
    """Bootstrap resamples per comparison (0: no bootstrap)."""
    seed: int = 0
    """Seed of the bootstrap's generator."""


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """One treatment arm against control."""

    arm: str
    """The treatment arm."""
    welch: WelchResult
    """Welch's test of treatment − control."""
    lift: Lift | None
    """Relative lift (None when the control mean is 0)."""
    p_adjusted: float
    """The p-value after the correction across treatment arms."""
    significant: bool
    """p_adjusted ≤ alpha."""
    bootstrap: BootstrapInterval | None
    """Percentile-bootstrap interval of the difference (None without ``bootstrap``)."""


@dataclass(frozen=True, kw_only=True)
class Analysis:
    """The whole analysis of a metric file."""

    path: str
    """The metric file."""
    control: str
    """The control arm."""
    arms: tuple[str, ...]
    """All arms, control first."""
    summaries: tuple[ArmSummary, ...]
    """Per arm (same order), n, mean and variance of the analysed metric."""
    srm: SrmResult
    """Sample-ratio-mismatch test against the weights."""
    comparisons: tuple[Comparison, ...]
    """Each treatment arm against control."""
    options: AnalysisOptions
    """The options used."""
    cuped: CupedFit | None
    """The CUPED fit (None without ``cuped``)."""
    interaction: Interaction | None
    """The A×B interaction test (None without an ``arm_b`` column)."""


def _control(data: MetricData, options: AnalysisOptions) -> str:
    if options.control is not None:
        require_arms(data, [options.control])
        return options.control
    return "control" if "control" in data.arms else data.arms[0]


def _weights(data: MetricData, arms: tuple[str, ...], options: AnalysisOptions) -> list[float]:
    if options.weights is None:
        return [1.0] * len(arms)
    require_arms(data, list(options.weights))
    extra = [a for a in arms if a not in options.weights]
    if extra:
        raise ExperimentInputError(f"arm {extra[0]!r} is in {data.path} but not in the weights "
                                   f"({', '.join(options.weights)})")
    return [options.weights[a] for a in arms]


def _metric(data: MetricData, options: AnalysisOptions) -> tuple[FloatArray, CupedFit | None]:
    if not options.cuped:
        return data.value, None
    if data.pre_value is None:
        raise ExperimentInputError(f"CUPED needs a pre_value column; {data.path} has none")
    return cuped_adjust(data.value, data.pre_value, data.arm_index)


def _interaction(data: MetricData, values: FloatArray, control: int) -> Interaction | None:
    if data.arms_b is None or data.arm_b_index is None:
        return None
    if len(data.arms) != 2 or len(data.arms_b) != 2:
        raise ExperimentInputError(f"the interaction test needs 2 arms in each experiment; "
                                   f"{data.path} has arm: {', '.join(data.arms)} and arm_b: "
                                   f"{', '.join(data.arms_b)} (drop arm_b to analyse "
                                   "without it)")
    b_control = data.arms_b.index("control") if "control" in data.arms_b else 0
    arm_a: IntArray = (data.arm_index != control).astype(np.int64)
    arm_b: IntArray = (data.arm_b_index != b_control).astype(np.int64)
    return interaction_test(values, arm_a, arm_b)


def _check(options: AnalysisOptions) -> None:
    fraction("alpha", options.alpha, open_low=True, open_high=True, error=ExperimentInputError)
    positive_int("bootstrap", options.bootstrap, minimum=0, error=ExperimentInputError)
    positive_int("seed", options.seed, minimum=0, error=ExperimentInputError)


def analyze(data: MetricData, options: AnalysisOptions, *,
            progress: Callable[[int, int], None] | None = None) -> Analysis:
    """Analyse ``data``; raises :class:`ExperimentInputError` for inconsistent options/data."""
    _check(options)
    control = _control(data, options)
    arms = (control, *(a for a in data.arms if a != control))
    srm = srm_test([int(np.sum(data.arm_index == data.arms.index(a))) for a in arms],
                   _weights(data, arms, options))
    values, fit = _metric(data, options)
    per_arm = {a: values[data.arm_index == data.arms.index(a)] for a in arms}
    summaries = tuple(summarize(per_arm[a], arm=a) for a in arms)
    welch = [welch_test(summaries[0], s, alpha=options.alpha) for s in summaries[1:]]
    for arm, w in zip(arms[1:], welch, strict=True):
        if w.se == 0:
            raise ExperimentInputError(f"value is constant in arms {control!r} and {arm!r}; a "
                                       "t-test needs a metric that varies")
    adjusted = adjust([w.p_value for w in welch], method=options.correction)
    rng = np.random.default_rng(options.seed)
    comparisons = tuple(
        Comparison(arm=arm, welch=w, lift=_lift(summaries[0], s, options.alpha),
                   p_adjusted=float(p), significant=bool(p <= options.alpha),
                   bootstrap=_bootstrap(per_arm[control], per_arm[arm], options, rng, progress))
        for arm, s, w, p in zip(arms[1:], summaries[1:], welch, adjusted, strict=True))
    return Analysis(path=data.path, control=control, arms=arms, summaries=summaries, srm=srm,
                    comparisons=comparisons, options=options, cuped=fit,
                    interaction=_interaction(data, values, data.arms.index(control)))


def _lift(control: ArmSummary, treatment: ArmSummary, alpha: float) -> Lift | None:
    return None if control.mean == 0 else relative_lift(control, treatment, alpha=alpha)


def _bootstrap(control: FloatArray, treatment: FloatArray, options: AnalysisOptions,
               rng: np.random.Generator,
               progress: Callable[[int, int], None] | None) -> BootstrapInterval | None:
    if options.bootstrap == 0:
        return None
    return bootstrap_diff(control, treatment, resamples=options.bootstrap, rng=rng,
                          alpha=options.alpha, progress=progress)

"""The canary score: weighted share of passing metrics per group, then thresholds.

Kayenta's ``WeightedSumScorer``: a group's score is 100 · (Pass) / (Pass + failing),
where failing is every label but ``Nodata`` (``NodataFailure`` fails; ``Nodata`` is left
out; ``report-only`` metrics are not scored); a group without scored metrics has no
score. The summary is Σ score_g · weight_g / 100 over groups with a score, a group
without a configured weight getting an equal share of what the weights leave of 100.
A ``critical`` metric classified anything but Pass sets the summary to 0. Kayenta's
``ThresholdScoreClassifier`` then says ``pass`` at score >= pass threshold, ``marginal``
at >= marginal, else ``fail``; we add ``nodata`` when no group has a score (the
controller holds then, rather than failing a canary that served nothing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

DECISIONS = ("pass", "marginal", "fail", "nodata")


@dataclass(frozen=True, kw_only=True)
class MetricOutcome:
    """What the scorer needs of one classified metric."""

    name: str
    group: str
    label: str
    criticality: str = "normal"


@dataclass(frozen=True, kw_only=True)
class Score:
    """The summary score (0-100), per-group scores and the decision."""

    score: float
    group_scores: dict[str, float | None]
    """Per group; None where the group had no scored metric."""
    critical_failure: bool
    decision: str


def group_scores(outcomes: Sequence[MetricOutcome]) -> dict[str, float | None]:
    """Per group: 100 · passing / scored metrics (None when none is scored)."""
    tally: dict[str, list[int]] = {}
    for o in outcomes:
        counts = tally.setdefault(o.group, [0, 0])
        if o.criticality == "report-only" or o.label == "Nodata":
            continue
        counts[0] += o.label == "Pass"
        counts[1] += 1
    return {g: (100.0 * p / n if n else None) for g, (p, n) in tally.items()}


def summary_score(scores: Mapping[str, float | None], weights: Mapping[str, float]) -> float:
    """Σ group score · weight / 100, unweighted groups sharing 100 - Σ weights equally."""
    unweighted = [g for g in scores if g not in weights]
    share = (100.0 - sum(weights.values())) / len(unweighted) if unweighted else 0.0
    return sum(s * weights.get(g, share) / 100.0 for g, s in scores.items() if s is not None)


def score(outcomes: Sequence[MetricOutcome], *, weights: Mapping[str, float],
          pass_threshold: float, marginal_threshold: float) -> Score:
    """Score ``outcomes`` and decide pass / marginal / fail / nodata."""
    groups = group_scores(outcomes)
    critical = any(o.criticality == "critical" and o.label != "Pass" for o in outcomes)
    total = 0.0 if critical else summary_score(groups, weights)
    if critical:
        decision = "fail"
    elif all(s is None for s in groups.values()):
        decision = "nodata"
    elif total >= pass_threshold:
        decision = "pass"
    else:
        decision = "marginal" if total >= marginal_threshold else "fail"
    return Score(score=total, group_scores=groups, critical_failure=critical, decision=decision)

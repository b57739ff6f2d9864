"""Invariants of the weighted score (hypothesis) beside Kayenta's ScorerSuite cases."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mlfleet.ops.canary.scoring import MetricOutcome, score

LABELS = ("Pass", "High", "Low", "Nodata", "NodataFailure")
OUTCOMES = st.lists(st.builds(MetricOutcome, name=st.text(max_size=3),
                              group=st.sampled_from(["a", "b", "c"]),
                              label=st.sampled_from(LABELS),
                              criticality=st.sampled_from(["normal", "critical", "report-only"])),
                    min_size=1, max_size=12)


@given(OUTCOMES, st.floats(0, 100), st.floats(0, 100))
def test_score_is_a_percentage_and_the_decision_follows_it(
        outcomes: list[MetricOutcome], a: float, b: float) -> None:
    marginal, passing = min(a, b), max(a, b)
    s = score(outcomes, weights={}, pass_threshold=passing, marginal_threshold=marginal)
    assert 0.0 <= s.score <= 100.0 + 1e-9
    if s.critical_failure:
        assert s.score == 0.0 and s.decision == "fail"
    elif s.decision == "pass":
        assert s.score >= passing
    elif s.decision == "marginal":
        assert marginal <= s.score < passing
    elif s.decision == "fail":
        assert s.score < marginal


@given(OUTCOMES)
def test_all_passing_scores_100_and_a_critical_failure_scores_0(
        outcomes: list[MetricOutcome]) -> None:
    passing = [MetricOutcome(name=o.name, group=o.group, label="Pass",
                             criticality=o.criticality) for o in outcomes]
    s = score(passing, weights={}, pass_threshold=95.0, marginal_threshold=75.0)
    scored = any(o.criticality != "report-only" for o in passing)
    groups = {o.group for o in passing if o.criticality != "report-only"}
    all_groups = {o.group for o in passing}
    if scored and groups == all_groups:
        assert abs(s.score - 100.0) < 1e-9 and s.decision == "pass"
    broken = [*passing, MetricOutcome(name="x", group="a", label="High", criticality="critical")]
    assert score(broken, weights={}, pass_threshold=95.0, marginal_threshold=75.0).score == 0.0

"""Judged canaries in the serving simulator: promoted when good, rolled back when not.

8 stable + 8 canary request-level replicas, 60 req/s of 20-ms exponential work, stages
5 % -> 25 % -> 50 % -> 100 %, 10-s intervals, 30 per judgement (seed 0).
"""

from __future__ import annotations

import pytest

from mlfleet.ops.canary.controller import JudgedCanaryController
from mlfleet.ops.canary.regression import parse_regression
from mlfleet.ops.canary.sim_run import SERVING_METRICS, run_sim_canary


def rollout(regression: str, *, kayenta_only: bool = False) -> JudgedCanaryController:
    config = SERVING_METRICS.kayenta_only() if kayenta_only else SERVING_METRICS
    return run_sim_canary(parse_regression(regression), seed=0, config=config)


def actions(c: JudgedCanaryController) -> list[str]:
    return [j.action for j in c.judgements]


@pytest.mark.slow
def test_a_good_canary_is_promoted_through_every_stage() -> None:
    c = rollout("none")
    assert c.state == "completed" and c.share() == 1.0
    assert [what for _, what in c.events] == ["stage 0.05", "stage 0.25", "stage 0.5",
                                              "completed"]
    assert actions(c) == ["promote", "promote", "complete"]
    assert all(j.result.score == 100.0 for j in c.judgements)


@pytest.mark.slow
def test_a_latency_regression_is_rolled_back_at_the_first_judgement() -> None:
    c = rollout("latency=1.3")
    assert c.state == "rolled_back" and c.share() == 0.0
    assert c.events[-1] == (300.0, "rollback")
    labels = {m.name: m.label for m in c.judgements[0].result.metrics}
    assert labels["latency_p50_s"] == "High"


@pytest.mark.slow
def test_an_error_regression_is_rolled_back_by_the_rate_test_one_stage_earlier() -> None:
    """2 % errors: ~0.6 errors per canary interval at 5 %, mostly zeros; Kayenta's judge
    promotes that stage and catches it at 25 %, the Poisson rate test at 5 %."""
    ours, theirs = rollout("errors=0.02"), rollout("errors=0.02", kayenta_only=True)
    assert ours.state == theirs.state == "rolled_back"
    assert ours.events[-1][0] == 300.0 and theirs.events[-1][0] == 600.0
    assert ours.judgements[0].result.metrics[-1].test == "poisson"
    assert actions(theirs)[0] == "promote"


@pytest.mark.slow
def test_a_variance_only_regression_is_caught_by_the_added_test_only() -> None:
    """Service x 0.5 and x 1.5 in alternate 10-s intervals (same mean): Mann-Whitney
    alone promotes it to 100 %; the spread test rolls it back at the first judgement."""
    ours, theirs = rollout("variance=0.5"), rollout("variance=0.5", kayenta_only=True)
    assert theirs.state == "completed"
    assert ours.state == "rolled_back" and ours.events[-1][0] == 300.0
    assert {m.test for m in ours.judgements[0].result.metrics} >= {"spread"}

"""The judged controller's state machine on hand-fed completions."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mlfleet.ops.canary.controller import JudgedCanaryController, RolloutPolicy
from mlfleet.ops.canary.errors import CanaryInputError
from mlfleet.ops.canary.sim_run import SERVING_METRICS

POLICY = RolloutPolicy(stages=(0.1, 0.5, 1.0), interval_s=1.0, intervals_per_judgement=10,
                       min_requests_per_interval=5, max_holds=1)


def feed(c: JudgedCanaryController, *, until_s: float, canary_scale: float = 1.0,
         seed: int = 0, canary_only: bool = False) -> None:
    """20 requests per second per group, lognormal latency around 50 ms; step each second."""
    rng = np.random.default_rng(seed)
    t = c.window_start_s
    while t < until_s and c.state == "running":
        for k in range(20):
            finish = t + k / 20
            if not canary_only:
                c.observe(group="baseline", finish_s=finish, latency_s=0.05 * rng.lognormal(0, 0.1),
                          ok=True)
            c.observe(group="canary", finish_s=finish,
                      latency_s=0.05 * canary_scale * rng.lognormal(0, 0.1), ok=True)
        t += 1.0
        c.step(t)


def test_good_canary_walks_the_stages() -> None:
    c = JudgedCanaryController(SERVING_METRICS, POLICY, rng=np.random.default_rng(0))
    feed(c, until_s=100.0)
    assert c.state == "completed"
    assert [w for _, w in c.events] == ["stage 0.1", "stage 0.5", "completed"]


def test_slow_canary_rolls_back() -> None:
    c = JudgedCanaryController(SERVING_METRICS, POLICY, rng=np.random.default_rng(0))
    feed(c, until_s=100.0, canary_scale=1.5)
    assert c.state == "rolled_back" and c.share() == 0.0
    assert c.judgements[-1].action == "rollback"


def test_no_baseline_data_holds_then_rolls_back() -> None:
    """No baseline: every latency metric is Nodata, the decision nodata: held once
    (max_holds 1), then rolled back."""
    latency_only = replace(SERVING_METRICS, metrics=SERVING_METRICS.metrics[:2],
                           group_weights={})
    c = JudgedCanaryController(latency_only, POLICY, rng=np.random.default_rng(0))
    feed(c, until_s=100.0, canary_only=True)
    assert [j.action for j in c.judgements] == ["hold", "rollback"]
    assert c.judgements[0].result.decision == "nodata"


def test_unknown_group_is_refused() -> None:
    c = JudgedCanaryController(SERVING_METRICS, POLICY, rng=np.random.default_rng(0))
    with pytest.raises(CanaryInputError, match="group"):
        c.observe(group="green", finish_s=0.0, latency_s=0.1, ok=True)


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"stages": (0.5, 0.1, 1.0)}, "strictly increasing"),
    ({"stages": (0.1, 0.5)}, "ending at 1.0"),
    ({"interval_s": 0.0}, "interval_s"),
    ({"intervals_per_judgement": 1}, "intervals_per_judgement"),
])
def test_policy_validation(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(CanaryInputError, match=fragment):
        RolloutPolicy(**kwargs)  # type: ignore[arg-type]

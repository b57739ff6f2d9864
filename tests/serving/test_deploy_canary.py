"""Canary: 1 % → 5 % → 25 % → 100 %, rolling back on a bad canary, completing on a good one."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from mlfleet.errors import InputError
from mlfleet.serving.deploy.canary import CanaryConfig, CanaryController, CanaryRollout
from mlfleet.serving.lb.registry import make_load_balancer
from mlfleet.serving.sim.arrivals import Exponential, PoissonArrivals, make_requests
from mlfleet.serving.sim.engine import Engine
from mlfleet.serving.sim.replicas.request_level import RequestLevelReplica


def drive(controller: CanaryController, *, canary_latency_scale: float = 1.0,
          canary_error_rate: float = 0.001, rate_per_s: float = 20.0, until_s: float = 2400.0,
          seed: int = 0) -> CanaryController:
    """Synthetic traffic: lognormal latencies (median 50 ms), 0.1 % baseline errors;
    the canary's latencies scaled and its error rate set; judged every 10 s."""
    rng = np.random.default_rng(seed)
    t = 0.0
    next_step = 10.0
    while t < until_s and controller.state == "running":
        t += rng.exponential(1 / rate_per_s)
        canary = rng.random() < controller.share()
        latency = 0.05 * rng.lognormal(0.0, 0.5) * (canary_latency_scale if canary else 1.0)
        ok = rng.random() >= (canary_error_rate if canary else 0.001)
        controller.observe(group="canary" if canary else "baseline", finish_s=t,
                           latency_s=latency, ok=ok)
        if t >= next_step:
            controller.step(t)
            next_step += 10.0
    return controller


CONFIG = CanaryConfig(stage_duration_s=600.0, window_s=300.0, min_samples=50)


def test_a_good_canary_completes_every_stage_in_order() -> None:
    c = drive(CanaryController(CONFIG))
    assert c.state == "completed" and c.share() == 1.0
    assert [what for _, what in c.events] == ["stage 0.01", "stage 0.05", "stage 0.25",
                                              "completed"]
    times = [t for t, _ in c.events]
    assert all(b - a >= 600.0 for a, b in zip(times, times[1:], strict=False))
    assert times[-1] < 3 * 600.0 + 300.0


def test_a_slow_canary_rolls_back_in_the_first_stage() -> None:
    """Latency × 2: rolled back within the 1 % stage (observed over seeds 0-7: 180-460 s;
    the canary's 60-odd requests in the window must show significantly > 1 % above the
    limit)."""
    c = drive(CanaryController(CONFIG), canary_latency_scale=2.0)
    assert c.state == "rolled_back" and c.share() == 0.0
    assert [what for _, what in c.events] == ["stage 0.01", "rollback"]
    assert c.events[-1][0] < 600.0


def test_an_erroring_canary_rolls_back_on_error_rate() -> None:
    """5 % errors against a limit of 2 × 0.1 % + 1 %: rolled back (observed 270-680 s over
    seeds 0-7, at 1 % or 5 %); a canary at the baseline's 0.1 % completes."""
    config = CanaryConfig(metric="error_rate", max_ratio=2.0, slack=0.01, min_samples=50,
                          stage_duration_s=600.0, window_s=300.0)
    bad = drive(CanaryController(config), canary_error_rate=0.05)
    assert bad.state == "rolled_back"
    good = drive(CanaryController(config), canary_error_rate=0.001)
    assert good.state == "completed"


def test_no_verdict_before_enough_samples() -> None:
    c = CanaryController(CanaryConfig(min_samples=10))
    for k in range(9):
        c.observe(group="canary", finish_s=k, latency_s=100.0, ok=False)
        c.observe(group="baseline", finish_s=k, latency_s=0.01, ok=True)
    assert c.step(10.0) == "running" and c.share() == 0.01


def rollout(canary_speed: float, *, seed: int = 0) -> tuple[CanaryController, Engine]:
    """8 stable + 4 canary replicas, 30 req/s of 50 ms mean exponential work (stable
    ρ ≈ 0.19), 630 s; stages 200 s, window 200 s, 50 samples, judged every 20 s."""
    stream = make_requests(19_000, arrivals=PoissonArrivals(rate_per_s=30.0),
                           rng=np.random.default_rng(seed), service=Exponential(mean_s=0.05))
    replicas = [RequestLevelReplica() for _ in range(8)] + \
        [RequestLevelReplica(group="canary", speed=canary_speed) for _ in range(4)]
    engine = Engine(requests=stream, replicas=replicas, rng=np.random.default_rng(seed + 1),
                    lb=make_load_balancer("power_of_two"))
    controller = CanaryController(CanaryConfig(stage_duration_s=200.0, window_s=200.0,
                                               min_samples=50, max_ratio=1.3))
    CanaryRollout(engine, controller, eval_every_s=20.0)
    engine.run()
    return controller, engine


def test_in_the_simulator_a_good_canary_takes_all_traffic() -> None:
    controller, engine = rollout(canary_speed=1.0)
    assert controller.state == "completed"
    res = engine.snapshot()
    late = res.arrival_s > controller.events[-1][0] + 1.0
    assert np.all(res.group_of_request()[late] == "canary")


def test_in_the_simulator_a_slow_canary_is_rolled_back_and_drained() -> None:
    """Canary at 40 % speed: rolled back during the 1 % stage (observed at 180 s,
    as soon as the window held 50 canary requests)."""
    controller, engine = rollout(canary_speed=0.4)
    assert controller.state == "rolled_back"
    t_back = controller.events[-1][0]
    assert t_back < 260.0
    res = engine.snapshot()
    groups = res.group_of_request()
    assert np.all(groups[res.arrival_s > t_back] == "stable")
    early = res.arrival_s < t_back
    assert 0.005 < np.mean(groups[early] == "canary") < 0.02  # the 1 % stage


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"stages": (0.05, 0.01, 1.0)}, "strictly increasing"),
    ({"stages": (0.1, 0.5)}, "ending at 1.0"),
    ({"stages": (0.0, 1.0)}, "stages[0](=0) must be a fraction in (0, 1]"),
    ({"metric": "p50"}, "metric(='p50') is unknown; known: p99, error_rate"),
    ({"max_ratio": 0}, "max_ratio(=0)"),
    ({"window_s": -5.0}, "window_s(=-5)"),
])
def test_bad_configuration(kwargs: dict[str, Any], fragment: str) -> None:
    with pytest.raises(InputError) as info:
        CanaryConfig(**kwargs)
    assert fragment in str(info.value)

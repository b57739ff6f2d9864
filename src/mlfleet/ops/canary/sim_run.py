"""A judged canary in the serving simulator: a stable and a canary replica group.

``replicas`` request-level replicas in each group (the canary group provisioned like
the stable one, so a share never loads it more), Poisson arrivals of exponential
service demands, power-of-two-choices within a group. :class:`~.controller.
JudgedCanaryController` decides every stage, driven by the serving chapter's
:class:`~mlfleet.serving.deploy.canary.CanaryRollout` (evaluated once per interval).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlfleet.checks import positive, positive_int
from mlfleet.ops.canary.controller import JudgedCanaryController, RolloutPolicy
from mlfleet.ops.canary.errors import CanaryInputError
from mlfleet.ops.canary.judge_config import JudgeConfig, MetricSpec
from mlfleet.ops.canary.regression import Regression
from mlfleet.ops.canary.sim_replicas import ErroringReplica, FlappingReplica, slow_replica
from mlfleet.serving.sim.replicas.base import Replica
from mlfleet.serving.sim.replicas.request_level import RequestLevelReplica

SERVING_METRICS = JudgeConfig(
    metrics=(
        MetricSpec(name="latency_p50_s", direction="increase", group="latency", shape_test="ks+spread"),
        MetricSpec(name="latency_p99_s", direction="increase", group="latency", shape_test="ks+spread"),
        MetricSpec(name="error_rate", direction="increase", group="errors"),
        MetricSpec(name="errors", direction="increase", group="errors", rate_test="poisson",
                   exposure="requests", criticality="critical"),
    ),
    group_weights={"latency": 60.0, "errors": 40.0})
"""The judge config of ``ops canary sim`` and ``ops canary real``."""


@dataclass(frozen=True, kw_only=True)
class SimSetup:
    """The simulated fleet and traffic."""

    rate_per_s: float = 60.0
    """Poisson arrival rate of the whole service."""
    service_mean_s: float = 0.02
    """Mean (exponential) service demand of a request."""
    replicas: int = 8
    """Replicas in each group (stable and canary)."""
    horizon_s: float = 1500.0
    """Arrivals stop here (the rollout needs stages x window)."""

    def __post_init__(self) -> None:
        positive("rate_per_s", self.rate_per_s, error=CanaryInputError)
        positive("service_mean_s", self.service_mean_s, error=CanaryInputError)
        positive_int("replicas", self.replicas, error=CanaryInputError)
        positive("horizon_s", self.horizon_s, error=CanaryInputError)
        if self.rate_per_s * self.horizon_s > 2_000_000:
            raise CanaryInputError(f"rate_per_s x horizon_s(={self.rate_per_s * self.horizon_s:g})"
                                   " must be <= 2e6 requests")


def canary_replica(regression: Regression, *, period_s: float,
                   rng: np.random.Generator) -> Replica:
    """One canary replica carrying ``regression``."""
    if regression.kind == "latency":
        return slow_replica(regression.amount)
    if regression.kind == "errors":
        return ErroringReplica(error_rate=regression.amount, rng=rng)
    if regression.kind == "variance":
        return FlappingReplica(amount=regression.amount, period_s=period_s)
    return RequestLevelReplica(group="canary")


def run_sim_canary(regression: Regression, *, seed: int, setup: SimSetup | None = None,
                   policy: RolloutPolicy | None = None,
                   config: JudgeConfig = SERVING_METRICS) -> JudgedCanaryController:
    """Simulate the judged rollout; returns the controller (state, events, judgements)."""
    from mlfleet.serving.deploy.canary import CanaryRollout
    from mlfleet.serving.lb.registry import make_load_balancer
    from mlfleet.serving.sim.arrivals import Exponential, PoissonArrivals, make_requests
    from mlfleet.serving.sim.engine import Engine

    setup, policy = setup or SimSetup(), policy or RolloutPolicy()
    streams = np.random.default_rng(seed).spawn(4)
    n = int(setup.rate_per_s * setup.horizon_s)
    requests = make_requests(n, arrivals=PoissonArrivals(rate_per_s=setup.rate_per_s),
                             rng=streams[0], service=Exponential(mean_s=setup.service_mean_s))
    replicas = [RequestLevelReplica() for _ in range(setup.replicas)] + \
        [canary_replica(regression, period_s=policy.interval_s, rng=streams[1])
         for _ in range(setup.replicas)]
    engine = Engine(requests=requests, replicas=replicas, rng=streams[2],
                    lb=make_load_balancer("power_of_two"))
    controller = JudgedCanaryController(config, policy, rng=streams[3])
    CanaryRollout(engine, controller, eval_every_s=policy.interval_s)
    until_s = 0.0
    while controller.state == "running" and until_s < setup.horizon_s:
        until_s += policy.window_s  # stop simulating once the rollout is decided
        engine.run(until_s=until_s)
    return controller

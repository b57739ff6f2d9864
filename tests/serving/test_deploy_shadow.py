"""Shadow: mirrored traffic is measured on its own replicas and changes no user metric."""

from __future__ import annotations

import numpy as np
import pytest

from mlfleet.errors import InputError
from mlfleet.serving.deploy.shadow import shadow_report, start_shadow
from mlfleet.serving.lb.registry import make_load_balancer
from mlfleet.serving.sim.arrivals import Exponential, PoissonArrivals, make_requests
from mlfleet.serving.sim.engine import Engine
from mlfleet.serving.sim.replicas.request_level import RequestLevelReplica
from mlfleet.serving.sim.results import SimResult


def run(share: float | None, *, shadow_speed: float = 0.5) -> SimResult:
    stream = make_requests(5000, arrivals=PoissonArrivals(rate_per_s=12.0),
                           rng=np.random.default_rng(0), service=Exponential(mean_s=0.25))
    replicas = [RequestLevelReplica() for _ in range(4)] + \
        [RequestLevelReplica(group="shadow", speed=shadow_speed) for _ in range(2)]
    # Round-robin draws nothing from the engine's rng, so a run with a mirror (which
    # draws one number per arrival) routes users exactly as a run without.
    engine = Engine(requests=stream, replicas=replicas, rng=np.random.default_rng(1),
                    lb=make_load_balancer("round_robin"))
    if share is None:
        engine.set_split({"stable": 1.0})
    else:
        start_shadow(engine, share=share)
    return engine.run()


def test_shadow_traffic_leaves_user_metrics_bit_identical() -> None:
    without, with_shadow = run(None), run(0.3)
    users = with_shadow.shadow_of < 0
    for column in ("arrival_s", "start_s", "finish_s", "replica", "status"):
        assert np.array_equal(getattr(without, column), getattr(with_shadow, column)[users],
                              equal_nan=True)
    assert with_shadow.summary().e2e == without.summary().e2e
    assert with_shadow.summary().requests == 5000  # shadows not counted


def test_shadow_latency_is_measured_on_mirrored_requests() -> None:
    """The shadow runs at half speed: its p99 is well above the primaries' on the same
    requests (observed p99 8.8 s vs 2.7 s; the two half-speed replicas run at ρ = 0.9),
    and every copy ran on a shadow replica."""
    res = run(0.3)
    report = shadow_report(res)
    assert abs(report.mirrored / 5000 - 0.3) < 0.03
    assert report.completed == report.mirrored
    assert report.shadow_e2e.p99_s > 1.3 * report.primary_e2e.p99_s
    copies = res.shadow_of >= 0
    assert np.all(res.group_of_request()[copies] == "shadow")
    assert np.all(res.group_of_request()[~copies] == "stable")


def test_bad_configuration() -> None:
    stream = make_requests(10, arrivals=PoissonArrivals(rate_per_s=1.0),
                           rng=np.random.default_rng(0), service=Exponential(mean_s=0.25))
    engine = Engine(requests=stream, replicas=[RequestLevelReplica()], rng=np.random.default_rng(0))
    with pytest.raises(InputError, match=r"share\(=0\) must be a fraction in \(0, 1\]"):
        start_shadow(engine, share=0.0)
    with pytest.raises(InputError, match=r"group 'shadow' has no replica; groups: stable"):
        start_shadow(engine, share=0.5)

"""The Deployment seam on the real serving engine: cold start, draining, deletion order."""

from __future__ import annotations

import numpy as np

from mlfleet.infra.autoscale.pods import Deployment, ReadyPodsBalancer
from mlfleet.infra.autoscale.simulate import make_stream
from mlfleet.serving.sim.engine import Engine
from mlfleet.serving.sim.replicas.request_level import RequestLevelReplica


def _setup(initial: int, n: int = 2000) -> tuple[Deployment, Engine]:
    rng = np.random.default_rng(0)
    arrivals = np.cumsum(rng.exponential(0.01, n))  # 100 req/s for ~20 s
    deployment = Deployment(make_replica=lambda: RequestLevelReplica(servers=1),
                            cold_start_s=5.0, servers=1)
    engine = Engine(requests=make_stream(arrivals, 0.005, rng), rng=np.random.default_rng(1),
                    replicas=[RequestLevelReplica(servers=1) for _ in range(initial)],
                    lb=ReadyPodsBalancer(deployment.ready))
    deployment.attach(engine, initial=initial)
    return deployment, engine


def test_a_new_pod_serves_only_after_its_cold_start() -> None:
    deployment, engine = _setup(1)
    engine.call_at(2.0, lambda eng: deployment.scale_to(2, eng.now_s))
    result = engine.run()
    new = result.replica == 1
    assert new.any() and result.arrival_s[new].min() >= 7.0
    assert deployment.billed[:2] == [(0.0, 1), (2.0, 2)]


def test_a_removed_pod_drains_then_goes() -> None:
    """Scaling 3 -> 1 at 5 s: the two newest (1, 2) get no request after 5 s, finish
    what they hold, and are removed at the next reap; every request completes."""
    deployment, engine = _setup(3)
    engine.call_at(5.0, lambda eng: deployment.scale_to(1, eng.now_s))
    engine.call_at(6.0, lambda eng: deployment.reap(eng.now_s))
    result = engine.run()
    late = result.arrival_s > 5.0
    assert set(result.replica[late].tolist()) == {0}
    assert (result.status == result.status[0]).all()  # all done, none failed over
    assert deployment.ready == [0] and deployment.draining == []
    assert not engine.replicas[1].alive and not engine.replicas[2].alive


def test_starting_pods_are_removed_before_ready_ones() -> None:
    deployment, engine = _setup(2)
    engine.call_at(1.0, lambda eng: deployment.scale_to(4, eng.now_s))
    engine.call_at(2.0, lambda eng: deployment.scale_to(2, eng.now_s))
    result = engine.run()
    assert deployment.ready == [0, 1] and not deployment.draining
    assert set(result.replica.tolist()) == {0, 1}

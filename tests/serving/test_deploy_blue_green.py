"""Blue-green: every arrival before the switch is served by blue, every one after by green."""

from __future__ import annotations

import numpy as np
import pytest

from mlfleet.errors import InputError
from mlfleet.serving.deploy.blue_green import BlueGreenDeployment, standby_replica_s
from mlfleet.serving.lb.registry import make_load_balancer
from mlfleet.serving.sim.arrivals import Exponential, PoissonArrivals, make_requests
from mlfleet.serving.sim.engine import Engine
from mlfleet.serving.sim.replicas.request_level import RequestLevelReplica


def two_environments(n: int = 6000) -> Engine:
    stream = make_requests(n, arrivals=PoissonArrivals(rate_per_s=10.0),
                           rng=np.random.default_rng(0), service=Exponential(mean_s=0.2))
    replicas = [RequestLevelReplica(group="blue") for _ in range(4)] + \
        [RequestLevelReplica(group="green") for _ in range(4)]
    return Engine(requests=stream, replicas=replicas, rng=np.random.default_rng(1),
                  lb=make_load_balancer("least_outstanding"))


def test_switch_is_atomic_and_rollback_instant() -> None:
    engine = two_environments()
    deploy = BlueGreenDeployment(engine)
    deploy.switch(at_s=200.0)
    deploy.rollback(at_s=400.0)
    res = engine.run()
    groups = res.group_of_request()
    t = res.arrival_s
    assert np.all(groups[t < 200.0] == "blue")
    assert np.all(groups[(t >= 200.0) & (t < 400.0)] == "green")
    assert np.all(groups[t >= 400.0] == "blue")
    assert res.done.all()  # blue drained its in-flight work after the switch: nothing lost
    assert [deploy.live_at(x) for x in (0.0, 199.9, 200.0, 400.0)] == \
        ["blue", "blue", "green", "blue"]


def test_no_request_of_the_old_version_starts_after_its_drain() -> None:
    """After the switch blue only finishes what it held: its last start is before the
    switch plus the longest queueing delay seen, and no new arrival reaches it."""
    engine = two_environments()
    BlueGreenDeployment(engine).switch(at_s=200.0)
    res = engine.run()
    on_blue = res.group_of_request() == "blue"
    assert res.arrival_s[on_blue].max() < 200.0
    assert res.finish_s[on_blue].max() < 200.0 + 10.0


def test_standby_cost_and_bad_use() -> None:
    assert standby_replica_s(replicas_per_env=4, overlap_s=3600.0) == 4 * 3600.0
    engine = two_environments(10)
    with pytest.raises(InputError, match=r"group 'purple' has no replica; groups: blue, green"):
        BlueGreenDeployment(engine, green="purple")
    deploy = BlueGreenDeployment(engine)
    with pytest.raises(InputError, match="rollback needs an earlier switch"):
        deploy.rollback(at_s=1.0)
    deploy.switch(at_s=5.0)
    with pytest.raises(InputError, match=r"at_s\(=1\.0\) must not precede the last change"):
        deploy.switch(at_s=1.0)

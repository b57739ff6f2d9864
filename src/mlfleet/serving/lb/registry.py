"""The registry of load balancers: name -> constructor, rejecting unknown names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlfleet.serving.lb.consistent_hash import ConsistentHashBalancer
from mlfleet.serving.lb.haproxy_chash import HaproxyChashBalancer, HaproxyRingRandomBalancer
from mlfleet.serving.lb.kv_aware import KvAwareBalancer
from mlfleet.serving.lb.least_outstanding import LeastOutstandingBalancer
from mlfleet.serving.lb.power_of_two import PowerOfTwoBalancer
from mlfleet.serving.lb.random import RandomBalancer
from mlfleet.serving.lb.round_robin import RoundRobinBalancer
from mlfleet.serving.lb.weighted import WeightedRoundRobinBalancer
from mlfleet.serving.policy import LoadBalancer
from mlfleet.serving.policy_factory import build_policy

LOAD_BALANCERS: dict[str, Callable[..., LoadBalancer]] = {
    "random": RandomBalancer,
    "round_robin": RoundRobinBalancer,
    "weighted": WeightedRoundRobinBalancer,
    "least_outstanding": LeastOutstandingBalancer,
    "power_of_two": PowerOfTwoBalancer,
    "consistent_hash": ConsistentHashBalancer,
    "kv_aware": KvAwareBalancer,
    "haproxy_chash": HaproxyChashBalancer,
    "haproxy_random": HaproxyRingRandomBalancer,
}
"""Every load balancer by name; each constructor takes keyword-only parameters."""


def make_load_balancer(name: str, **params: Any) -> LoadBalancer:
    """A fresh load balancer ``name`` configured with ``params``.

    Raises :class:`PolicyConfigError` for an unknown name (listing the known ones), an
    unknown parameter, or a parameter outside its allowed range.
    """
    balancer: LoadBalancer = build_policy(LOAD_BALANCERS, "load balancer", name, params)
    return balancer


"""The scenario's ``deployment:`` section: the declared state of a ``mlfleet serve``
deployment, which ``mlfleet ops diff`` compares with a running server."""

from __future__ import annotations

from mlfleet.scenario.base import _Spec
from mlfleet.scenario.parsers import PositiveInt


class DeploymentSpec(_Spec):
    """What a running ``mlfleet serve`` should report (its ``/v1/info`` configuration)."""

    replicas: PositiveInt = 1
    """Server processes behind the load balancer, e.g. 2."""

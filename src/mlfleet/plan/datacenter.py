"""The datacenter part of the infrastructure section: power and racks, the fabric, the
monthly bill, and (with a ``scheduling`` section) the job's queueing delay.

Each number comes from the infrastructure chapter's own model, called with the
scenario's fields (None takes the catalog's sourced default there):

* power, racks, PDUs, cooling: :func:`mlfleet.infra.power.facility.facility_power`
  (docs/infrastructure-power.md);
* topology, switches, cables, bisection, hops: :func:`mlfleet.infra.topology.summary_for`
  (docs/infrastructure-topology.md);
* owned vs cloud per month and the break-even utilization:
  :func:`mlfleet.infra.tco.ownership.monthly_cost` (docs/infrastructure-tco.md), reading
  ``prices.*``;
* the queueing delay of the training job on a shared cluster under a policy:
  :func:`mlfleet.infra.scheduling.queueing.expected_queueing_delay` (docs/scheduling.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypeVar

from mlfleet.errors import MlfleetError
from mlfleet.infra.power.facility import FacilityPower, facility_power
from mlfleet.infra.tco.ownership import MonthlyCost, monthly_cost
from mlfleet.infra.topology.summary import FabricSummary, summary_for_cluster
from mlfleet.plan.context import node_power_w
from mlfleet.scenario import Scenario

if TYPE_CHECKING:
    from mlfleet.infra.scheduling.queueing import QueueingEstimate

_T = TypeVar("_T")


@dataclass(frozen=True, kw_only=True)
class Datacenter:
    """Power, fabric, monthly cost and queueing of the scenario's cluster (None: not modelled,
    with the reason in ``notes``)."""

    power: FacilityPower | None
    fabric: FabricSummary | None
    cost: MonthlyCost | None
    queueing: QueueingEstimate | None
    notes: tuple[str, ...] = ()


def plan(scenario: Scenario) -> Datacenter:
    """Power, fabric and monthly cost of a validated scenario's cluster; a model that
    cannot place or price this cluster leaves its part None and says why in ``notes``.
    The queueing delay needs the job's run time: :func:`with_queueing` adds it."""
    notes: list[str] = []
    return Datacenter(power=_guard(notes, "power", lambda: _power(scenario)),
                      fabric=_guard(notes, "fabric",
                                    lambda: summary_for_cluster(scenario.cluster.to_cluster())),
                      cost=_guard(notes, "monthly cost", lambda: _cost(scenario)),
                      queueing=None, notes=tuple(notes))


def with_queueing(dc: Datacenter, scenario: Scenario, training_time_s: float | None) -> Datacenter:
    """``dc`` with the training job's queueing delay on the scenario's shared cluster."""
    if scenario.scheduling is None:
        return dc
    notes = list(dc.notes)
    estimate = _guard(notes, "queueing delay", lambda: _queueing(scenario, training_time_s))
    return replace(dc, queueing=estimate, notes=tuple(notes))


def _guard(notes: list[str], what: str, compute: Callable[[], _T]) -> _T | None:
    try:
        return compute()
    except MlfleetError as exc:
        notes.append(f"{what} not modelled: {exc}")
        return None


def _power(scenario: Scenario) -> FacilityPower:
    cluster = scenario.cluster
    per_gpu_w = node_power_w(scenario) if cluster.name is not None else None
    return facility_power(accelerator=cluster.accelerator, gpus=cluster.gpus,
                          gpus_per_node=cluster.gpus_per_node,
                          node_power_w=None if per_gpu_w is None
                          else per_gpu_w * cluster.gpus_per_node,
                          pue=scenario.prices.pue)


def _cost(scenario: Scenario) -> MonthlyCost:
    cluster, prices = scenario.cluster, scenario.prices
    return monthly_cost(accelerator=cluster.accelerator, gpus=cluster.gpus,
                        gpus_per_node=cluster.gpus_per_node,
                        electricity_usd_per_kwh=prices.electricity_usd_per_kwh, pue=prices.pue,
                        cloud_usd_per_gpu_h=prices.cloud_usd_per_gpu_h,
                        purchase_usd_per_gpu=prices.purchase_usd_per_gpu,
                        amortization_s=prices.amortization_s)


def _queueing(scenario: Scenario, training_time_s: float | None) -> QueueingEstimate:
    from mlfleet.infra.scheduling.queueing import expected_queueing_delay  # only when asked

    sched = scenario.scheduling
    assert sched is not None
    if training_time_s is None:
        raise _NoDuration("the training job has no length (give training.total_tokens, "
                          "total_samples or epochs)")
    return expected_queueing_delay(cluster_gpus=sched.shared_gpus,
                                   gpus_per_node=scenario.cluster.gpus_per_node,
                                   job_gpus=scenario.cluster.gpus, job_duration_s=training_time_s,
                                   policy=sched.policy, load=sched.load)


class _NoDuration(MlfleetError):
    """A queueing delay needs the job's run time."""


def reads(scenario: Scenario, dc: Datacenter) -> set[str]:
    """Scenario fields the datacenter numbers depend on."""
    out: set[str] = set()
    if dc.power is not None or dc.cost is not None:
        out.add("prices.pue")
    if dc.fabric is not None:
        out |= {"cluster.rails_per_node", "cluster.oversubscription", "cluster.scaleout"}
    if dc.cost is not None:
        out |= {"prices.electricity_usd_per_kwh", "prices.cloud_usd_per_gpu_h",
                "prices.purchase_usd_per_gpu", "prices.amortization_s"}
    if dc.queueing is not None:
        out |= {"scheduling.shared_gpus", "scheduling.policy", "scheduling.load"}
    return out

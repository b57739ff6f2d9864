"""The serving section of a plan: replicas, batching, predicted latency, network and cost.

Fidelity: model (:mod:`mlfleet.serving.models.capacity`: roofline step time with
calibrated-default overheads, M/M/c queueing on batches). Capacity is sized for the
peak rate. Request and response sizes give the fleet's network traffic at peak
(bytes x peak QPS, as a fraction of the serving nodes' scale-out bandwidth); the cloud
price gives the cost of a year of the sized fleet (GPUs needed x 8,760 h x price).
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet.plan.context import node_power_w, workload_of
from mlfleet.plan.section import Section, not_applicable
from mlfleet.scenario import Scenario
from mlfleet.serving.models.serving_capacity import ServingCapacity

HOURS_PER_YEAR = 8760.0


@dataclass(frozen=True, kw_only=True)
class ServingPlan:
    """The sized fleet plus what the plan adds around it."""

    capacity: ServingCapacity
    ingress_bytes_per_s: float | None
    """Request bytes arriving per second at peak (``serving.request_bytes`` x peak QPS)."""
    egress_bytes_per_s: float | None
    """Response bytes leaving per second at peak."""
    network_fraction_of_scaleout: float | None
    """The larger direction over the scale-out bandwidth of the nodes the fleet uses."""
    cloud_cost_usd_per_year: float | None
    """GPUs needed x 8,760 h x ``prices.cloud_usd_per_gpu_h``."""
    energy_cost_usd_per_year: float | None
    """GPUs needed x facility power per GPU x 8,760 h x ``prices.electricity_usd_per_kwh``."""


def plan(scenario: Scenario) -> ServingPlan | None:
    """Serving plan; None without a serving section in the scenario."""
    from mlfleet.serving.models.capacity import size_serving

    serving = scenario.serving
    if serving is None:
        return None
    slo, cluster = serving.slo, scenario.cluster.to_cluster()
    capacity = size_serving(
        workload=workload_of(scenario), accelerator=cluster.accelerator,
        gpus=scenario.cluster.gpus, gpus_per_node=scenario.cluster.gpus_per_node,
        qps=serving.qps, peak_to_mean=serving.peak_to_mean or 1.0,
        prompt_tokens=serving.prompt_tokens, output_tokens=serving.output_tokens,
        items_per_request=serving.items_per_request, precision=serving.precision,
        p99_s=slo.p99_s if slo else None, ttft_p99_s=slo.ttft_p99_s if slo else None,
        tpot_p99_s=slo.tpot_p99_s if slo else None)
    ingress = None if serving.request_bytes is None else serving.request_bytes * capacity.peak_qps
    egress = None if serving.response_bytes is None else serving.response_bytes * capacity.peak_qps
    nodes = -(-capacity.gpus_needed // scenario.cluster.gpus_per_node)
    busiest = max((b for b in (ingress, egress) if b is not None), default=None)
    price = scenario.prices.cloud_usd_per_gpu_h
    return ServingPlan(
        energy_cost_usd_per_year=_energy_usd_per_year(scenario, capacity.gpus_needed),
        capacity=capacity, ingress_bytes_per_s=ingress, egress_bytes_per_s=egress,
        network_fraction_of_scaleout=None if busiest is None
        else busiest / (nodes * cluster.node_scaleout_bw_bytes_per_s),
        cloud_cost_usd_per_year=None if price is None
        else capacity.gpus_needed * HOURS_PER_YEAR * price)


def _energy_usd_per_year(scenario: Scenario, gpus: int) -> float | None:
    per_gpu_w, prices = node_power_w(scenario), scenario.prices
    if per_gpu_w is None or prices.pue is None or prices.electricity_usd_per_kwh is None:
        return None
    return gpus * per_gpu_w * prices.pue / 1000.0 * HOURS_PER_YEAR * prices.electricity_usd_per_kwh


def section(result: ServingPlan | None) -> Section:
    """The plan section of a serving result."""
    if result is None:
        return not_applicable("no serving traffic in the scenario")
    capacity = result.capacity
    numbers: dict[str, object] = dict(capacity.numbers)
    extra = {"ingress_bytes_per_s": result.ingress_bytes_per_s,
             "egress_bytes_per_s": result.egress_bytes_per_s,
             "network_fraction_of_scaleout": result.network_fraction_of_scaleout,
             "cloud_cost_usd_per_year": result.cloud_cost_usd_per_year,
             "energy_cost_usd_per_year": result.energy_cost_usd_per_year}
    numbers.update({k: v for k, v in extra.items() if v is not None})
    reasoning = list(capacity.reasoning)
    if result.network_fraction_of_scaleout is not None:
        reasoning.append(f"request/response traffic at peak uses "
                         f"{result.network_fraction_of_scaleout:.2%} of the serving nodes' "
                         "scale-out bandwidth")
    return Section(status="ok", fidelity="model", numbers=numbers,
                   bottleneck=capacity.bottleneck, recommendation=capacity.recommendation,
                   reasoning=reasoning, details=capacity.details)


def reads(scenario: Scenario, result: ServingPlan | None) -> set[str]:
    """Scenario fields this section's result depends on."""
    serving = scenario.serving
    if result is None or serving is None:
        return set()
    out = {"serving.qps", "serving.peak_to_mean", "serving.precision", "serving.slo.p99_s"}
    if workload_of(scenario).unit == "token":
        out |= {"serving.prompt_tokens", "serving.output_tokens", "serving.slo.ttft_p99_s",
                "serving.slo.tpot_p99_s"}
    else:
        out.add("serving.items_per_request")
    if result.ingress_bytes_per_s is not None or result.egress_bytes_per_s is not None:
        out |= {"serving.request_bytes", "serving.response_bytes", "cluster.scaleout",
                "cluster.rails_per_node"}
    if result.cloud_cost_usd_per_year is not None:
        out.add("prices.cloud_usd_per_gpu_h")
    if result.energy_cost_usd_per_year is not None:
        out |= {"prices.pue", "prices.electricity_usd_per_kwh"}
    return out

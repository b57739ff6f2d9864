"""The infrastructure section of a plan: roofline step time, throughput, power and cost.

Fidelity: model. The step time is the roofline (``mlfleet.infra.roofline``) at the
assumed compute efficiency plus the exposed communication from the communication
section; power is the catalog's node power (or chip TDP) times PUE — an upper
bound, since chips rarely sit at TDP. Owning a GPU costs its purchase price written
off straight-line over the amortization period plus its facility energy:

    owned $/GPU-h = purchase_usd_per_gpu / (amortization_s / 3600) + W_gpu · PUE · $/kWh / 1000

which the build-vs-buy line compares with the cloud price per GPU-hour.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet.plan import datacenter
from mlfleet.plan.context import TrainingEstimate, node_power_w, workload_of
from mlfleet.plan.datacenter import Datacenter
from mlfleet.plan.training_memory import TrainingMemory
from mlfleet.scenario import Scenario


@dataclass(frozen=True, kw_only=True)
class TrainingNumbers:
    """The training step and the whole job; ``unit`` names what ``units_*`` count."""

    step_compute_s: float
    exposed_comm_s: float | None
    step_time_s: float
    """Compute plus exposed communication."""
    unit: str
    units_per_step: float
    units_per_s: float
    mfu_assumed: float
    mfu_with_comm: float
    arithmetic_intensity_flop_per_byte: float
    training_time_s: float | None
    """Units to train on / units per step x step time."""
    gpu_hours: float | None
    energy_kwh: float | None
    energy_cost_usd: float | None
    cloud_cost_usd: float | None
    owned_cost_usd: float | None
    memory: TrainingMemory | None = None
    """Memory per GPU of the step against HBM (:mod:`mlfleet.plan.training_memory`)."""


@dataclass(frozen=True, kw_only=True)
class ServingLoad:
    """The compute floor of the serving load at peak."""

    serving_peak_qps: float
    serving_flop_per_request: float
    serving_compute_flops_per_s: float
    serving_compute_fraction_of_peak: float | None


@dataclass(frozen=True, kw_only=True)
class Infrastructure:
    """The cluster, its power and cost, and the training step or serving load on it."""

    gpus: int
    nodes: int
    accelerator: str
    cluster_peak_flops_per_s: float | None
    cluster_hbm_bytes: float
    it_power_w: float | None
    facility_power_w: float | None
    """IT power x ``prices.pue``."""
    owned_usd_per_gpu_h: float | None
    """Purchase price amortized per GPU-hour plus facility energy (module docstring)."""
    training: TrainingNumbers | None
    serving_load: ServingLoad | None
    datacenter: Datacenter | None = None
    """Racks and cooling, the fabric, the monthly bill, the queueing delay."""


def plan(scenario: Scenario, estimate: TrainingEstimate | None, exposed_comm_s: float | None,
         memory: TrainingMemory | None = None) -> Infrastructure:
    """Infrastructure for a scenario with a training job, a serving load, or both."""
    cluster = scenario.cluster.to_cluster()
    acc, gpus = cluster.accelerator, scenario.cluster.gpus
    peak = acc.peak_flops_per_s.get(_precision(scenario))
    dc = datacenter.plan(scenario)
    it_w, facility_w = _power_w(scenario, dc)
    owned = _owned_usd_per_gpu_h(scenario, facility_w, gpus)
    training = None if estimate is None else _training(scenario, estimate, exposed_comm_s,
                                                       facility_w, owned, memory)
    dc = datacenter.with_queueing(dc, scenario, None if training is None
                                  else training.training_time_s)
    return Infrastructure(
        gpus=gpus, nodes=scenario.cluster.nodes, accelerator=acc.name,
        cluster_peak_flops_per_s=None if peak is None else peak * gpus,
        cluster_hbm_bytes=acc.hbm_bytes * gpus, it_power_w=it_w, facility_power_w=facility_w,
        owned_usd_per_gpu_h=owned, training=training,
        serving_load=_serving_load(scenario, None if peak is None else peak * gpus),
        datacenter=dc)


def _power_w(scenario: Scenario, dc: Datacenter) -> tuple[float | None, float | None]:
    """IT and facility power: the facility model's (PUE given or its cooling's default),
    else the catalog node power (or TDP) alone, with facility power only for a given PUE."""
    if dc.power is not None:
        return dc.power.it_power_w, dc.power.facility_power_w
    per_gpu_w = node_power_w(scenario)
    it_w = None if per_gpu_w is None else per_gpu_w * scenario.cluster.gpus
    pue = scenario.prices.pue
    return it_w, None if it_w is None or pue is None else it_w * pue


def _precision(scenario: Scenario) -> str:
    """The training job's precision, else the serving precision (a scenario has one)."""
    if scenario.training is not None:
        return scenario.training.precision
    assert scenario.serving is not None  # checked on load
    return scenario.serving.precision


def _owned_usd_per_gpu_h(scenario: Scenario, facility_w: float | None, gpus: int) -> float | None:
    prices = scenario.prices
    if prices.purchase_usd_per_gpu is None or prices.amortization_s is None:
        return None
    capital = prices.purchase_usd_per_gpu / (prices.amortization_s / 3600.0)
    if facility_w is None or prices.electricity_usd_per_kwh is None:
        return capital
    return capital + facility_w / gpus / 1000.0 * prices.electricity_usd_per_kwh


def _training(scenario: Scenario, est: TrainingEstimate, comm_s: float | None,
              facility_w: float | None, owned_usd_per_gpu_h: float | None,
              memory: TrainingMemory | None) -> TrainingNumbers:
    step_s = est.step_compute_s + (comm_s or 0.0)
    training_s = None if est.units_total is None else est.units_total / est.units_per_step * step_s
    gpu_hours = None if training_s is None else scenario.cluster.gpus * training_s / 3600.0
    energy_kwh = None if training_s is None or facility_w is None else facility_w * training_s / 3.6e6
    prices = scenario.prices

    def times(quantity: float | None, price: float | None) -> float | None:
        return None if quantity is None or price is None else quantity * price

    return TrainingNumbers(
        step_compute_s=est.step_compute_s, exposed_comm_s=comm_s, step_time_s=step_s,
        unit=est.unit, units_per_step=est.units_per_step, units_per_s=est.units_per_step / step_s,
        mfu_assumed=est.mfu_assumed, mfu_with_comm=est.mfu_assumed * est.step_compute_s / step_s,
        arithmetic_intensity_flop_per_byte=est.arithmetic_intensity_flop_per_byte,
        training_time_s=training_s, gpu_hours=gpu_hours, energy_kwh=energy_kwh,
        energy_cost_usd=times(energy_kwh, prices.electricity_usd_per_kwh),
        cloud_cost_usd=times(gpu_hours, prices.cloud_usd_per_gpu_h),
        owned_cost_usd=times(gpu_hours, owned_usd_per_gpu_h), memory=memory)


def _serving_load(scenario: Scenario, cluster_peak: float | None) -> ServingLoad | None:
    """The compute floor of the serving load: FLOP/s at peak QPS vs the cluster's peak."""
    serving = scenario.serving
    if serving is None:
        return None
    workload = workload_of(scenario)
    peak_qps = serving.qps * (serving.peak_to_mean or 1.0)
    per_request = workload.fwd_flop * (
        (serving.prompt_tokens or 0) + (serving.output_tokens or 0)
        if workload.unit == "token" else serving.items_per_request)
    need = peak_qps * per_request
    return ServingLoad(serving_peak_qps=peak_qps, serving_flop_per_request=per_request,
                       serving_compute_flops_per_s=need,
                       serving_compute_fraction_of_peak=None if not cluster_peak
                       else need / cluster_peak)


def reads(scenario: Scenario, infra: Infrastructure, est: TrainingEstimate | None) -> set[str]:
    """Scenario fields this section's result depends on."""
    out = {"name", "description", "workload", "cluster.name", "cluster.accelerator",
           "cluster.gpus", "cluster.gpus_per_node"}
    if infra.datacenter is not None:
        out |= datacenter.reads(scenario, infra.datacenter)
    if infra.facility_power_w is not None:
        out.add("prices.pue")
    if infra.owned_usd_per_gpu_h is not None:
        out |= {"prices.purchase_usd_per_gpu", "prices.amortization_s"}
        if infra.facility_power_w is not None:
            out.add("prices.electricity_usd_per_kwh")
    training = infra.training
    if est is not None and scenario.training is not None:
        out |= {"training.global_batch_tokens", "training.global_batch_samples",
                "training.seq_len", "training.precision", "training.mfu",
                "training.duration_s", *est.units_total_fields}
    if training is not None and training.energy_cost_usd is not None:
        out.add("prices.electricity_usd_per_kwh")
    if training is not None and training.cloud_cost_usd is not None:
        out.add("prices.cloud_usd_per_gpu_h")
    if scenario.serving is not None:
        out |= {"serving.qps", "serving.peak_to_mean", "serving.precision"}
    return out

"""The infrastructure section of a plan: roofline step time, throughput, power and cost.

Fidelity: model. The step time is the roofline (``mlfleet.infra.roofline``) at the
assumed compute efficiency plus the exposed communication from the communication
section; power is the catalog's node power (or chip TDP) times PUE — an upper
bound, since chips rarely sit at TDP.
"""

from __future__ import annotations

from typing import Any

from mlfleet.plan.context import cluster_of, node_power_w, training_estimate, workload_of
from mlfleet.plan.section import Section


def build(scenario: Any) -> Section:
    """Infrastructure section for a scenario with a training job, a serving load, or both."""
    numbers: dict[str, Any] = _cluster_numbers(scenario)
    reasoning: list[str] = []
    bottleneck, recommendation = "", ""
    if scenario.training is not None:
        bottleneck, recommendation = _training(scenario, numbers, reasoning)
    if scenario.serving is not None:
        serve_bottleneck = _serving_load(scenario, numbers, reasoning)
        bottleneck = bottleneck or serve_bottleneck
        recommendation = recommendation or (
            "replicas and batching: see the serving section; the compute floor above is the "
            "least the fleet must sustain")
    return Section(status="ok", fidelity="model", numbers=numbers, bottleneck=bottleneck,
                   recommendation=recommendation, reasoning=reasoning)


def _cluster_numbers(scenario: Any) -> dict[str, Any]:
    cluster = cluster_of(scenario)
    acc = cluster.accelerator
    numbers: dict[str, Any] = {"gpus": scenario.cluster.gpus, "nodes": scenario.cluster.nodes,
                               "accelerator": acc.name}
    precision = (scenario.training or scenario.serving).precision
    if precision in acc.peak_flops_per_s:
        numbers["cluster_peak_flops_per_s"] = acc.peak_flops_per_s[precision] * scenario.cluster.gpus
    numbers["cluster_hbm_bytes"] = acc.hbm_bytes * scenario.cluster.gpus
    per_gpu_w = node_power_w(scenario)
    if per_gpu_w is not None:
        it_w = per_gpu_w * scenario.cluster.gpus
        numbers["it_power_w"] = it_w
        if scenario.prices.pue is not None:
            numbers["facility_power_w"] = it_w * scenario.prices.pue
    return numbers


def _training(scenario: Any, numbers: dict[str, Any], reasoning: list[str]) -> tuple[str, str]:
    from mlfleet.plan.communication import exposed_comm_s

    est = training_estimate(scenario)
    comm_s = exposed_comm_s(scenario)
    step_s = est.step_compute_s + (comm_s or 0.0)
    achieved_mfu = est.mfu_assumed * est.step_compute_s / step_s
    numbers.update({"step_compute_s": est.step_compute_s, "exposed_comm_s": comm_s,
                    "step_time_s": step_s, f"{est.unit}s_per_step": est.units_per_step,
                    f"{est.unit}s_per_s": est.units_per_step / step_s,
                    "mfu_assumed": est.mfu_assumed, "mfu_with_comm": achieved_mfu,
                    "arithmetic_intensity_flop_per_byte": est.arithmetic_intensity})
    reasoning.append(f"compute efficiency {est.mfu_assumed:.0%} ({est.mfu_source})")
    reasoning.append(f"per-GPU step is {est.bound}-bound on the roofline "
                     f"(intensity {est.arithmetic_intensity:,.0f} FLOP/byte)")
    if comm_s:
        reasoning.append(f"exposed gradient communication adds {comm_s / step_s:.1%} to the step")
    recommendation = "keep the step compute-bound; raise MFU (kernels, overlap) before adding GPUs"
    if est.units_total is not None:
        training_s = est.units_total / est.units_per_step * step_s
        numbers["training_time_s"] = training_s
        _costs(scenario, numbers, training_s, reasoning)
        recommendation = _window_advice(scenario, training_s) or recommendation
    bound = "communication" if comm_s and comm_s > est.step_compute_s else est.bound
    return f"{bound} (per-GPU step at {est.mfu_assumed:.0%} efficiency)", recommendation


def _costs(scenario: Any, numbers: dict[str, Any], training_s: float, reasoning: list[str]) -> None:
    prices, gpus = scenario.prices, scenario.cluster.gpus
    gpu_hours = gpus * training_s / 3600.0
    numbers["gpu_hours"] = gpu_hours
    if "facility_power_w" in numbers:
        energy_kwh = numbers["facility_power_w"] * training_s / 3.6e6
        numbers["energy_kwh"] = energy_kwh
        if prices.electricity_usd_per_kwh is not None:
            numbers["energy_cost_usd"] = energy_kwh * prices.electricity_usd_per_kwh
            reasoning.append("energy at catalog node power (an upper bound: chips rarely sit at TDP)")
    if prices.cloud_usd_per_gpu_h is not None:
        numbers["cloud_cost_usd"] = gpu_hours * prices.cloud_usd_per_gpu_h


def _window_advice(scenario: Any, training_s: float) -> str:
    window = scenario.training.duration_s
    if window is None:
        return ""
    if training_s <= window:
        return (f"fits the {window / 86400:.0f}-day window with {1 - training_s / window:.0%} "
                "slack for failures and restarts")
    return (f"does not fit the {window / 86400:.0f}-day window: needs "
            f"{training_s / window:.2f}x the GPUs or efficiency")


def _serving_load(scenario: Any, numbers: dict[str, Any], reasoning: list[str]) -> str:
    """The compute floor of the serving load: FLOP/s at peak QPS vs the cluster's peak."""
    serving, workload = scenario.serving, workload_of(scenario)
    peak_qps = serving.qps * (serving.peak_to_mean or 1.0)
    per_request = workload.fwd_flop * (
        (serving.prompt_tokens or 0) + (serving.output_tokens or 0)
        if workload.unit == "token" else serving.items_per_request)
    need = peak_qps * per_request
    numbers.update({"serving_peak_qps": peak_qps, "serving_flop_per_request": per_request,
                    "serving_compute_flops_per_s": need})
    peak = numbers.get("cluster_peak_flops_per_s")
    if peak:
        numbers["serving_compute_fraction_of_peak"] = need / peak
        reasoning.append(f"serving at peak QPS needs {need / peak:.2%} of the cluster's dense "
                         "peak: latency and batching, not FLOP/s, will size this fleet")
        return "latency (compute floor is small)" if need < 0.1 * peak else "compute"
    return "not evaluated"

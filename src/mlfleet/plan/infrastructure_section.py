"""The infrastructure section's text: key numbers, bottleneck, recommendation and reasoning."""

from __future__ import annotations

from dataclasses import asdict

from mlfleet import units
from mlfleet.plan import datacenter_text
from mlfleet.plan.context import TrainingEstimate
from mlfleet.plan.infrastructure import Infrastructure, ServingLoad, TrainingNumbers
from mlfleet.plan.section import Section
from mlfleet.plan.training_memory import TrainingMemory
from mlfleet.scenario import Scenario


def section(scenario: Scenario, infra: Infrastructure, est: TrainingEstimate | None) -> Section:
    """Infrastructure section for a scenario with a training job, a serving load, or both."""
    numbers = {k: v for k, v in asdict(infra).items()
               if v is not None and k not in ("training", "serving_load", "datacenter")}
    reasoning: list[str] = []
    bottleneck, recommendation = "", ""
    if infra.training is not None and est is not None:
        numbers.update(_training_numbers(infra.training))
        bottleneck, recommendation = _training_text(scenario, infra.training, est, reasoning)
        reasoning.extend(_build_vs_buy(scenario, infra))
    if infra.serving_load is not None:
        numbers.update({k: v for k, v in asdict(infra.serving_load).items() if v is not None})
        serve_bottleneck = _serving_text(infra.serving_load, reasoning)
        bottleneck = bottleneck or serve_bottleneck
        recommendation = recommendation or (
            "replicas and batching: see the serving section; the compute floor above is the "
            "least the fleet must sustain")
    if infra.datacenter is not None:
        numbers.update(datacenter_text.numbers(infra.datacenter))
        reasoning.extend(datacenter_text.reasoning(infra.datacenter))
    return Section(status="ok", fidelity="model", numbers=numbers, bottleneck=bottleneck,
                   recommendation=recommendation, reasoning=reasoning)


def _training_numbers(t: TrainingNumbers) -> dict[str, object]:
    numbers: dict[str, object | None] = {
        "step_compute_s": t.step_compute_s, "exposed_comm_s": t.exposed_comm_s,
        "step_time_s": t.step_time_s, f"{t.unit}s_per_step": t.units_per_step,
        f"{t.unit}s_per_s": t.units_per_s, "mfu_assumed": t.mfu_assumed,
        "mfu_with_comm": t.mfu_with_comm,
        "arithmetic_intensity_flop_per_byte": t.arithmetic_intensity_flop_per_byte,
        "training_time_s": t.training_time_s, "gpu_hours": t.gpu_hours,
        "energy_kwh": t.energy_kwh, "energy_cost_usd": t.energy_cost_usd,
        "cloud_cost_usd": t.cloud_cost_usd, "owned_cost_usd": t.owned_cost_usd,
        **_memory_numbers(t.memory)}
    return {k: v for k, v in numbers.items() if v is not None}


def _memory_numbers(m: TrainingMemory | None) -> dict[str, object | None]:
    if m is None:
        return {}
    return {"memory_need_bytes_per_gpu": m.need_bytes, "memory_fits": m.fits,
            "memory_shortfall_bytes": m.shortfall_bytes,
            "model_state_bytes_per_gpu": m.model_state_bytes_per_gpu,
            "activation_bytes_per_gpu": m.activation_bytes_per_gpu,
            "needs_recompute": m.needs_recompute}


def _memory_text(m: TrainingMemory) -> str:
    need, hbm = units.format_bytes(m.need_bytes), units.format_bytes(m.hbm_bytes)
    state = units.format_bytes(m.model_state_bytes_per_gpu)
    if m.activation_bytes_per_gpu is None:
        head = (f"memory per GPU: {state} of model state ({m.zero_stage}); activations not "
                "modelled for this workload")
    else:
        head = (f"memory per GPU: {state} of model state ({m.zero_stage}) + "
                f"{units.format_bytes(m.activation_bytes_per_gpu)} of activations for one "
                "sequence")
        if m.needs_recompute:
            head += (f", which does not fit without full recomputation "
                     f"({units.format_bytes(m.recompute_activation_bytes_per_gpu or 0.0)}; "
                     "its extra forward pass is not in the step time)")
    if m.fits:
        return f"{head}: {need} of {hbm} HBM"
    return (f"{head}: {need} does not fit {hbm} HBM "
            f"({units.format_bytes(m.shortfall_bytes)} short)")


def _training_text(scenario: Scenario, t: TrainingNumbers, est: TrainingEstimate,
                   reasoning: list[str]) -> tuple[str, str]:
    reasoning.append(f"compute efficiency {est.mfu_assumed:.0%} ({est.mfu_source})")
    reasoning.append(f"per-GPU step is {est.bound}-bound on the roofline "
                     f"(intensity {est.arithmetic_intensity_flop_per_byte:,.0f} FLOP/byte)")
    if t.memory is not None:
        reasoning.append(_memory_text(t.memory))
    comm_s = t.exposed_comm_s
    if comm_s:
        reasoning.append(f"exposed gradient communication adds {comm_s / t.step_time_s:.1%} "
                         "to the step")
    if t.energy_cost_usd is not None:
        reasoning.append("energy at catalog node power (an upper bound: chips rarely sit at TDP)")
    recommendation = "keep the step compute-bound; raise MFU (kernels, overlap) before adding GPUs"
    if t.training_time_s is not None:
        recommendation = _window_advice(scenario, t.training_time_s) or recommendation
    bound = "communication" if comm_s and comm_s > est.step_compute_s else est.bound
    return f"{bound} (per-GPU step at {est.mfu_assumed:.0%} efficiency)", recommendation


def _window_advice(scenario: Scenario, training_s: float) -> str:
    window = scenario.training.duration_s if scenario.training else None
    if window is None:
        return ""
    if training_s <= window:
        return (f"fits the {window / 86400:.0f}-day window with {1 - training_s / window:.0%} "
                "slack for failures and restarts")
    return (f"does not fit the {window / 86400:.0f}-day window: needs "
            f"{training_s / window:.2f}x the GPUs or efficiency")


def _build_vs_buy(scenario: Scenario, infra: Infrastructure) -> list[str]:
    owned, cloud = infra.owned_usd_per_gpu_h, scenario.prices.cloud_usd_per_gpu_h
    if owned is None or cloud is None:
        return []
    cheaper = "owning" if owned < cloud else "renting"
    return [f"build vs buy: owning costs ${owned:.2f}/GPU-h (purchase amortized + energy) "
            f"against ${cloud:.2f}/GPU-h in the cloud: {cheaper} is cheaper at full use"]


def _serving_text(load: ServingLoad, reasoning: list[str]) -> str:
    fraction = load.serving_compute_fraction_of_peak
    if fraction is None:
        return "not evaluated"
    if fraction < 0.1:
        reasoning.append(f"serving at peak QPS needs {fraction:.2%} of the cluster's dense "
                         "peak: latency and batching, not FLOP/s, will size this fleet")
        return "latency (compute floor is small)"
    reasoning.append(f"serving at peak QPS needs {fraction:.2%} of the cluster's dense peak: "
                     "FLOP/s bound the fleet size")
    return "compute"

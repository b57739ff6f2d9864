"""The chapter's "Model-Specific Inference Characteristics" and "Model-Specific Batching"
tables, computed from the catalog instead of copied.

For one representative workload per family the roofline (at the accelerator's peak and
bandwidth, efficiency 1) gives the batch-1 latency, the arithmetic intensity and the
binding resource, and a family-specific quantity explains the bottleneck the outline
names: decode intensity (LLM), bytes gathered per sample (RecSys, GNN), the batch at
which the model turns compute-bound (vision), sequential decoder passes per audio
window (speech). The outline's own cells (latency target, volume, strategy) are shown
beside the computed ones, marked ``spec_*``, so a reader can check one against the other.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from mlfleet import catalog
from mlfleet.catalog.types import Workload
from mlfleet.infra import roofline as rl
from mlfleet.serving.models.embedding import EmbeddingTables
from mlfleet.serving.models.llm_step import llm_step_model

WORKLOADS = ("DLRM-DCNv2", "ResNet-50", "ViT-L-16", "Llama-3-8B", "Llama-3-70B",
             "Whisper-large", "GraphSAGE-products")
"""Representative catalog workloads, one or two per family."""

SPEC_CHARACTERISTICS: dict[str, tuple[str, str, str]] = {
    "recsys": ("<10ms p99", "Billions/day", "Embedding lookup"),
    "vision": ("20-50ms", "Millions/day", "Compute-bound"),
    "llm": ("100ms-seconds", "Growing", "Memory bandwidth"),
    "speech": ("Real-time", "Variable", "Sequential decode"),
    "gnn": ("(not in the outline)", "", ""),
}
"""The outline's table (spec/volume2-content-plan.md, "Model-Specific Inference
Characteristics"): latency target, request volume, key bottleneck."""

SPEC_BATCHING: dict[str, tuple[str, str]] = {
    "recsys": ("Feature batching", "Parallel feature lookup"),
    "vision": ("Dynamic batching", "Image size variance"),
    "llm": ("Continuous batching", "Sequence length variance"),
    "speech": ("Streaming", "Real-time constraint"),
    "gnn": ("(not in the outline)", ""),
}
"""The outline's "Model-Specific Batching" table: strategy and key consideration."""

LLM_PROMPT_TOKENS = 512
"""Prompt length of the LLM rows (TTFT at batch 1)."""

STATIC_BATCH = 64
"""Batch size of the static-batching waste figure of the LLM rows."""


def _device(accelerator: str, precision: str) -> rl.Device:
    return rl.Device.from_accelerator(accelerator, precision)


def _sample_roofline(w: Workload, device: rl.Device, batch: float,
                     gathered_bytes: float = 0.0, weight_passes: float = 1.0) -> rl.RooflineResult:
    dense = w.active_params if w.family == "recsys" else w.params
    return rl.step_time(flop=w.fwd_flop * batch,
                        mem_bytes=dense * device.bytes_per_element * weight_passes
                        + gathered_bytes * batch,
                        peak_flops_per_s=device.peak_flops_per_s,
                        mem_bw_bytes_per_s=device.mem_bw_bytes_per_s)


def _llm(w: Workload, device: rl.Device, accelerator: str, precision: str) -> dict[str, Any]:
    model = llm_step_model(workload=w, accelerator=accelerator, precision=precision,
                           tp=_min_tp(w, device, accelerator))
    decode = model.decode(batch=1, context_len=LLM_PROMPT_TOKENS)
    prefill = model.prefill(batch=1, prompt_len=LLM_PROMPT_TOKENS)
    return {"latency_batch1_s": float(prefill.time_s), "bound_batch1": str(decode.bound),
            "intensity_flop_per_byte": float(decode.flop_per_gpu / decode.mem_bytes_per_gpu),
            "key_quantity": f"decode: {float(decode.flop_per_gpu / decode.mem_bytes_per_gpu):.2g} "
                            f"FLOP/B vs ridge {device.ridge_point_flop_per_byte:.0f}; "
                            f"{float(decode.time_s) * 1e3:.3g} ms/token at tp={model.tp}",
            "computed_bottleneck": "memory bandwidth" if str(decode.bound) == "memory"
            else str(decode.bound),
            "tp": model.tp}


def _min_tp(w: Workload, device: rl.Device, accelerator: str) -> int:
    hbm = catalog.get(accelerator, kind="accelerator").require("hbm_bytes")
    need = w.params * device.bytes_per_element / (0.9 * float(hbm))
    return 1 << max(0, math.ceil(need) - 1).bit_length()


def _recsys(w: Workload, device: rl.Device) -> dict[str, Any]:
    tables = EmbeddingTables.from_workload(w, bytes_per_element=device.bytes_per_element)
    per_sample = tables.lookups_per_sample * tables.row_bytes
    r = _sample_roofline(w, device, 1.0, gathered_bytes=per_sample)
    crossover = w.active_params * device.bytes_per_element / per_sample
    return {"latency_batch1_s": float(r.time_s), "bound_batch1": str(r.bound),
            "intensity_flop_per_byte": float(r.arithmetic_intensity),
            "key_quantity": f"{per_sample / 1e3:.3g} kB of embedding rows per sample; above "
                            f"{crossover:.0f} samples/batch they outweigh the dense weights",
            "computed_bottleneck": "embedding lookup (memory)" if str(r.bound) == "memory"
            else str(r.bound)}


def _vision(w: Workload, device: rl.Device) -> dict[str, Any]:
    r = _sample_roofline(w, device, 1.0)
    weight_bytes = w.params * device.bytes_per_element
    turn = device.ridge_point_flop_per_byte * weight_bytes / w.fwd_flop
    return {"latency_batch1_s": float(r.time_s), "bound_batch1": str(r.bound),
            "intensity_flop_per_byte": float(r.arithmetic_intensity),
            "key_quantity": f"compute-bound from batch {max(1, math.ceil(turn))} "
                            f"({w.fwd_flop / 1e9:.3g} GFLOP per image)",
            "computed_bottleneck": "compute" if turn <= 8 else str(r.bound)}


def _speech(w: Workload, device: rl.Device) -> dict[str, Any]:
    steps = float(w.shape.get("decoder_seq_len", 1.0))
    r = _sample_roofline(w, device, 1.0, weight_passes=1.0 + 0.5 * steps)
    one_pass = _sample_roofline(w, device, 1.0)
    segment_s = float(w.shape.get("segment_s", 30.0))
    return {"latency_batch1_s": float(r.time_s), "bound_batch1": str(r.bound),
            "intensity_flop_per_byte": float(r.arithmetic_intensity),
            "key_quantity": f"{steps:.0f} sequential decoder passes per {segment_s:.0f} s "
                            f"window: {float(r.time_s) / float(one_pass.time_s):.2g}x one "
                            f"pass; real-time factor {float(r.time_s) / segment_s:.2g}",
            "computed_bottleneck": "sequential decode (memory)"
            if float(r.memory_s) > float(r.compute_s) else "compute"}


def _gnn(w: Workload, device: rl.Device) -> dict[str, Any]:
    gathered = float(catalog.get(w.name, kind="workload").get("bytes_per_sample", 0.0))
    r = _sample_roofline(w, device, 1.0, gathered_bytes=gathered)
    fanout = [int(w.shape.get(f"fanout_{i}", 0)) for i in (1, 2, 3)]
    nodes = 1 + sum(math.prod(fanout[:i + 1]) for i in range(len(fanout)))
    return {"latency_batch1_s": float(r.time_s), "bound_batch1": str(r.bound),
            "intensity_flop_per_byte": float(w.fwd_flop / gathered) if gathered else math.inf,
            "key_quantity": f"{nodes} sampled nodes per seed (fan-out {fanout}), "
                            f"{gathered / 1e3:.3g} kB of features gathered",
            "computed_bottleneck": "neighbourhood feature gathering (memory)"
            if gathered and w.fwd_flop / gathered < device.ridge_point_flop_per_byte
            else "compute"}


_FAMILY: dict[str, Callable[..., dict[str, Any]]] = {
    "recsys": _recsys, "vision": _vision, "speech": _speech, "gnn": _gnn,
}


def characteristics(*, accelerator: str = "H100", precision: str = "bf16",
                    workloads: tuple[str, ...] = WORKLOADS) -> list[dict[str, Any]]:
    """One row per workload: the outline's cells beside the roofline's numbers."""
    device = _device(accelerator, precision)
    rows = []
    for name in workloads:
        w = Workload.from_name(name)
        family = "llm" if w.family in ("llm", "moe") else w.family
        computed = _llm(w, device, accelerator, precision) if family == "llm" \
            else _FAMILY[family](w, device)
        target, volume, bottleneck = SPEC_CHARACTERISTICS.get(family, ("", "", ""))
        rows.append({"family": family, "workload": w.name, "spec_latency_target": target,
                     "spec_volume": volume, "spec_bottleneck": bottleneck, **computed})
    return rows


def _static_waste(batch: int) -> float:
    """Share of slot-steps idle in a static batch of sequences with exponential output
    lengths: the batch runs for the longest, E[max] = mean·H_B (harmonic number)."""
    harmonic = sum(1.0 / k for k in range(1, batch + 1))
    return 1.0 - 1.0 / harmonic


def batching(*, accelerator: str = "H100", precision: str = "bf16",
             workloads: tuple[str, ...] = WORKLOADS) -> list[dict[str, Any]]:
    """One row per workload: the outline's strategy and a computed reason for it."""
    rows = []
    for row in characteristics(accelerator=accelerator, precision=precision,
                               workloads=workloads):
        family = row["family"]
        strategy, consideration = SPEC_BATCHING.get(family, ("", ""))
        rows.append({"family": family, "workload": row["workload"],
                     "spec_strategy": strategy, "spec_consideration": consideration,
                     "recommended": _RECOMMENDED[family],
                     "computed_reason": _reason(family, row)})
    return rows


_RECOMMENDED = {"llm": "continuous batching", "recsys": "feature batching",
                "vision": "dynamic batching", "speech": "streaming",
                "gnn": "dynamic batching of sampled subgraphs"}


def _reason(family: str, row: dict[str, Any]) -> str:
    if family == "llm":
        return (f"static batches of {STATIC_BATCH} with exponential output lengths idle "
                f"{_static_waste(STATIC_BATCH):.0%} of slot-steps waiting for the longest "
                "sequence; iteration-level batching (Orca) refills them")
    return str(row["key_quantity"])

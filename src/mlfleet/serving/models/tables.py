"""The chapter's "Model-Specific Inference Characteristics" and "Model-Specific Batching"
tables, computed from the catalog and the models instead of copied.

For one representative workload per family the roofline (at the accelerator's peak and
bandwidth, efficiency 1) gives the batch-1 latency, the arithmetic intensity and the
binding resource at batch 1; the batch at which the dense part turns compute-bound
comes from the same roofline. A family-specific quantity explains the bottleneck the
outline names: decode intensity (LLM), bytes gathered per sample (RecSys, GNN),
sequential decoder passes per audio window (speech). The outline's own cells (latency
target, volume, strategy) are shown beside the computed ones, marked ``spec_*``, so a
reader can check one against the other: where they differ (the outline calls vision
"compute-bound"; at batch 1 the roofline says weight-bandwidth-bound, compute-bound
from batch 2) the table says what the roofline says and the batch where it changes.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True, kw_only=True)
class Characteristics:
    """One row of the inference-characteristics table (seconds, FLOP, bytes)."""

    family: str
    workload: str
    spec_latency_target: str
    spec_volume: str
    spec_bottleneck: str
    latency_batch1_s: float
    """Roofline latency of one request at batch 1 (LLM: the prefill of the prompt)."""
    bound_batch1: str
    """The roofline's binding resource at batch 1 (LLM: of one decode step)."""
    intensity_flop_per_byte: float
    """Arithmetic intensity at batch 1 (LLM: of one decode step)."""
    compute_bound_from_batch: int | None
    """Smallest batch at which the roofline turns compute-bound; None if it never does
    (gathered bytes grow with the batch as fast as FLOPs) or it is not computed."""
    computed_bottleneck: str
    key_quantity: str
    tp: int | None = None
    """LLM rows: the tensor-parallel degree the weights need."""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, kw_only=True)
class Batching:
    """One row of the batching table."""

    family: str
    workload: str
    spec_strategy: str
    spec_consideration: str
    recommended: str
    computed_reason: str

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _sample_roofline(w: Workload, device: rl.Device, batch: float,
                     gathered_bytes: float = 0.0, weight_passes: float = 1.0) -> rl.RooflineResult:
    """One forward pass of ``batch`` samples: the dense weights once, gathered bytes per sample."""
    return rl.step_time(flop=w.fwd_flop * batch,
                        mem_bytes=_dense_bytes(w, device) * weight_passes + gathered_bytes * batch,
                        peak_flops_per_s=device.peak_flops_per_s,
                        mem_bw_bytes_per_s=device.mem_bw_bytes_per_s)


def _dense_bytes(w: Workload, device: rl.Device) -> float:
    dense = w.active_params if w.family == "recsys" else w.params
    return float(dense * device.bytes_per_element)


def compute_bound_batch(*, flop_per_sample: float, weight_bytes: float,
                        gathered_bytes_per_sample: float, ridge_flop_per_byte: float) -> int | None:
    """Smallest batch b with b·F / (W + b·G) >= ridge, or None when F <= ridge·G.

    The roofline's compute term b·F/peak reaches the memory term (W + b·G)/bw at
    b = ridge·W / (F - ridge·G); a tie counts as compute-bound, as in
    :func:`~mlfleet.infra.roofline.step_time`.
    """
    headroom = flop_per_sample - ridge_flop_per_byte * gathered_bytes_per_sample
    if headroom <= 0:
        return None
    return max(1, math.ceil(ridge_flop_per_byte * weight_bytes / headroom))


def _family_row(w: Workload, device: rl.Device, gathered_bytes: float,
                gathered: str = "") -> dict[str, Any]:
    """The fields every batched (non-LLM) row computes the same way from the roofline."""
    r = _sample_roofline(w, device, 1.0, gathered_bytes=gathered_bytes)
    weight_bytes = _dense_bytes(w, device)
    turn = compute_bound_batch(flop_per_sample=w.fwd_flop, weight_bytes=weight_bytes,
                               gathered_bytes_per_sample=gathered_bytes,
                               ridge_flop_per_byte=device.ridge_point_flop_per_byte)
    bound = str(r.bound)
    if bound == "memory":
        bound = f"memory ({'dense weights' if weight_bytes >= gathered_bytes else gathered})"
    later = "memory-bound at any batch" if turn is None else f"compute-bound from batch {turn}"
    return {"latency_batch1_s": float(r.time_s), "bound_batch1": str(r.bound),
            "intensity_flop_per_byte": float(r.arithmetic_intensity),
            "compute_bound_from_batch": turn,
            "computed_bottleneck": "compute" if turn == 1 else f"{bound} at batch 1; {later}"}


def _llm(w: Workload, device: rl.Device, accelerator: str, precision: str) -> dict[str, Any]:
    model = llm_step_model(workload=w, accelerator=accelerator, precision=precision,
                           tp=_min_tp(w, device, accelerator))
    decode = model.decode(batch=1, context_len=LLM_PROMPT_TOKENS)
    prefill = model.prefill(batch=1, prompt_len=LLM_PROMPT_TOKENS)
    intensity = float(decode.flop_per_gpu / decode.mem_bytes_per_gpu)
    bound = str(decode.bound)
    return {"latency_batch1_s": float(prefill.time_s), "bound_batch1": bound,
            "intensity_flop_per_byte": intensity, "compute_bound_from_batch": None,
            "key_quantity": f"decode: {intensity:.2g} FLOP/B vs ridge "
                            f"{device.ridge_point_flop_per_byte:.0f}; "
                            f"{float(decode.time_s) * 1e3:.3g} ms/token at tp={model.tp}",
            "computed_bottleneck": "memory bandwidth" if bound == "memory" else bound,
            "tp": model.tp}


def _min_tp(w: Workload, device: rl.Device, accelerator: str) -> int:
    """Smallest power-of-two GPU count whose HBM (90% usable) holds the weights."""
    hbm = catalog.get(accelerator, kind="accelerator").require("hbm_bytes")
    need = w.params * device.bytes_per_element / (0.9 * float(hbm))
    return 1 << max(0, math.ceil(need) - 1).bit_length()


def _recsys(w: Workload, device: rl.Device) -> dict[str, Any]:
    tables = EmbeddingTables.from_workload(w, bytes_per_element=device.bytes_per_element)
    per_sample = tables.lookups_per_sample * tables.row_bytes
    row = _family_row(w, device, per_sample, "embedding rows")
    crossover = _dense_bytes(w, device) / per_sample
    row["key_quantity"] = (f"{per_sample / 1e3:.3g} kB of embedding rows per sample; above "
                           f"{crossover:.0f} samples/batch they outweigh the dense weights")
    return row


def _vision(w: Workload, device: rl.Device) -> dict[str, Any]:
    row = _family_row(w, device, 0.0)
    row["key_quantity"] = (f"compute-bound from batch {row['compute_bound_from_batch']} "
                           f"({w.fwd_flop / 1e9:.3g} GFLOP per image; activations not counted)")
    return row


def _speech(w: Workload, device: rl.Device) -> dict[str, Any]:
    steps = float(w.shape.get("decoder_seq_len", 1.0))
    r = _sample_roofline(w, device, 1.0, weight_passes=1.0 + 0.5 * steps)
    one_pass = _sample_roofline(w, device, 1.0)
    segment_s = float(w.shape.get("segment_s", 30.0))
    return {"latency_batch1_s": float(r.time_s), "bound_batch1": str(r.bound),
            "intensity_flop_per_byte": float(r.arithmetic_intensity),
            "compute_bound_from_batch": None,
            "key_quantity": f"{steps:.0f} sequential decoder passes per {segment_s:.0f} s "
                            f"window: {float(r.time_s) / float(one_pass.time_s):.2g}x one "
                            f"pass; real-time factor {float(r.time_s) / segment_s:.2g}",
            "computed_bottleneck": "sequential decode (memory)"
            if float(r.memory_s) > float(r.compute_s) else "compute"}


def _gnn(w: Workload, device: rl.Device) -> dict[str, Any]:
    gathered = float(catalog.get(w.name, kind="workload").get("bytes_per_sample", 0.0))
    row = _family_row(w, device, gathered, "gathered features")
    fanout = [int(w.shape.get(f"fanout_{i}", 0)) for i in (1, 2, 3)]
    nodes = 1 + sum(math.prod(fanout[:i + 1]) for i in range(len(fanout)))
    row["key_quantity"] = (f"{nodes} sampled nodes per seed (fan-out {fanout}), "
                           f"{gathered / 1e3:.3g} kB of features gathered")
    return row


_FAMILY: dict[str, Callable[[Workload, rl.Device], dict[str, Any]]] = {
    "recsys": _recsys, "vision": _vision, "speech": _speech, "gnn": _gnn,
}


def characteristics(*, accelerator: str = "H100", precision: str = "bf16",
                    workloads: tuple[str, ...] = WORKLOADS) -> list[Characteristics]:
    """One row per workload: the outline's cells beside the roofline's numbers."""
    device = rl.Device.from_accelerator(accelerator, precision)
    rows = []
    for name in workloads:
        w = Workload.from_name(name)
        family = "llm" if w.family in ("llm", "moe") else w.family
        computed = _llm(w, device, accelerator, precision) if family == "llm" \
            else _FAMILY[family](w, device)
        target, volume, bottleneck = SPEC_CHARACTERISTICS.get(family, ("", "", ""))
        rows.append(Characteristics(family=family, workload=w.name, spec_latency_target=target,
                                    spec_volume=volume, spec_bottleneck=bottleneck, **computed))
    return rows


def static_batch_waste(batch: int) -> float:
    """Share of slot-steps idle in a static batch of sequences with i.i.d. exponential
    output lengths: the batch runs for the longest, E[max of B] = mean·H_B (harmonic
    number), while the sequences need B·mean slot-steps, so the waste is 1 - 1/H_B."""
    harmonic = sum(1.0 / k for k in range(1, batch + 1))
    return 1.0 - 1.0 / harmonic


_RECOMMENDED = {"llm": "continuous batching", "recsys": "feature batching",
                "vision": "dynamic batching", "speech": "streaming",
                "gnn": "dynamic batching of sampled subgraphs"}
"""The strategy each family's computed bottleneck calls for; the reason column says why."""


def batching(*, accelerator: str = "H100", precision: str = "bf16",
             workloads: tuple[str, ...] = WORKLOADS) -> list[Batching]:
    """One row per workload: the outline's strategy and a computed reason for it."""
    rows = []
    for row in characteristics(accelerator=accelerator, precision=precision,
                               workloads=workloads):
        strategy, consideration = SPEC_BATCHING.get(row.family, ("", ""))
        rows.append(Batching(family=row.family, workload=row.workload, spec_strategy=strategy,
                             spec_consideration=consideration,
                             recommended=_RECOMMENDED[row.family],
                             computed_reason=_reason(row)))
    return rows


def _reason(row: Characteristics) -> str:
    if row.family == "llm":
        return (f"static batches of {STATIC_BATCH} with exponential output lengths idle "
                f"{static_batch_waste(STATIC_BATCH):.0%} of slot-steps waiting for the longest "
                "sequence; iteration-level batching (Orca) refills them")
    return row.key_quantity

"""Replicas and batching for a latency SLO: the serving section of ``mlfleet plan``.

LLMs (token workloads) — continuous batching (Orca, Yu et al. 2022): a replica of tp
GPUs (tp inside one node) keeps up to B sequences in flight. In steady state each
iteration decodes B tokens and, because a sequence lives ``output_tokens`` iterations,
prefills B·prompt/output prompt tokens (chunked prefill, Agrawal et al. 2024, Sarathi):

    τ(B) = iteration time (decode B, prefill B·prompt/output)     = time per output token
    S(B) = output · τ(B)                                          = a slot's service time
    TTFT = wait for a slot + one iteration carrying the prompt

The fleet is an M/M/c queue of replicas·B slots with mean service S (Erlang C,
:mod:`~mlfleet.serving.models.queueing`); the waiting time of M/M/c is conservative for
the near-deterministic service of fixed-length requests. The largest B whose τ(B)
meets the TPOT target and whose KV cache fits is taken, then the fewest replicas whose
p99 TTFT and end-to-end latency (wait p99 + S) meet their targets.

Other workloads (sample units) — dynamic batching: a replica (one GPU, or as many as
the embedding tables need) runs batches of up to b requests (b·items samples) taking
T(b) (roofline of the dense part + :mod:`~mlfleet.serving.models.embedding` for RecSys).
A request waits for its batch to fill, (b-1)/λ_replica at most, then for a replica (M/M/c
on batches), then T(b): p99 ≈ fill + wait p99 + T(b), a sum of percentiles and so an
upper bound. Every b in 1, 2, 4, ... is tried and the one needing the fewest GPUs kept.

LLM steps are built from kernels with the calibrated or sourced kernel model; without kernel
data, and for non-LLM compute, the DEFAULT_* efficiencies (docs/serving-models.md). Fidelity
of every result: "model"."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlfleet.catalog.types import Accelerator, Workload
from mlfleet.checks import one_of, positive, positive_array, whole_array
from mlfleet.errors import ServingInputError
from mlfleet.infra import roofline as rl
from mlfleet.serving.models import queueing as q
from mlfleet.serving.models.embedding import EmbeddingTables, embedding_lookup
from mlfleet.serving.models.kernel_step import serving_kernels
from mlfleet.serving.models.kv_cache import kv_capacity
from mlfleet.serving.models.llm_step import LlmStepModel, link_params, llm_step_model
from mlfleet.serving.models.serving_capacity import ServingCapacity, sized_fleet
from mlfleet.units import format_duration

DEFAULT_MEMORY_EFFICIENCY = 0.6
"""Decode reaches ~57% of HBM bandwidth in NVIDIA NIM 1.8.0's Llama-3.3-70B fp8 TP2 on
2×H100 (ITL 18.6-18.9 ms at concurrency 1 against a 10.7 ms roofline)."""

DEFAULT_COMPUTE_EFFICIENCY = 0.5
"""Prefill reaches 40-49% of peak in the same NIM runs (TTFT 47.8 ms / 500 tokens,
407 ms / 5000 tokens) and 40-69% in TensorRT-LLM 0.5's first-token latencies."""

DEFAULT_BATCH_OVERHEAD_S = 1e-3
"""Fixed cost of one batch outside the roofline (kernel launches, input copies, server
stack) for non-LLM models: NVIDIA's Triton ResNet-50 tables (DeepLearningExamples,
PyTorch/Classification/ConvNets/triton/resnet50) measure 2.1 ms at batch 1 on an A100
whose roofline is ~0.1 ms; 1 ms is the low end of such fixed costs."""

DEFAULT_MAX_UTILIZATION = 0.8
"""Utilisation cap used when the scenario gives no latency target."""

BATCH_CHOICES = tuple(2**i for i in range(11))
"""Batch sizes tried: 1, 2, 4, ..., 1024."""


@dataclass(frozen=True, kw_only=True)
class Traffic:
    """What the plan serves: rates and request sizes."""

    mean_qps: float
    peak_qps: float
    prompt_tokens: int | None
    output_tokens: int | None
    items_per_request: int


@dataclass(frozen=True, kw_only=True)
class Slo:
    """Latency targets; None where the scenario sets none."""

    p99_s: float | None
    ttft_p99_s: float | None
    tpot_p99_s: float | None


def plan_serving(**kwargs: Any) -> dict[str, Any]:
    """:func:`size_serving` as a JSON-ready dict (``mlfleet serving replicas --json``)."""
    return size_serving(**kwargs).as_dict()


def size_serving(*, workload: Workload, accelerator: Accelerator, gpus: int | None,
                 gpus_per_node: int,
                 qps: float, peak_to_mean: float, prompt_tokens: int | None,
                 output_tokens: int | None, items_per_request: int, precision: str,
                 p99_s: float | None, ttft_p99_s: float | None = None,
                 tpot_p99_s: float | None = None) -> ServingCapacity:
    """Replicas, batching, utilisation and predicted latency for a serving load.

    Capacity is sized for the peak rate qps·peak_to_mean. An SLO that no configuration
    meets is an ordinary result (``slo_met`` False), and so is a fleet larger than
    ``gpus`` (``fits`` False); ``gpus`` None is an unbounded pool. Raises ServingInputError for a token workload without
    prompt/output tokens, a load beyond the queueing model's range, or bad numbers.
    """
    if gpus is not None:
        whole_array("gpus", gpus, error=ServingInputError)
    whole_array("gpus_per_node", gpus_per_node, error=ServingInputError)
    one_of("precision", precision, rl.BYTES_PER_ELEMENT, error=ServingInputError)
    mean_qps = float(positive_array("qps", qps, error=ServingInputError))
    peak_qps = mean_qps * float(positive_array("peak_to_mean", peak_to_mean, error=ServingInputError))
    items = int(whole_array("items_per_request", items_per_request, error=ServingInputError))
    traffic = Traffic(mean_qps=mean_qps, peak_qps=peak_qps, prompt_tokens=prompt_tokens,
                      output_tokens=output_tokens, items_per_request=items)
    slo = Slo(p99_s=p99_s, ttft_p99_s=ttft_p99_s, tpot_p99_s=tpot_p99_s)
    for name, value in (("p99_s", p99_s), ("ttft_p99_s", ttft_p99_s), ("tpot_p99_s", tpot_p99_s)):
        if value is not None:
            positive(name, value, error=ServingInputError)
    if workload.unit == "token":
        out = _plan_llm(workload, accelerator, traffic, slo, precision, gpus_per_node)
    else:
        out = _plan_batched(workload, accelerator, traffic, slo, precision, gpus_per_node)
    return sized_fleet(out, peak_qps=traffic.peak_qps, gpus=gpus)


# --------------------------------------------------------------------------- LLMs


def _best(options: list[Any], p99: Any) -> Any:
    """Fewest GPUs among options meeting the SLO; if none does, the lowest p99."""
    met = [o for o in options if o.slo_met]
    if met:
        return min(met, key=lambda o: (o.gpus, p99(o)))
    return min(options, key=lambda o: (p99(o), o.gpus))


@dataclass(frozen=True, kw_only=True)
class _LlmOption:
    tp: int
    batch: int
    replicas: int
    tpot_s: float
    ttft_p50_s: float
    ttft_p99_s: float
    e2e_p50_s: float
    e2e_p99_s: float
    service_s: float
    prefill_iteration_s: float
    utilization: float
    slo_met: bool
    kv_max_batch: int
    bottleneck: str

    @property
    def gpus(self) -> int:
        return self.tp * self.replicas


def _iteration_s(model: LlmStepModel, batch: int, prompt: int, output: int) -> float:
    """τ(B): B decodes at mean context prompt + output/2, plus B·prompt/output prefill."""
    ctx = prompt + output / 2.0
    prefill = batch * prompt / output
    pairs = batch / output * prompt * (prompt + 1.0) / 2.0
    return model.iteration_time_s(batch, batch * ctx, prefill_tokens=prefill, prefill_pairs=pairs)


def _llm_option(model: LlmStepModel, tp: int, batch: int, kv_max_batch: int, traffic: Traffic,
                slo: Slo) -> _LlmOption:
    prompt, output = traffic.prompt_tokens or 1, traffic.output_tokens or 1
    tau = _iteration_s(model, batch, prompt, output)
    first = model.iteration_time_s(batch - 1, (batch - 1) * (prompt + output / 2.0),
                                   prefill_tokens=prompt)
    service = output * tau
    lam, mu = traffic.peak_qps, 1.0 / service
    targets = [t for t in (None if slo.ttft_p99_s is None else slo.ttft_p99_s - first,
                           None if slo.p99_s is None else slo.p99_s - service) if t is not None]
    met = (slo.tpot_p99_s is None or tau <= slo.tpot_p99_s) and all(t >= 0 for t in targets)
    slots = _slots(lam, mu, min(targets) if targets and met else None)
    replicas = max(1, math.ceil(slots / batch))
    c = replicas * batch
    w50, w99 = (float(x) for x in q.wait_percentile_s(np.array([0.5, 0.99]), c, lam, mu))
    return _LlmOption(tp=tp, batch=batch, replicas=replicas, tpot_s=tau, ttft_p50_s=w50 + first,
                      ttft_p99_s=w99 + first, e2e_p50_s=w50 + service, e2e_p99_s=w99 + service,
                      service_s=service, prefill_iteration_s=first, utilization=lam / (c * mu),
                      slo_met=met, kv_max_batch=kv_max_batch,
                      bottleneck=_llm_bottleneck(model, batch, prompt + output / 2.0))


def _llm_bottleneck(model: LlmStepModel, batch: int, context: float) -> str:
    """What binds a decode step: weights, KV cache (both HBM bandwidth), compute or comm."""
    step = model.decode(batch=batch, context_len=context)
    if str(step.bound) != "memory":
        return str(step.bound)
    kv = batch * context * model.kv_bytes_per_token_per_gpu
    return ("HBM bandwidth: KV-cache reads" if kv > model.weight_bytes_per_gpu
            else "HBM bandwidth: weight reads (decode reads every weight each step)")


def _slots(lam: float, mu: float, wait_target_s: float | None) -> int:
    """Servers for a p99 wait target, or for the default utilisation cap without one."""
    if wait_target_s is None:
        return int(q.servers_for_utilization(lam, mu, DEFAULT_MAX_UTILIZATION))
    return q.servers_for_wait(lam, mu, wait_s=wait_target_s, p=0.99)


def _tp_choices(workload: Workload, gpus_per_node: int) -> list[int]:
    heads = rl.TransformerShape.from_workload(workload).n_heads
    return [t for t in (1, 2, 4, 8, 16, 32, 64) if t <= gpus_per_node and heads % t == 0]


def _llm_options(workload: Workload, accelerator: Accelerator, traffic: Traffic, slo: Slo,
                 precision: str, gpus_per_node: int) -> list[_LlmOption]:
    options = []
    ctx = (traffic.prompt_tokens or 0) + (traffic.output_tokens or 0)
    kernels = serving_kernels(accelerator, precision)  # calibrated, else sourced, else legacy
    eff = (None, None) if kernels else (DEFAULT_COMPUTE_EFFICIENCY, DEFAULT_MEMORY_EFFICIENCY)
    for tp in _tp_choices(workload, gpus_per_node):
        model = llm_step_model(workload=workload, accelerator=accelerator, precision=precision,
                               tp=tp, kernels=kernels, compute_efficiency=eff[0],
                               memory_efficiency=eff[1])
        kv_max = int(kv_capacity(model, hbm_bytes=accelerator.hbm_bytes).max_batch(ctx))
        for batch in (b for b in BATCH_CHOICES if b <= kv_max):
            option = _llm_option(model, tp, batch, kv_max, traffic, slo)
            if slo.tpot_p99_s is not None and option.tpot_s > slo.tpot_p99_s and batch > 1:
                break  # τ(B) grows with B: larger batches miss the TPOT target too
            options.append(option)
    return options


def _plan_llm(workload: Workload, accelerator: Accelerator, traffic: Traffic, slo: Slo,
              precision: str, gpus_per_node: int) -> dict[str, Any]:
    if traffic.prompt_tokens is None or traffic.output_tokens is None:
        raise ServingInputError(f"workload {workload.name!r} generates tokens: give "
                                "serving.prompt_tokens and serving.output_tokens")
    options = _llm_options(workload, accelerator, traffic, slo, precision, gpus_per_node)
    if not options:
        raise ServingInputError(f"{workload.name} does not fit on {gpus_per_node} "
                                f"{accelerator.name} GPUs of one node at {precision} with the "
                                "KV cache of one request; use more GPUs per node or fp8")
    best = _best(options, lambda o: o.e2e_p99_s)
    return _llm_result(workload, accelerator, traffic, slo, best, len(options))


def _llm_result(workload: Workload, accelerator: Accelerator, traffic: Traffic, slo: Slo,
                best: _LlmOption, tried: int) -> dict[str, Any]:
    numbers = {
        "replicas": best.replicas, "gpus_per_replica": best.tp, "gpus_needed": best.gpus,
        "tensor_parallel": best.tp, "max_batch_sequences": best.batch,
        "kv_max_batch_sequences": best.kv_max_batch, "peak_qps": traffic.peak_qps,
        "mean_qps": traffic.mean_qps, "utilization_peak": best.utilization,
        "utilization_mean": best.utilization * traffic.mean_qps / traffic.peak_qps,
        "tpot_s": best.tpot_s, "ttft_p50_s": best.ttft_p50_s, "ttft_p99_s": best.ttft_p99_s,
        "p50_s": best.e2e_p50_s, "p99_s": best.e2e_p99_s, "service_time_s": best.service_s,
        "slo_met": best.slo_met}
    reasoning = [
        f"continuous batching: {workload.name} decode is memory-bound, so a step of "
        f"{best.batch} sequences costs {best.tpot_s * 1e3:.3g} ms, little more than one",
        f"tp={best.tp} per replica: " + (
            f"the fewest GPUs among {tried} (tp, batch) options meeting {_targets(slo)}"
            if best.slo_met else f"the lowest p99 among {tried} (tp, batch) options, none of "
            f"which meets {_targets(slo)}") + f" at {traffic.peak_qps:,.4g} QPS peak",
        f"KV cache of {best.kv_max_batch} sequences of {traffic.prompt_tokens} + "
        f"{traffic.output_tokens} tokens fits per replica; batch capped at {best.batch}",
        f"M/M/c over {best.replicas * best.batch} slots, service {best.service_s:.3g} s: "
        f"utilization {best.utilization:.0%} at peak, p99 TTFT {best.ttft_p99_s * 1e3:.3g} ms",
    ]
    unmet = _llm_misses(slo, best)
    return {"numbers": numbers, "bottleneck": best.bottleneck,
            "recommendation": f"{best.replicas} replicas × tp={best.tp} ({best.gpus} GPUs), "
            f"continuous batching up to {best.batch} sequences",
            "reasoning": reasoning + unmet, "unmet": unmet,
            "details": {"batching": {"policy": "continuous", "max_batch": best.batch},
                        "assumptions": _LLM_ASSUMPTIONS, "accelerator": accelerator.name}}


def _targets(slo: Slo) -> str:
    """The latency targets that were set, or the utilisation cap used without any."""
    named = [f"{name} {format_duration(value)}" for name, value in
             (("p99", slo.p99_s), ("p99 TTFT", slo.ttft_p99_s), ("p99 TPOT", slo.tpot_p99_s))
             if value is not None]
    return " and ".join(named) or f"the {DEFAULT_MAX_UTILIZATION:.0%} utilisation cap (no target)"


def _llm_misses(slo: Slo, best: _LlmOption) -> list[str]:
    """One line per target that was set and that no replica count can meet."""
    misses = [(slo.tpot_p99_s, best.tpot_s, "TPOT", "one decode step even at batch 1",
               "use more tensor parallelism or fp8"),
              (slo.ttft_p99_s, best.prefill_iteration_s, "TTFT", "the prompt's iteration "
               "with no queueing", "shorten prompts or use more tensor parallelism"),
              (slo.p99_s, best.service_s, "p99", "the service time of a whole response",
               "shorten outputs or stream")]
    return [f"{name} target {format_duration(target)} cannot be met at any replica count: "
            f"it is below {what} ({format_duration(floor)}); {fix}"
            for target, floor, name, what, fix in misses if target is not None and floor > target]


_LLM_ASSUMPTIONS = [
    "fixed prompt and output lengths; steady-state continuous batching with chunked prefill",
    f"decode at {DEFAULT_MEMORY_EFFICIENCY:.0%} of HBM bandwidth, prefill at "
    f"{DEFAULT_COMPUTE_EFFICIENCY:.0%} of peak (docs/serving-models.md)",
    "M/M/c waiting (conservative for near-deterministic service); p99 = wait p99 + service",
]


# --------------------------------------------------------------------------- other models


def _batch_time_s(workload: Workload, accelerator: Accelerator, samples: float, precision: str,
                  shards: int) -> tuple[float, str]:
    """T(b) for ``samples`` samples on a replica of ``shards`` GPUs, and what binds it."""
    device = rl.Device.from_accelerator(accelerator, precision)
    dense_params = workload.active_params if workload.family == "recsys" else workload.params
    weight_bytes = dense_params * device.bytes_per_element
    per_gpu = samples / shards
    gathered = _gathered_bytes(workload) * per_gpu
    steps, flop = _sequential_steps(workload), workload.fwd_flop * per_gpu
    dense = rl.step_time(flop=flop, mem_bytes=steps * weight_bytes + gathered,
                         peak_flops_per_s=device.peak_flops_per_s,
                         mem_bw_bytes_per_s=device.mem_bw_bytes_per_s,
                         compute_efficiency=DEFAULT_COMPUTE_EFFICIENCY,
                         memory_efficiency=DEFAULT_MEMORY_EFFICIENCY)
    time, bound = float(dense.time_s), str(dense.bound)
    if workload.family == "recsys":
        emb = _embedding_s(workload, accelerator, samples, precision, shards)
        time, bound = time + emb, ("embedding lookup" if emb > time else bound)
    if time < DEFAULT_BATCH_OVERHEAD_S:
        bound = "per-batch overhead"
    return time + DEFAULT_BATCH_OVERHEAD_S, bound


def _gathered_bytes(workload: Workload) -> float:
    """Input bytes a sample gathers from memory: GNN neighbourhood features; else 0."""
    if workload.family == "gnn":
        from mlfleet import catalog

        return float(catalog.get(workload.name, kind="workload").get("bytes_per_sample", 0.0))
    return 0.0


def _sequential_steps(workload: Workload) -> float:
    """Weight reads per sample: a speech decoder reads its half of the weights per token."""
    if workload.family == "speech":
        return 1.0 + 0.5 * float(workload.shape.get("decoder_seq_len", 1.0))
    return 1.0


def _embedding_s(workload: Workload, accelerator: Accelerator, samples: float, precision: str,
                 shards: int) -> float:
    tables = EmbeddingTables.from_workload(workload,
                                           bytes_per_element=rl.BYTES_PER_ELEMENT[precision])
    alpha, bw = link_params(None, accelerator, "shards") if shards > 1 else (0.0, None)
    return embedding_lookup(tables, items=samples, shards=shards,
                            hbm_bw_bytes_per_s=accelerator.hbm_bw_bytes_per_s,
                            link_alpha_s=alpha, link_bw_bytes_per_s=bw,
                            memory_efficiency=DEFAULT_MEMORY_EFFICIENCY).time_s


def _shards(workload: Workload, accelerator: Accelerator, precision: str,
            gpus_per_node: int) -> int:
    """GPUs one replica needs to hold the model (embedding tables for RecSys)."""
    bytes_per_element = rl.BYTES_PER_ELEMENT[precision]
    if workload.family == "recsys":  # the catalog's embedding bytes are at fp32
        need = (workload.embedding_bytes or 0.0) / 4.0 * bytes_per_element \
            + workload.active_params * bytes_per_element
    else:
        need = workload.params * bytes_per_element
    shards = max(1, math.ceil(need / (0.9 * accelerator.hbm_bytes)))
    if shards > gpus_per_node:
        raise ServingInputError(f"{workload.name} needs {shards} {accelerator.name} GPUs at "
                                f"{precision} but a node has {gpus_per_node}")
    return 1 << (shards - 1).bit_length()


@dataclass(frozen=True, kw_only=True)
class _BatchOption:
    batch: int
    replicas: int
    shards: int
    batch_time_s: float
    bound: str
    p50_s: float
    p99_s: float
    utilization: float
    slo_met: bool

    @property
    def gpus(self) -> int:
        return self.replicas * self.shards


def _batch_latency(lam: float, replicas: int, batch: int, t_batch: float) -> tuple[float, float]:
    """(p50, p99) of fill + queue wait on batches + batch time."""
    per_replica = lam / replicas
    fill99, fill50 = 0.99 * (batch - 1) / per_replica, 0.5 * (batch - 1) / per_replica
    w50, w99 = (float(x) for x in q.wait_percentile_s(np.array([0.5, 0.99]), replicas,
                                                      lam / batch, 1.0 / t_batch))
    return fill50 + w50 + t_batch, fill99 + w99 + t_batch


def _batch_option(lam: float, batch: int, t_batch: float, bound: str, shards: int,
                  p99_target: float | None) -> _BatchOption | None:
    """The fewest replicas meeting the p99, or without a target the utilisation cap;
    None when even a stable queue needs more than the queueing model's servers."""
    if lam / batch * t_batch >= q.MAX_SERVERS:
        return None
    if p99_target is None:
        replicas = int(q.servers_for_utilization(lam / batch, 1.0 / t_batch,
                                                 DEFAULT_MAX_UTILIZATION))
    else:
        replicas = _fewest_replicas(lam, batch, t_batch, p99_target)
    p50, p99 = _batch_latency(lam, replicas, batch, t_batch)
    return _BatchOption(batch=batch, replicas=replicas, shards=shards, batch_time_s=t_batch,
                        bound=bound, p50_s=p50, p99_s=p99,
                        utilization=lam / batch * t_batch / replicas,
                        slo_met=p99_target is None or p99 <= p99_target)


def _fewest_replicas(lam: float, batch: int, t_batch: float, target: float) -> int:
    """Smallest replica count with p99 <= target; the p99-minimising count if none.

    p99(c) = queue wait (falls with c) + batch fill (grows with c, as each replica sees
    fewer arrivals) is unimodal: a ternary search finds its minimum, then a bisection the
    first c left of it that meets the target.
    """
    def p99(c: int) -> float:
        return _batch_latency(lam, c, batch, t_batch)[1]

    first = max(1, math.floor(lam / batch * t_batch) + 1)  # smallest stable count
    lo, hi = first, min(q.MAX_SERVERS, 4 * first + 64)
    if batch > 1:  # beyond this the fill time alone exceeds the target
        hi = max(first, min(hi, int(target * lam / (0.99 * (batch - 1)))))
    while hi - lo > 2:
        m1, m2 = lo + (hi - lo) // 3, hi - (hi - lo) // 3
        lo, hi = (lo, m2) if p99(m1) <= p99(m2) else (m1, hi)
    best = min(range(lo, hi + 1), key=p99)
    if p99(best) > target:
        return best
    lo, hi = first - 1, best  # p99 falls on [first, best]: bisect for the first that meets
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if p99(mid) <= target else (mid, hi)
    return hi


def _plan_batched(workload: Workload, accelerator: Accelerator, traffic: Traffic, slo: Slo,
                  precision: str, gpus_per_node: int) -> dict[str, Any]:
    shards = _shards(workload, accelerator, precision, gpus_per_node)
    options = []
    for batch in BATCH_CHOICES:
        t_batch, bound = _batch_time_s(workload, accelerator,
                                       batch * traffic.items_per_request, precision, shards)
        option = _batch_option(traffic.peak_qps, batch, t_batch, bound, shards, slo.p99_s)
        if option is not None:
            options.append(option)
    if not options:
        raise ServingInputError(
            f"serving.qps(={traffic.mean_qps:g}) at {traffic.peak_qps:g} QPS peak needs more "
            f"than {q.MAX_SERVERS:g} replicas at every batch size up to {BATCH_CHOICES[-1]}; "
            "the queueing model sizes fleets up to that")
    best = _best(options, lambda o: o.p99_s)
    return _batched_result(workload, traffic, best)


_POLICY = {"recsys": "feature batching", "vision": "dynamic batching",
           "speech": "streaming", "gnn": "dynamic batching"}


def _batched_result(workload: Workload, traffic: Traffic, best: _BatchOption) -> dict[str, Any]:
    numbers = {
        "replicas": best.replicas, "gpus_per_replica": best.shards, "gpus_needed": best.gpus,
        "max_batch_requests": best.batch,
        "batch_samples": best.batch * traffic.items_per_request,
        "batch_time_s": best.batch_time_s, "peak_qps": traffic.peak_qps,
        "mean_qps": traffic.mean_qps, "utilization_peak": best.utilization,
        "utilization_mean": best.utilization * traffic.mean_qps / traffic.peak_qps,
        "p50_s": best.p50_s, "p99_s": best.p99_s, "slo_met": best.slo_met}
    policy = _POLICY.get(workload.family, "dynamic batching")
    reasoning = [
        f"{policy}: batches of up to {best.batch} requests ({numbers['batch_samples']} "
        f"samples) take {best.batch_time_s * 1e3:.3g} ms, bound by {best.bound}",
        f"{best.replicas} replicas of {best.shards} GPU(s): the fewest GPUs over batch sizes "
        f"{BATCH_CHOICES[0]}-{BATCH_CHOICES[-1]} meeting p99 at {traffic.peak_qps:,.4g} QPS peak",
        f"predicted p50 {best.p50_s * 1e3:.3g} ms, p99 {best.p99_s * 1e3:.3g} ms (fill + "
        f"M/M/c wait on batches + batch time; a sum of percentiles, so an upper bound)",
    ]
    unmet = [] if best.slo_met else ["p99 target cannot be met at any replica count or batch "
                                     f"size: the least it can be is {format_duration(best.p99_s)}"]
    return {"numbers": numbers, "bottleneck": best.bound,
            "recommendation": f"{best.replicas} replica(s) × {best.shards} GPU(s), {policy} "
            f"with max batch {best.batch} requests",
            "reasoning": reasoning + unmet, "unmet": unmet,
            "details": {"batching": {"policy": policy, "max_batch": best.batch},
                        "assumptions": [
                            f"dense compute at {DEFAULT_COMPUTE_EFFICIENCY:.0%} of peak, memory "
                            f"at {DEFAULT_MEMORY_EFFICIENCY:.0%} of bandwidth; activations "
                            "not counted",
                            f"{DEFAULT_BATCH_OVERHEAD_S * 1e3:g} ms fixed cost per batch",
                            "batches fill per replica at the peak rate; M/M/c on batches"]}}

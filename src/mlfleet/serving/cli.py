"""``mlfleet serving``: the serving models — step times, KV cache, queueing, speculation,
embedding lookups, the chapter's tables, and replicas for an SLO (fidelity "model")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
import numpy as np

from mlfleet.catalog.types import PRECISIONS, Accelerator, Workload
from mlfleet.checks import positive
from mlfleet.errors import ConstraintViolation, ServingInputError, UnitError
from mlfleet.infra.accel.types import ENGINE_MODES
from mlfleet.infra.roofline import BYTES_PER_ELEMENT
from mlfleet.units import format_bytes, parse_quantity

_CTX = {"help_option_names": ["-h", "--help"]}


@click.group("serving", context_settings=_CTX)
def serving_group() -> None:
    """Serving models: LLM step time, KV cache, M/M/c queues, speculative decoding,
    embedding lookups, the chapter's tables, and replicas for a latency SLO."""


# --------------------------------------------------------------------------- parsing


def parse_list(text: str, option: str, *, integer: bool = False, minimum: float = 0.0,
               unit: str | None = None) -> list[float]:
    """``'1,8,64'`` (or quantities with ``unit``, e.g. ``'5ms,10ms'``) -> numbers.

    ServingInputError naming the option unless every item parses and is >= minimum
    (and whole when ``integer``).
    """
    items = [t.strip() for t in str(text).split(",")]
    try:
        values = [parse_quantity(t, unit) if unit else float(t) for t in items]
    except (ValueError, UnitError) as exc:
        raise ServingInputError(f"{option} {text!r}: {exc}") from None
    kind = "integers" if integer else "numbers"
    if not values or any(v < minimum or not np.isfinite(v) or (integer and v != int(v))
                         for v in values):
        raise ServingInputError(f"{option} {text!r} must be a comma-separated list of {kind} "
                                f">= {minimum:g}, e.g. 1,8,64")
    return values


def _emit(payload: Any, as_json: bool, render: Callable[[], None]) -> None:
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(payload)
    else:
        render()


def _table(rows: list[dict[str, Any]], columns: list[str], title: str) -> None:
    from mlfleet.report.terminal import format_value, print_table

    def cell(name: str, value: Any) -> str:
        if isinstance(value, float) and name.endswith(("fraction", "utilization", "mfu")):
            return f"{value:.1%}"
        if isinstance(value, bool):
            return "yes" if value else "NO"
        return "0" if value == 0 else format_value(name, value)

    print_table(columns, [[cell(c, r.get(c, "")) for c in columns] for r in rows], title=title)


def _workload_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--workload", "-w", required=True,
                        help="Catalog workload (mlfleet catalog list workload).")(f)


def _accelerator_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--accelerator", "-a", default="H100", show_default=True,
                        help="Catalog accelerator.")(f)


def _precision_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--precision", "-p", type=click.Choice(PRECISIONS), default="bf16",
                        show_default=True, help="Weight / compute precision.")(f)


_json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


# --------------------------------------------------------------------------- step


@serving_group.command("step")
@_workload_option
@_accelerator_option
@_precision_option
@click.option("--kv-precision", type=click.Choice(PRECISIONS), help="KV-cache precision "
              "[--precision].")
@click.option("--tp", default="1", show_default=True, help="Tensor-parallel GPUs; a list sweeps.")
@click.option("--pp", type=click.IntRange(min=1), default=1, show_default=True,
              help="Pipeline stages.")
@click.option("--microbatches", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--phase", type=click.Choice(["decode", "prefill"]), default="decode",
              show_default=True)
@click.option("--batch", default="1", show_default=True, help="Sequences per step; a list sweeps.")
@click.option("--context", type=click.IntRange(min=1), default=2048, show_default=True,
              help="Cached tokens per sequence (decode) or prompt length (prefill).")
@click.option("--engine", type=click.Choice(ENGINE_MODES),
              help="Build the step from kernels issued by a CUDA graph, eager PyTorch, or a "
                   "framework's Python loop [graph when the accelerator has kernel data].")
@click.option("--calibration", type=click.Path(dir_okay=False),
              help="Kernel-model calibration file (mlfleet infra calibrate).")
@click.option("--compute-efficiency", type=float, help="Legacy roofline: fraction of peak.")
@click.option("--memory-efficiency", type=float, help="Legacy roofline: fraction of HBM BW.")
@click.option("--overhead", help="Legacy roofline: fixed per-step overhead, e.g. 2ms.")
@click.option("--allreduce-latency", help="Launch cost of one TP AllReduce beyond the link "
              "latency, e.g. 5us [6.6us, NCCL's, from kernels; 0 on the legacy roofline].")
@_json_option
def step_command(**o: Any) -> None:
    """Time of one prefill or decode step of an LLM replica (tp × pp GPUs), with the terms
    that bound it: compute, memory, kernel floors, host, sync. Any of --compute-efficiency,
    --memory-efficiency, --overhead selects the legacy roofline with those constants.

    \b
    mlfleet serving step -w Llama-3-8B -a H100 --batch 1,8,32,128 --context 1024 --engine graph
    mlfleet serving step -w Llama-3-8B -a H100 --tp 1,2 --batch 1,8,64 --context 2048
    """
    from mlfleet.infra.accel.calibration import using_calibration

    with using_calibration(o["calibration"]):
        rows = [row for tp in parse_list(o["tp"], "--tp", integer=True, minimum=1)
                for row in _step_rows(o, int(tp))]
    kernel = "n_kernels" in rows[0]
    cols = ["tp", "batch", "time_s", "bound", "compute_s", "memory_s",
            *(["kernel_floors_s", "host_s", "sync_s", "n_kernels", "host_ops"] if kernel else []),
            "comm_s", *([] if kernel else ["overhead_s"]),
            *(["bubble_fraction"] if o["pp"] > 1 or not kernel else []),
            "tokens_per_s", "need_bytes", "fits"]
    engine = f"engine {rows[0]['engine']}" if kernel else "legacy roofline"
    title = (f"{o['phase']} step (model, {engine}): {o['workload']} on {o['accelerator']} "
             f"{o['precision']}, pp={o['pp']}, {o['context']} tokens")
    _emit({"fidelity": "model", "phase": o["phase"], "rows": rows}, o["as_json"],
          lambda: _table(rows, cols, title))
    from mlfleet.infra.memory_fit import refuse_unfit

    warning = refuse_unfit(rows, device=o["accelerator"], split="--tp",
                           smallest_key="min_tp_to_fit")
    if warning is not None:
        click.echo(f"warning: {warning}", err=True)


def _step_rows(o: dict[str, Any], tp: int) -> list[dict[str, Any]]:
    """The step's rows at one tp: the prediction, its terms and the memory fit per batch."""
    import dataclasses

    from mlfleet.serving.models.llm_step import llm_step_model

    legacy = {"compute_efficiency": o["compute_efficiency"],
              "memory_efficiency": o["memory_efficiency"],
              "overhead_s": None if o["overhead"] is None else parse_quantity(o["overhead"], "s")}
    if o["calibration"] is not None and any(v is not None for v in legacy.values()):
        raise ServingInputError("--calibration applies to the kernel step model; drop "
                                "--compute-efficiency/--memory-efficiency/--overhead")
    engine = o["engine"] or ("graph" if o["calibration"] else None)
    model = llm_step_model(workload=o["workload"], accelerator=o["accelerator"],
                           precision=o["precision"], kv_precision=o["kv_precision"], tp=tp,
                           pp=o["pp"], engine=engine, **legacy)
    if o["allreduce_latency"] is not None:
        model = dataclasses.replace(model, allreduce_launch_s=parse_quantity(
            o["allreduce_latency"], "s"))
    batch = np.asarray(parse_list(o["batch"], "--batch", integer=True, minimum=1))
    length = {"context_len" if o["phase"] == "decode" else "prompt_len": o["context"]}
    result = getattr(model, o["phase"])(batch=batch, microbatches=o["microbatches"], **length)
    fit = _step_fit(model, o["phase"], batch, o["context"], o["microbatches"])
    engine = {"engine": model.engine} if model.kernels is not None else {}
    return [{"tp": tp, "batch": int(b), **engine, **r, **f}
            for b, r, f in zip(batch, result.rows(), fit, strict=True)]


def _step_fit(model: Any, phase: str, batch: np.ndarray, context: int,
              microbatches: int) -> list[dict[str, Any]]:
    """Weights + KV cache + activations per GPU of each step (:mod:`~.step_memory`)."""
    from mlfleet.serving.models.step_memory import step_memory

    counts = ({"decode_seqs": batch, "decode_context_tokens": batch * context} if
              phase == "decode" else {"prefill_tokens": batch * context})
    fit = step_memory(model, microbatches=microbatches, **counts)
    return fit.rows(smallest_key="min_tp_to_fit") if fit is not None else [{}] * batch.size


# --------------------------------------------------------------------------- kv


@serving_group.command("kv")
@_workload_option
@_accelerator_option
@_precision_option
@click.option("--kv-precision", type=click.Choice(PRECISIONS), help="[--precision]")
@click.option("--tp", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--pp", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--context", type=click.IntRange(min=1), default=8192, show_default=True,
              help="Tokens per sequence for the max-batch figure.")
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True,
              help="Sequences for the max-context figure.")
@click.option("--memory-utilization", type=float, default=0.9, show_default=True,
              help="Share of GPU memory the engine may use (vLLM gpu_memory_utilization).")
@click.option("--block-tokens", type=click.IntRange(min=1), default=16, show_default=True)
@_json_option
def kv_command(**o: Any) -> None:
    """KV bytes per token and how many sequences / how long a context fit.

    \b
    mlfleet serving kv -w Llama-3-70B -a H100 --tp 8 --context 8192
    """
    from mlfleet.serving.models.kv_cache import kv_capacity
    from mlfleet.serving.models.llm_step import llm_step_model

    acc = Accelerator.from_name(o["accelerator"])
    model = llm_step_model(workload=o["workload"], accelerator=acc, precision=o["precision"],
                           kv_precision=o["kv_precision"], tp=o["tp"], pp=o["pp"])
    whole = llm_step_model(workload=o["workload"], accelerator=acc, precision=o["precision"],
                           kv_precision=o["kv_precision"])
    cap = kv_capacity(model, hbm_bytes=acc.hbm_bytes, memory_utilization=o["memory_utilization"],
                      block_tokens=o["block_tokens"])
    out = {"fidelity": "model", "workload": o["workload"], "tp": o["tp"], "pp": o["pp"],
           "kv_bytes_per_token": whole.kv_bytes_per_token_per_gpu, **cap.as_dict(),
           "context_tokens": o["context"], "max_batch": int(cap.max_batch(o["context"])),
           "batch": o["batch"], "max_context_tokens": int(cap.max_context(o["batch"]))}
    _emit(out, o["as_json"], lambda: _print_pairs(out, f"KV cache (model): {o['workload']} on "
                                                    f"{acc.name}, tp={o['tp']} pp={o['pp']}"))
    if not cap.fits:
        fix = ("no --tp fits" if cap.min_tp_to_fit is None
               else f"the smallest --tp that fits is {cap.min_tp_to_fit}")
        raise ConstraintViolation(
            f"does not fit: {o['workload']} at tp={o['tp']} pp={o['pp']} needs "
            f"{format_bytes(cap.shortfall_bytes)} more than the usable "
            f"{format_bytes(cap.usable_bytes)} of each {acc.name} for its weights and one KV "
            f"block; {fix}")


def _print_pairs(values: dict[str, Any], title: str) -> None:
    from mlfleet.report.terminal import format_value, print_table

    rows = [[k, format_value(k, v)] for k, v in values.items() if not isinstance(v, dict | list)]
    print_table(["quantity", "value"], rows, title=title)


# --------------------------------------------------------------------------- erlang


@serving_group.command("erlang")
@click.option("--servers", "-c", required=True, help="Servers; a list sweeps, e.g. 4,8,16.")
@click.option("--utilization", type=float, help="ρ = λ/(cμ) in (0, 1).")
@click.option("--qps", help="Arrival rate λ (instead of --utilization), e.g. 700/s.")
@click.option("--service-time", default="1s", show_default=True,
              help="Mean service time 1/μ, e.g. 10ms.")
@click.option("--percentiles", default="50,99", show_default=True,
              help="Percentiles of waiting and response time.")
@_json_option
def erlang_command(servers: str, utilization: float | None, qps: str | None, service_time: str,
                   percentiles: str, as_json: bool) -> None:
    """M/M/c: P(wait) by Erlang C, mean and percentile waiting and response times.

    \b
    mlfleet serving erlang --servers 8 --utilization 0.9 --service-time 10ms
    """
    from mlfleet.serving.models.queueing import summarize

    if (utilization is None) == (qps is None):
        raise ServingInputError("give exactly one of --utilization and --qps")
    s = positive("--service-time", parse_quantity(service_time, "s"), error=ServingInputError)
    ps = tuple(p / 100.0 for p in parse_list(percentiles, "--percentiles", minimum=0.0))
    rows = []
    for c in parse_list(servers, "--servers", integer=True, minimum=1):
        lam = parse_quantity(qps, "per_s") if qps is not None else float(utilization or 0) \
            * c / s
        rows.append(summarize(servers=int(c), arrival_rate=lam, service_time_s=s,
                              percentiles=ps).as_dict())
    flat = [{**{k: v for k, v in r.items() if not isinstance(v, dict)},
             **{f"wait_{k}_s": v for k, v in r["wait_percentiles_s"].items()},
             **{f"response_{k}_s": v for k, v in r["response_percentiles_s"].items()}}
            for r in rows]
    keys = list(rows[0]["wait_percentiles_s"])
    cols = ["servers", "utilization", "wait_probability", "mean_wait_s",
            *(f"wait_{k}_s" for k in keys), *(f"response_{k}_s" for k in keys)]
    _emit({"fidelity": "model", "model": "M/M/c", "rows": rows}, as_json,
          lambda: _table(flat, cols, f"M/M/c (model), service time {s:g} s"))


# --------------------------------------------------------------------------- speculative


@serving_group.command("speculative")
@click.option("--alpha", default="0.6,0.7,0.8,0.9", show_default=True,
              help="Acceptance rates; a list sweeps.")
@click.option("--k", "ks", default="1,2,3,4,5,6,8", show_default=True, help="Draft lengths.")
@click.option("--cost-ratio", type=float, help="Draft step / target step time (formula mode).")
@click.option("--workload", "-w", help="Target model (model mode, with --draft).")
@click.option("--draft", help="Draft model (model mode).")
@_accelerator_option
@_precision_option
@click.option("--tp", type=click.IntRange(min=1), default=1, show_default=True,
              help="Target tensor parallelism (the draft runs whole on one of its GPUs).")
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--context", type=click.IntRange(min=0), default=1024, show_default=True)
@_json_option
def speculative_command(**o: Any) -> None:
    """Speculative decoding speed-up vs acceptance rate α and draft length k.

    \b
    mlfleet serving speculative --cost-ratio 0.05
    mlfleet serving speculative -w Llama-3-70B --draft Llama-3-8B --tp 8
    """
    from mlfleet.serving.models import speculative as sp

    alphas = parse_list(o["alpha"], "--alpha")
    ks = parse_list(o["ks"], "--k", integer=True, minimum=0)
    a, k = np.meshgrid(np.asarray(alphas), np.asarray(ks), indexing="ij")
    if (o["cost_ratio"] is None) == (o["workload"] is None or o["draft"] is None):
        raise ServingInputError("give --cost-ratio (formula), or --workload and --draft (model)")
    extra: dict[str, np.ndarray] = {}
    if o["cost_ratio"] is not None:
        speed = sp.speedup(a, k, o["cost_ratio"])
    else:
        speed, extra = _speculative_model(o, a, k)
    rows = [{"alpha": float(x), "k": int(y), "tokens_per_step":
             float(sp.expected_tokens_per_step(x, y)), "speedup": float(s),
             **{n: float(v[i, j]) for n, v in extra.items()}}
            for (i, j), (x, y, s) in zip(np.ndindex(a.shape),
                                         zip(a.ravel(), k.ravel(), speed.ravel(), strict=True),
                                         strict=True)]
    cols = ["alpha", "k", "tokens_per_step", "speedup", *extra]
    if o["cost_ratio"] is None:
        fit = _speculative_fit(o, k)
        rows = [{**r, **f} for r, f in zip(rows, fit, strict=True)]
        cols += ["need_bytes", "fits"]
    _emit({"fidelity": "model", "rows": rows}, o["as_json"],
          lambda: _table(rows, cols, "speculative decoding (model, Leviathan et al. 2023)"))
    if o["cost_ratio"] is None:
        from mlfleet.infra.memory_fit import refuse_unfit

        warning = refuse_unfit(rows, device=o["accelerator"], split="--tp",
                               smallest_key="min_tp_to_fit")
        if warning is not None:
            click.echo(f"warning: {warning}", err=True)


def _speculative_fit(o: dict[str, Any], k: np.ndarray) -> list[dict[str, Any]]:
    """Target shard + whole draft per GPU at each k (:func:`~.speculative_memory`)."""
    from mlfleet.serving.models import speculative as sp
    from mlfleet.serving.models.llm_step import llm_step_model

    target, draft = (llm_step_model(workload=w, accelerator=o["accelerator"],
                                    precision=o["precision"], tp=tp)
                     for w, tp in ((o["workload"], o["tp"]), (o["draft"], 1)))
    fit = sp.speculative_memory(target, draft, batch=o["batch"], context_len=o["context"], k=k)
    return fit.rows(smallest_key="min_tp_to_fit") if fit is not None else [{}] * k.size


def _speculative_model(o: dict[str, Any], a: np.ndarray, k: np.ndarray
                       ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    from mlfleet.serving.models import speculative as sp
    from mlfleet.serving.models.llm_step import llm_step_model

    target = llm_step_model(workload=o["workload"], accelerator=o["accelerator"],
                            precision=o["precision"], tp=o["tp"])
    draft = llm_step_model(workload=o["draft"], accelerator=o["accelerator"],
                           precision=o["precision"])
    t = sp.speculative_time(target, draft, batch=o["batch"], context_len=o["context"],
                            alpha=a, k=k)
    return t.speedup, {"time_per_token_s": t.time_per_token_s,
                       "baseline_time_per_token_s": t.baseline_time_per_token_s}


# --------------------------------------------------------------------------- embedding


@serving_group.command("embedding")
@click.option("--workload", "-w", default="DLRM-DCNv2", show_default=True)
@_accelerator_option
@click.option("--precision", "-p", type=click.Choice(PRECISIONS), default="fp16",
              show_default=True)
@click.option("--items", default="64", show_default=True, help="Samples per request; a list.")
@click.option("--shards", default="1,8", show_default=True, help="GPUs holding the tables.")
@click.option("--sharding", type=click.Choice(["table", "row"]), default="table",
              show_default=True)
@click.option("--memory-efficiency", type=float, default=1.0, show_default=True)
@_json_option
def embedding_command(**o: Any) -> None:
    """Embedding-lookup latency of a RecSys request with sharded tables."""
    from mlfleet.serving.models.embedding import EmbeddingTables, embedding_lookup
    from mlfleet.serving.models.llm_step import link_params

    acc = Accelerator.from_name(o["accelerator"])
    tables = EmbeddingTables.from_workload(
        o["workload"], bytes_per_element=BYTES_PER_ELEMENT[o["precision"]])
    rows = []
    for shards in parse_list(o["shards"], "--shards", integer=True, minimum=1):
        alpha, bw = link_params(None, acc, "shards") if shards > 1 else (0.0, None)
        for items in parse_list(o["items"], "--items", integer=True, minimum=1):
            r = embedding_lookup(tables, items=items, shards=int(shards),
                                 hbm_bw_bytes_per_s=acc.hbm_bw_bytes_per_s, link_alpha_s=alpha,
                                 link_bw_bytes_per_s=bw, sharding=o["sharding"],
                                 memory_efficiency=o["memory_efficiency"])
            rows.append({"shards": int(shards), "items": int(items), **r.as_dict()})
    cols = ["shards", "items", "time_s", "bound", "lookup_s", "ids_alltoall_s",
            "pooled_alltoall_s", "gather_bytes", "pooled_bytes", "skew"]
    _emit({"fidelity": "model", "rows": rows}, o["as_json"],
          lambda: _table(rows, cols, f"embedding lookup (model): {o['workload']} on {acc.name}, "
                                     f"{o['sharding']}-wise"))


# --------------------------------------------------------------------------- tables


@serving_group.command("tables")
@_accelerator_option
@_precision_option
@_json_option
def tables_command(accelerator: str, precision: str, as_json: bool) -> None:
    """The chapter's model-specific tables, computed from the catalog beside the outline's."""
    from mlfleet.serving.models import tables

    chars = [r.as_dict() for r in tables.characteristics(accelerator=accelerator,
                                                         precision=precision)]
    batch = [r.as_dict() for r in tables.batching(accelerator=accelerator, precision=precision)]

    def render() -> None:
        _table(chars, ["workload", "spec_latency_target", "spec_bottleneck", "latency_batch1_s",
                       "bound_batch1", "computed_bottleneck", "key_quantity"],
               f"Model-specific inference characteristics (model, {accelerator} {precision})")
        _table(batch, ["workload", "spec_strategy", "recommended", "spec_consideration",
                       "computed_reason"], "Model-specific batching")

    _emit({"fidelity": "model", "characteristics": chars, "batching": batch}, as_json, render)


# --------------------------------------------------------------------------- replicas


@serving_group.command("replicas")
@_workload_option
@_accelerator_option
@_precision_option
@click.option("--qps", required=True, help="Mean request rate, e.g. 50k.")
@click.option("--peak-to-mean", type=float, default=1.0, show_default=True)
@click.option("--slo-p99", help="p99 end-to-end latency target, e.g. 10ms.")
@click.option("--ttft-p99", help="p99 time to first token (LLM), e.g. 500ms.")
@click.option("--tpot-p99", help="p99 time per output token (LLM), e.g. 50ms.")
@click.option("--prompt-tokens", type=click.IntRange(min=1), help="LLM prompt length.")
@click.option("--output-tokens", type=click.IntRange(min=1), help="LLM output length.")
@click.option("--items", type=click.IntRange(min=1), default=1, show_default=True,
              help="Samples per request (RecSys candidates).")
@click.option("--gpus", type=click.IntRange(min=1),
              help="GPUs available [unbounded: no fit check].")
@click.option("--gpus-per-node", type=click.IntRange(min=1), default=8, show_default=True)
@_json_option
def replicas_command(**o: Any) -> None:
    """Replicas and batching that meet a p99 target (M/M/c with the step model's times).

    Exits 3 (after printing the plan) when a target that was set cannot be met at any
    replica count, or when the fleet needs more than --gpus.

    \b
    mlfleet serving replicas -w DLRM-DCNv2 --qps 50k --peak-to-mean 2 --items 64 --slo-p99 10ms
    mlfleet serving replicas -w Llama-3-70B --qps 20 --prompt-tokens 1000 --output-tokens 300 \\
        --ttft-p99 1s --tpot-p99 50ms
    """
    from mlfleet.serving.models.capacity import plan_serving

    def seconds(name: str) -> float | None:
        return None if o[name] is None else parse_quantity(o[name], "s")

    out = plan_serving(workload=Workload.from_name(o["workload"]),
                       accelerator=Accelerator.from_name(o["accelerator"]), gpus=o["gpus"],
                       gpus_per_node=o["gpus_per_node"], qps=parse_quantity(o["qps"], "per_s"),
                       peak_to_mean=o["peak_to_mean"], prompt_tokens=o["prompt_tokens"],
                       output_tokens=o["output_tokens"], items_per_request=o["items"],
                       precision=o["precision"], p99_s=seconds("slo_p99"),
                       ttft_p99_s=seconds("ttft_p99"), tpot_p99_s=seconds("tpot_p99"))
    _emit(out, o["as_json"], lambda: _print_plan(out, o["workload"]))
    problems = [*out["unmet"]] + ([out["reasoning"][-1]] if out["numbers"]["fits"] is False
                                  else [])
    if problems:
        raise ConstraintViolation("; and ".join(problems))


_UNBOUNDED = ("gpus_available", "headroom_gpus", "fits")


def _print_plan(out: dict[str, Any], workload: str) -> None:
    numbers = {k: ("unbounded" if v is None and k in _UNBOUNDED else v)
               for k, v in out["numbers"].items()}
    _print_pairs(numbers, f"serving plan (model): {workload}")
    click.echo(f"recommendation: {out['recommendation']}")
    click.echo(f"bottleneck: {out['bottleneck']}")
    for line in out["reasoning"]:
        click.echo(f"  - {line}")

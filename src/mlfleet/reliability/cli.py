"""``mlfleet reliability``: failure rates by scale, checkpoint intervals and policies,
checkpoint strategies per model, and predictions of published runs (all closed-form models).

``--json`` prints a stable JSON document instead of tables.
"""

from __future__ import annotations

from typing import Any

import click

from mlfleet import units
from mlfleet.reliability import checkpoint_policy, predictions, strategies
from mlfleet.reliability import failures as failure_model
from mlfleet.reliability.checkpoint_interval import daly_interval_s, young_interval_s
from mlfleet.reliability.cli_inputs import (
    checkpoint_bytes,
    checkpoint_options,
    job_options,
    resolve_job,
    setting_for,
)
from mlfleet.reliability.errors import ReliabilityInputError
from mlfleet.reliability.interruption_cost import interruption_cost


def _table(headers: list[str], rows: list[list[Any]], title: str) -> None:
    from mlfleet.report.terminal import print_table

    print_table(headers, rows, title=title)


def _emit(payload: Any) -> None:
    from mlfleet.cli import emit_json

    emit_json(payload)


def _dur(seconds: float) -> str:
    return units.format_duration(seconds)


@click.group("reliability")
def reliability_group() -> None:
    """Fault tolerance models: failure rates, checkpoint intervals and policies, predictions."""


@reliability_group.command("failures")
@click.option("--gpus", "gpus_text", default=",".join(map(str, failure_model.SCALES)),
              show_default=True, help="Cluster sizes, comma-separated.")
@click.option("--gpus-per-node", type=int, default=failure_model.DEFAULT_GPUS_PER_NODE,
              show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def failures_command(gpus_text: str, gpus_per_node: int, as_json: bool) -> None:
    """Failures per day, MTBF and interruption risk by cluster size, per component rates."""
    sizes = _sizes(gpus_text)
    if gpus_per_node < 1:
        raise ReliabilityInputError(f"--gpus-per-node(={gpus_per_node}) must be an integer >= 1")
    rates = failure_model.component_rates(gpus_per_node=gpus_per_node)
    total = failure_model.total_rate_per_gpu_s(rates)
    fleet = failure_model.fleet_rate("fleet-meta-rsc1", gpus_per_node=gpus_per_node)
    ours = failure_model.scale_table(rate_per_gpu_s=total, gpus=sizes)
    rsc = failure_model.scale_table(rate_per_gpu_s=fleet.rate_per_gpu_s, gpus=sizes)
    if as_json:
        _emit({"fidelity": "model", "gpus_per_node": gpus_per_node,
               "rate_per_gpu_s": total, "gpu_mtbf_h": 1.0 / total / 3600.0,
               "components": [vars(r) for r in rates],
               "scales": [vars(r) for r in ours],
               "independent_fleet": {"name": fleet.name, "source": fleet.source,
                                     "scales": [vars(r) for r in rsc]}})
        return
    _table(["GPUs", "failures/day", "MTBF", "P(interrupt)/day", "risk", "RSC-1 failures/day"],
           [[f"{a.gpus:,}", f"{a.failures_per_day:.3g}", _dur(a.mtbf_s),
             f"{a.p_interrupt_per_day:.1%}", a.risk, f"{b.failures_per_day:.3g}"]
            for a, b in zip(ours, rsc, strict=True)],
           "Failure rate by scale (model: catalog component rates in series)")
    _table(["cause", "category", "GPU MTBF (h)", "share"],
           [[r.name, r.category, f"{1.0 / r.rate_per_gpu_s / 3600.0:,.0f}",
             f"{r.rate_per_gpu_s / total:.1%}"] for r in rates],
           f"Components ({gpus_per_node} GPUs per node)")


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ReliabilityInputError(f"--gpus(={text!r}) must be integers >= 1, e.g. 8,64,512"
                                    ) from None
    if not sizes or min(sizes) < 1:
        raise ReliabilityInputError(f"--gpus(={text!r}) must be integers >= 1, e.g. 8,64,512")
    return sizes


@reliability_group.command("interval")
@job_options
@checkpoint_options
@click.option("--price", help="Price per GPU-hour, e.g. $2.50/h (default: the catalog's).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def interval_command(price: str | None, as_json: bool, ckpt_size: str | None,
                     workload: str | None, write_bw: str, read_bw: str | None,
                     **where: Any) -> None:
    """Young's and Daly's checkpoint intervals, goodput, and what an interruption costs."""
    job = resolve_job(**where)
    size, what = checkpoint_bytes(ckpt_size=ckpt_size, workload=workload)
    setting = setting_for(job, ckpt_bytes=size, write_bw=write_bw, read_bw=read_bw)
    sync = checkpoint_policy.sync_policy(setting)
    young = young_interval_s(ckpt_s=sync.stall_s, mtbf_s=job.mtbf_s)
    young_goodput = checkpoint_policy.safe_goodput(interval_s=young, ckpt_s=sync.stall_s,
                                 restart_s=sync.failure_cost_s, mtbf_s=job.mtbf_s)
    cost = interruption_cost(gpus=job.shape.gpus, segment_s=sync.interval_s + sync.stall_s,
                             detection_s=job.detection_s,
                             restart_s=sync.failure_cost_s - job.detection_s, mtbf_s=job.mtbf_s)
    usd_per_h = _price(price, job.usd_per_gpu_h)
    payload = {
        "fidelity": "model", "cluster": job.cluster, "gpus": job.shape.gpus,
        "mtbf_s": job.mtbf_s, "mtbf_source": job.mtbf_source,
        "interruptions_per_day": 86400.0 / job.mtbf_s, "ckpt_bytes": size, "ckpt_bytes_source": what,
        "ckpt_s": sync.stall_s, "failure_cost_s": sync.failure_cost_s,
        "young_interval_s": young, "young_goodput": young_goodput,
        "daly_interval_s": daly_interval_s(ckpt_s=sync.stall_s, mtbf_s=job.mtbf_s),
        "daly_goodput": sync.goodput,
        "interruption": {"lost_work_s": cost.lost_work_s, "downtime_s": cost.downtime_s,
                         "gpu_hours": cost.gpu_hours,
                         "usd": None if usd_per_h is None else cost.usd(usd_per_h),
                         "usd_per_gpu_h": usd_per_h}}
    if as_json:
        _emit(payload)
        return
    _interval_text(payload)


def _price(text: str | None, default: float | None) -> float | None:
    if text is None:
        return default
    from mlfleet.reliability.cli_inputs import quantity

    return quantity(text, "usd_per_h", "--price", allow_zero=True)


def _interval_text(p: dict[str, Any]) -> None:
    cost = p["interruption"]
    _table(["quantity", "value"], [
        ["job MTBF", f"{_dur(p['mtbf_s'])} ({p['interruptions_per_day']:.3g} interruptions/day)"],
        ["checkpoint", f"{units.format_bytes(p['ckpt_bytes'])} written in {_dur(p['ckpt_s'])}"],
        ["Young interval", f"{_dur(p['young_interval_s'])} (goodput {p['young_goodput']:.2%})"],
        ["Daly interval", f"{_dur(p['daly_interval_s'])} (goodput {p['daly_goodput']:.2%})"],
        ["one interruption", f"{_dur(cost['downtime_s'])} lost: {cost['gpu_hours']:,.0f} GPU-h"
         + ("" if cost["usd"] is None else f", ${cost['usd']:,.0f}")],
    ], f"Checkpoint interval, {p['gpus']:,} GPUs (model: Young 1974, Daly 2006)")


@reliability_group.command("policies")
@job_options
@checkpoint_options
@click.option("--snapshot-bw", help="Device-to-host bandwidth per GPU (default PCIe5 x16 peak).")
@click.option("--replicas", type=int, default=2, show_default=True,
              help="In-memory policy: copies of each shard (own included).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def policies_command(snapshot_bw: str | None, replicas: int, as_json: bool,
                     ckpt_size: str | None, workload: str | None, write_bw: str,
                     read_bw: str | None, **where: Any) -> None:
    """Sync vs async vs in-memory (peer-replicated) checkpoints: stall, interval, goodput."""
    job = resolve_job(**where)
    size, what = checkpoint_bytes(ckpt_size=ckpt_size, workload=workload)
    setting = setting_for(job, ckpt_bytes=size, write_bw=write_bw, read_bw=read_bw,
                          snapshot_bw=snapshot_bw, replicas=replicas)
    results = checkpoint_policy.compare(setting)
    if as_json:
        _emit({"fidelity": "model", "gpus": job.shape.gpus, "mtbf_s": job.mtbf_s,
               "ckpt_bytes": size, "ckpt_bytes_source": what,
               "policies": [{**vars(r), "waste": r.waste} for r in results]})
        return
    _table(["policy", "stall", "durable after", "failure cost", "interval", "goodput"],
           [[r.policy, _dur(r.stall_s), _dur(r.durable_after_s), _dur(r.failure_cost_s),
             _dur(r.interval_s), f"{r.goodput:.2%}"] for r in results],
           f"Checkpoint policies, {job.shape.gpus:,} GPUs, {units.format_bytes(size)} "
           f"(model: Daly 2006 per policy)")


@reliability_group.command("strategies")
@click.option("--gpus", type=int, help="One job size for every model (default: typical per kind).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def strategies_command(gpus: int | None, as_json: bool) -> None:
    """The model-specific checkpoint strategies table, computed from the catalog."""
    if gpus is not None and gpus < 1:
        raise ReliabilityInputError(f"--gpus(={gpus}) must be an integer >= 1")
    rows = strategies.strategy_table(gpus=gpus)
    if as_json:
        _emit({"fidelity": "model", "medium": strategies.REFERENCE_MEDIUM,
               "rows": [vars(r) for r in rows]})
        return
    _table(["workload", "model type", "checkpoint", "strategy", "GPUs", "stall", "interval",
            "goodput"],
           [[r.workload, r.model_type, units.format_bytes(r.ckpt_bytes), r.strategy,
             f"{r.gpus:,}", _dur(r.stall_s), _dur(r.interval_s), f"{r.goodput:.2%}"]
            for r in rows], "Model-specific checkpoint strategies (model)")


@reliability_group.command("predict")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def predict_command(as_json: bool) -> None:
    """Llama 3 405B interruptions and goodput, OPT-175B failures: predicted vs published."""
    fit, independent = predictions.llama3_total()
    by_cause = predictions.llama3_by_cause()
    checks = predictions.llama3_by_cause(independent=True)
    goodput = predictions.llama3_goodput()
    opt = predictions.opt175b()
    if as_json:
        _emit({"fidelity": "model", "llama3": {
            "total": [{**vars(c), "error": c.error} for c in (fit, independent)],
            "by_cause": [{**vars(c), "error": c.error} for c in by_cause],
            "independent_by_cause": [{**vars(c), "error": c.error} for c in checks],
            "goodput": vars(goodput)},
            "opt175b": {**vars(opt), "implied_failure_cost_h": opt.implied_failure_cost_s / 3600}})
        return
    rows = [[c.label, c.basis, c.published, f"{c.predicted:.0f}", f"[{c.low}, {c.high}]",
             f"{c.error:+.0%}"] for c in (fit, independent, *checks)]
    _table(["cause", "rates", "published", "predicted", "95% interval", "error"], rows,
           "Llama 3 405B, 54 days on 16,384 H100: unexpected interruptions")
    click.echo(f"effective training time: predicted {goodput.goodput:.1%} (Daly, sync "
               f"checkpoints of {units.format_bytes(goodput.ckpt_bytes)} every "
               f"{_dur(goodput.interval_s)}), published > {goodput.published_min:.0%}")
    click.echo("OPT-175B, 992 A100: predicted " + ", ".join(
        f"{v:.2g}/day ({k})" for k, v in opt.predicted_per_day.items())
        + f" vs ~{opt.published_per_day:g} machines lost/day logged; explaining "
        f"{opt.effective:.0%} effective time needs ~{opt.implied_failure_cost_s / 3600:.1f} h "
        "of downtime per failure")

"""``mlfleet infra``: the roofline of a step on an accelerator, and this host's ceilings."""

from __future__ import annotations

import re
from typing import Any

import click
import numpy as np

from mlfleet import units
from mlfleet.catalog.types import PRECISIONS
from mlfleet.errors import InputError
from mlfleet.infra import memory_fit
from mlfleet.infra import roofline as rl
from mlfleet.infra.accel.types import ENGINE_MODES
from mlfleet.lazy_group import LazyGroup
from mlfleet.units import parse_quantity

_GEMM_RE = re.compile(r"^\s*(\d+)\s*[xX×]\s*(\d+)\s*[xX×]\s*(\d+)\s*$")
_COLUMNS = ("time_s", "bound", "arithmetic_intensity", "mfu", "compute_s", "memory_s",
            "overhead_s", "tokens_per_s", "need_bytes", "fits")


INFRA_COMMANDS: dict[str, tuple[str, str, str]] = {
    "accelerators": ("mlfleet.infra.power.accelerators_cli", "accelerators_command",
                     "Accelerators side by side: FLOP/s per watt, cost per PFLOP, bandwidth use."),
    "power": ("mlfleet.infra.power.cli", "power_group",
              "Datacenter power: PUE, cooling limits, racks, PDUs, capping and throttling."),
    "topology": ("mlfleet.infra.topology.cli", "topology_group",
                 "Network topologies as graphs: bisection, hops, cost, collectives routed (ECMP)."),
    "tco": ("mlfleet.infra.tco.cli", "tco_group",
            "Total cost of ownership: cloud vs on-premises, break-even, power-price sensitivity."),
    "isolation": ("mlfleet.infra.isolation.cli", "isolation_command",
                  "Noisy neighbours: shared memory bandwidth, MIG vs time-slicing."),
    "cases": ("mlfleet.infra.cases.cli", "cases_group",
              "Case studies: Meta's CPU+GPU recommendation stack, Tesla Dojo, GPU-only fallacy."),
    "scheduler": ("mlfleet.infra.scheduling.slurm.cli", "scheduler_group",
                  "Slurm semantics: multifactor priority, fair-share, backfill start times."),
    "transfer": ("mlfleet.infra.accel.transfer_cli", "transfer_command",
                 "Host<->device (PCIe, pinned/pageable) and device<->device (NVLink) copies."),
    "calibrate": ("mlfleet.infra.accel.calibrate_cli", "calibrate_command",
                  "Fit the kernel model to a probe (GPU or this host) into a calibration file."),
}
"""Command name -> (module, attribute, one-line help); roofline and probe are inline."""


@click.group("infra", cls=LazyGroup, registry=INFRA_COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
def infra_group() -> None:
    """Infrastructure: roofline, accelerators, power, topologies, TCO, this host's ceilings."""


def parse_gemm(text: str) -> tuple[int, int, int]:
    """``'4096x4096x8192'`` -> (m, n, k); InputError naming the text otherwise."""
    match = _GEMM_RE.match(text)
    if match is None or min(int(g) for g in match.groups()) < 1:
        raise InputError(f"--gemm {text!r} must look like MxNxK with positive integers, "
                         "e.g. 8192x8192x8192")
    m, n, k = (int(g) for g in match.groups())
    return m, n, k


def parse_counts(text: str, option: str) -> np.ndarray:
    """``'1,8,64'`` -> array([1, 8, 64]); InputError unless every item is an integer >= 1."""
    items = [t.strip() for t in text.split(",")]
    try:
        values = [int(t) for t in items]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise InputError(f"{option} {text!r} must be a comma-separated list of integers >= 1, "
                         "e.g. 1,8,64")
    return np.asarray(values, dtype=np.float64)


def _device(accelerator: str | None, precision: str, peak: str | None,
            mem_bw: str | None) -> rl.Device:
    if accelerator is None and (peak is None or mem_bw is None):
        raise InputError("give --accelerator NAME, or both --peak-flops and --mem-bw")
    name, peak_flops_per_s, mem_bw_bytes_per_s, hbm = "custom", 0.0, 0.0, None
    if accelerator is not None:
        base = rl.Device.from_accelerator(accelerator, precision)
        name, peak_flops_per_s, mem_bw_bytes_per_s, hbm = (
            base.name, base.peak_flops_per_s, base.mem_bw_bytes_per_s, base.hbm_bytes)
    return rl.Device(
        name=name,
        peak_flops_per_s=parse_quantity(peak, "flop_per_s") if peak else peak_flops_per_s,
        mem_bw_bytes_per_s=parse_quantity(mem_bw, "bytes_per_s") if mem_bw else mem_bw_bytes_per_s,
        bytes_per_element=rl.BYTES_PER_ELEMENT[precision], hbm_bytes=hbm)


def _cost(opts: dict[str, Any], device: rl.Device) -> tuple[rl.OpCost, dict[str, np.ndarray]]:
    """The step's cost and the sweep axes to print beside each row."""
    chosen = [k for k in ("gemm", "flop", "workload") if opts[k] is not None]
    if len(chosen) != 1 or (opts["flop"] is None) != (opts["mem_bytes"] is None):
        raise InputError("describe the step with exactly one of --gemm MxNxK, "
                         "--flop and --bytes together, or --workload NAME --phase PHASE")
    if opts["workload"] is None and (opts["batch"] or opts["gpus"]):
        raise InputError("--batch and --gpus sweep a --workload; drop them or add --workload")
    if opts["gemm"] is not None:
        m, n, k = parse_gemm(opts["gemm"])
        return rl.gemm(m, n, k, bytes_per_element=device.bytes_per_element), {}
    if opts["flop"] is not None:
        flop = parse_quantity(opts["flop"], "flop")
        mem = parse_quantity(opts["mem_bytes"], "bytes")
        return rl.OpCost(flop=np.asarray(flop), mem_bytes=np.asarray(mem),
                         model_flop=np.asarray(flop)), {}
    return _workload_cost(opts, device)


def _workload_cost(opts: dict[str, Any], device: rl.Device) -> tuple[rl.OpCost,
                                                                        dict[str, np.ndarray]]:
    shape = rl.TransformerShape.from_workload(opts["workload"])
    seq_len = opts["seq_len"] or shape.seq_len
    if seq_len is None:
        raise InputError(f"workload {opts['workload']!r} has no shape.seq_len; give --seq-len")
    batch = parse_counts(opts["batch"] or "1", "--batch")
    gpus = parse_counts(opts["gpus"] or "1", "--gpus")
    grid_batch, grid_gpus = np.meshgrid(batch, gpus, indexing="ij")  # (batch, gpus)
    cost = rl.llm_cost(opts["phase"], shape, batch=grid_batch, seq_len=seq_len, n_gpus=grid_gpus,
                       bytes_per_param=device.bytes_per_element, recompute=opts["recompute"])
    return cost, {"batch": grid_batch.ravel(), "gpus": grid_gpus.ravel()}


_UNBOUNDED_INTENSITY = "the step moves 0 bytes of memory, so FLOP per byte has no finite value"


@infra_group.command("roofline")
@click.option("--accelerator", "-a", help="Catalog accelerator (e.g. H100).")
@click.option("--precision", "-p", type=click.Choice(PRECISIONS), default="bf16",
              show_default=True)
@click.option("--peak-flops", help="Override the peak, e.g. 500TFLOP/s.")
@click.option("--mem-bw", help="Override the memory bandwidth, e.g. 2TB/s.")
@click.option("--gemm", help="A GEMM step MxNxK (C[m,n] = A[m,k] @ B[k,n]).")
@click.option("--flop", help="A custom step's FLOP (with --bytes), e.g. 1.2e12.")
@click.option("--bytes", "mem_bytes", help="A custom step's memory traffic, e.g. 3GB.")
@click.option("--workload", "-w", help="Catalog LLM workload (with --phase).")
@click.option("--phase", type=click.Choice(rl.PHASES), default="decode", show_default=True)
@click.option("--batch", help="Sequences per step; a list sweeps, e.g. 1,8,64,256.")
@click.option("--gpus", help="GPUs the step is split over; a list sweeps, e.g. 8,64.")
@click.option("--seq-len", type=click.IntRange(min=1),
              help="Train/prefill sequence or decode context length [workload's].")
@click.option("--recompute", is_flag=True, help="Training recomputes activations (HFU > MFU).")
@click.option("--compute-efficiency", type=float, default=1.0, show_default=True,
              help="Fraction of peak FLOP/s the kernels reach.")
@click.option("--memory-efficiency", type=float, default=1.0, show_default=True,
              help="Fraction of peak bandwidth reached.")
@click.option("--overhead", default="0s", show_default=True,
              help="Fixed per-step overhead, e.g. 2ms.")
@click.option("--engine", type=click.Choice(ENGINE_MODES), default="graph", show_default=True,
              help="How the kernel model issues the op: CUDA graph, eager PyTorch, or a "
                   "framework with per-op host cost.")
@click.option("--calibration", type=click.Path(dir_okay=False),
              help="Calibration file (mlfleet infra calibrate) for the kernel model.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def roofline_command(**opts: Any) -> None:
    """Time, binding resource, arithmetic intensity and MFU of one step.

    \b
    mlfleet infra roofline -a H100 -p bf16 --gemm 8192x8192x8192
    mlfleet infra roofline -a H100 --workload llama3-8b --phase decode --batch 1,8,64,256
    """
    device = _device(opts["accelerator"], opts["precision"], opts["peak_flops"], opts["mem_bw"])
    cost, axes = _cost(opts, device)
    result = rl.predict(cost, device, compute_efficiency=opts["compute_efficiency"],
                        memory_efficiency=opts["memory_efficiency"],
                        overhead_s=parse_quantity(opts["overhead"], "s"))
    fit = _memory_fit(opts, device, axes)
    fits = fit.rows() if fit is not None else [{} for _ in range(result.time_s.size)]
    rows = [{**{k: int(v[i]) for k, v in axes.items()}, **row, **fits[i]}
            for i, row in enumerate(result.rows())]
    kernel = _kernel_side(opts, device, cost)
    if isinstance(kernel, tuple):
        rows[0].update(kernel[1])
    if opts["as_json"]:
        from mlfleet.cli import emit_json

        extra = ({"kernel_model": kernel[0]} if isinstance(kernel, tuple) else
                 {"kernel_model": None, "kernel_model_null_reason": kernel} if kernel else {})
        emit_json({"device": device, "fidelity": "model", "rows": rows, **extra},
                  null_reasons={"arithmetic_intensity": _UNBOUNDED_INTENSITY})
    else:
        _print_rows(rows, list(axes), title=_title(device, opts))
        if isinstance(kernel, tuple):
            from mlfleet.infra.accel import roofline_terms_cli as terms

            terms.print_terms(rows[0], result.rows()[0], model=kernel[2], engine=opts["engine"])
        elif kernel:
            click.echo(f"kernel model: none ({kernel})")
    warning = memory_fit.refuse_unfit(rows, device=device.name, split="--gpus")
    if warning is not None:
        click.echo(f"warning: {warning}", err=True)


def _kernel_side(opts: dict[str, Any], device: rl.Device, cost: rl.OpCost
                 ) -> tuple[dict[str, Any], dict[str, Any], Any] | str | None:
    """(model summary, kernel_* row keys, model) of a GEMM or custom step on a catalog
    accelerator; a reason (str) when that accelerator or precision has no kernel data and no
    --calibration; None for a workload step (see `mlfleet serving step`) or a custom device."""
    if opts["workload"] is not None or opts["accelerator"] is None:
        if opts["calibration"] is not None:
            raise InputError("--calibration applies to --gemm or --flop/--bytes steps on an "
                             "--accelerator; for workload steps use mlfleet serving step")
        return None
    from mlfleet.infra.accel import roofline_terms_cli as terms
    from mlfleet.infra.accel.defaults import KernelDataError

    try:
        model = terms.kernel_model_for(opts["accelerator"], opts["precision"], device,
                                       opts["calibration"])
    except KernelDataError as exc:
        if opts["calibration"] is not None:
            raise
        return str(exc)
    rows = parse_gemm(opts["gemm"])[0] if opts["gemm"] is not None else None
    row = terms.kernel_terms(model, cost, engine=opts["engine"], gemm_rows=rows)
    return terms.model_summary(model, opts["engine"]), row, model


def _memory_fit(opts: dict[str, Any], device: rl.Device,
                axes: dict[str, np.ndarray]) -> memory_fit.MemoryFit | None:
    """Weights + state + KV cache + activations per GPU of a workload step; None for a GEMM
    or custom step, or a device of unknown memory."""
    if opts["workload"] is None or device.hbm_bytes is None:
        return None
    shape = rl.TransformerShape.from_workload(opts["workload"])
    seq_len = opts["seq_len"] or shape.seq_len
    assert seq_len is not None  # _workload_cost refused a workload without one
    return memory_fit.llm_memory(
        opts["phase"], shape, batch=axes["batch"], seq_len=seq_len,
        n_gpus=axes["gpus"], bytes_per_param=device.bytes_per_element,
        device_bytes=device.hbm_bytes, recompute=opts["recompute"])



def _title(device: rl.Device, opts: dict[str, Any]) -> str:
    step = (f"GEMM {opts['gemm']}" if opts["gemm"] else
            f"{opts['workload']} {opts['phase']}" if opts["workload"] else "custom step")
    return (f"roofline (model): {step} on {device.name}, peak "
            f"{units.format_flops(device.peak_flops_per_s)}, "
            f"{units.format_rate(device.mem_bw_bytes_per_s)}, ridge "
            f"{device.ridge_point_flop_per_byte:.0f} FLOP/byte")


def _print_rows(rows: list[dict[str, Any]], axes: list[str], *, title: str) -> None:
    from mlfleet.report.terminal import print_table

    columns = [*axes, *(c for c in _COLUMNS if rows[0].get(c) is not None)]
    body = [[_cell(c, row[c]) for c in columns] for row in rows]
    print_table([_HEADERS.get(c, c) for c in columns], body, title=title)


_HEADERS = {"arithmetic_intensity": "FLOP/byte", "mfu": "MFU", "tokens_per_s": "tokens/s",
            "time_s": "time", "compute_s": "compute", "memory_s": "memory",
            "overhead_s": "overhead", "need_bytes": "memory/GPU"}


def _cell(column: str, value: Any) -> str:
    from mlfleet.report.terminal import format_value

    if column == "mfu":
        return f"{value:.1%}"
    if column == "fits":
        return "yes" if value else "NO"
    if column in ("arithmetic_intensity", "tokens_per_s"):
        return "inf" if value == float("inf") else f"{value:,.0f}" if value >= 100 \
            else f"{value:.3g}"
    return "0" if value == 0 else format_value(column, value)


@infra_group.command("probe")
@click.option("--validate", is_flag=True,
              help="Also predict GEMMs and streaming ops with the roofline and time them.")
@click.option("--rounds", type=click.IntRange(min=1), default=5, show_default=True,
              help="Interleaved timing rounds (best of the rounds is kept).")
@click.option("--clock", type=click.Choice(["wall", "cpu"]), default="wall", show_default=True,
              help="Time with the wall clock, or with this process's CPU time (one BLAS "
                   "thread only): on a shared host, time the core spent on others is not "
                   "charged to the op.")
@click.option("--out", type=click.Path(dir_okay=False),
              help="Write a probe file (mlfleet.probe/1: GEMM sweep, copy/reduce, launch, "
                   "decoder steps) of this host for `mlfleet infra calibrate` (2-5 s).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def probe_command(validate: bool, rounds: int, clock: str, out: str | None,
                  as_json: bool) -> None:
    """Measure this host's matmul FLOP/s and memory bandwidth with numpy (about 1 s).

    With --validate, also time GEMMs and streaming ops against their roofline and
    fit the per-call overhead (5-10 s on an idle 2-core host). On a shared host, run
    with OPENBLAS_NUM_THREADS=1 and --clock cpu.
    """
    import time

    from mlfleet.infra import hostprobe

    if clock == "cpu" and hostprobe.blas_threads() != 1:
        raise InputError(f"--clock cpu needs one BLAS thread (BLAS has "
                         f"{hostprobe.blas_threads()}); set OPENBLAS_NUM_THREADS=1")
    timer = time.process_time if clock == "cpu" else time.perf_counter
    if out is not None:
        _export_probe(out, validate=validate, rounds=rounds, clock=timer, as_json=as_json)
        return
    if not validate:
        profile = hostprobe.probe_host(rounds=rounds, clock=timer)
        if as_json:
            from mlfleet.cli import emit_json

            emit_json({"fidelity": "run", "host": profile.as_dict()})
        else:
            _print_profile(profile.as_dict())
        return
    report = hostprobe.validate_on_host(rounds=rounds, clock=timer)
    if as_json:
        from mlfleet.cli import emit_json

        emit_json({**_validation_payload(report), "clock": clock})
        return
    _print_validation(report)


def _export_probe(out: str, *, validate: bool, rounds: int, clock: Any, as_json: bool) -> None:
    """Probe this host into an ``mlfleet.probe/1`` file (written whole or not at all)."""
    from mlfleet.infra.accel.host_probe import probe_this_host
    from mlfleet.infra.accel.json_file import write_json_atomic
    from mlfleet.infra.accel.probe import probe_dict

    if validate:
        raise InputError("--out and --validate are separate runs; give one of them")
    probe = probe_this_host(rounds=rounds, clock=clock)
    write_json_atomic(out, probe_dict(probe))
    if as_json:
        from mlfleet.cli import emit_json

        emit_json({"fidelity": "run", "out": out, "device": vars(probe.device)})
    else:
        click.echo(f"wrote {out}: {len(probe.gemm)} GEMMs, {len(probe.stream)} streams, "
                   f"{len(probe.steps)} steps on {probe.device.name}")


def _op_dict(op: Any) -> dict[str, Any]:
    return {**vars(op), "rel_error": op.rel_error}


def _validation_payload(report: Any) -> dict[str, Any]:
    return {"fidelity": "run vs model", "host": report.profile.as_dict(),
            "rounds": report.rounds, "ops": [_op_dict(op) for op in report.ops],
            "median_abs_rel_error": report.median_abs_rel_error(),
            "calibration": vars(report.calibration),
            "small_gemms": [_op_dict(op) for op in report.small_gemms]}


def _print_profile(profile: dict[str, Any]) -> None:
    from mlfleet.report.terminal import format_value, print_table

    print_table(["measured", "value"], [[k, format_value(k, v)] for k, v in profile.items()],
                title="host ceilings (run)")


def _print_validation(report: Any) -> None:
    from mlfleet.report.terminal import format_value, print_table

    _print_profile(report.profile.as_dict())
    cal = report.calibration
    for ops, title in (
        (report.ops, "roofline (model, efficiency 1, no overhead) vs measured (run); "
                     f"median |error| {report.median_abs_rel_error():.0%}"),
        (report.small_gemms, f"small GEMMs vs calibrated roofline: efficiency "
                             f"{cal.efficiency:.2f}, overhead {format_value('t_s', cal.overhead_s)}"
                             f"/call; median |error| {cal.median_abs_rel_error:.0%}"),
    ):
        print_table(["op", "bound", "predicted", "measured", "error"],
                    [[op.name, op.bound, format_value("t_s", op.predicted_s),
                      format_value("t_s", op.measured_s), f"{op.rel_error:+.0%}"] for op in ops],
                    title=title + "; error = predicted/measured - 1")

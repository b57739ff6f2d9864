"""``mlfleet infra cases``: Meta's CPU+GPU recommendation stack, the GPU-only fallacy, Tesla
Dojo, and electricity pricing (time of use, renewable PPAs)."""

from __future__ import annotations

import dataclasses
from typing import Any

import click

from mlfleet.catalog.types import PRECISIONS

_CTX = {"help_option_names": ["-h", "--help"]}


@click.group("cases", context_settings=_CTX)
def cases_group() -> None:
    """Case studies: Meta's CPU+GPU recommendation stack, Tesla Dojo, GPU-only fallacy."""


def _emit(payload: dict[str, Any]) -> None:
    from mlfleet.cli import emit_json

    emit_json({"fidelity": "model", **payload})


def _table(headers: list[str], rows: list[list[Any]], title: str) -> None:
    from mlfleet.report.terminal import print_table

    print_table(headers, rows, title=title)


def _fmt(name: str, value: Any) -> str:
    from mlfleet.report.terminal import format_value

    return format_value(name, value)


def _bytes(n: float) -> str:
    from mlfleet.units import format_bytes

    return format_bytes(n)


def _quantities(text: str, kind: str, option: str) -> list[float]:
    """``'1TB,10TB'`` -> [1e12, 1e13]; InputError naming the option unless all are > 0."""
    from mlfleet.checks import positive
    from mlfleet.units import parse_quantity

    return [positive(option, parse_quantity(t.strip(), kind)) for t in text.split(",")]


def _numbers(text: str, option: str) -> list[float]:
    from mlfleet.checks import positive
    from mlfleet.errors import InputError

    try:
        values = [float(t) for t in text.split(",")]
    except ValueError:
        raise InputError(f"{option} {text!r} must be a comma-separated list of numbers > 0, "
                         "e.g. 1e5,1e6") from None
    return [positive(option, v) for v in values]


# --------------------------------------------------------------------------- recsys


_RECSYS_OPTS = [
    click.option("--workload", "-w", default="DLRM-DCNv2", show_default=True,
                 help="Catalog recommendation workload."),
    click.option("--cpu", default="host-cpu", show_default=True, help="Catalog host CPU."),
    click.option("--gpu", default="H100", show_default=True, help="Catalog GPU."),
    click.option("--batch", type=click.IntRange(min=1), default=512, show_default=True,
                 help="Samples scored per batch."),
    click.option("--precision", "-p", type=click.Choice(PRECISIONS), default="bf16",
                 show_default=True, help="Precision of the dense MLP (tables stay fp32)."),
]


def _recsys_options(f: Any) -> Any:
    for option in reversed(_RECSYS_OPTS):
        f = option(f)
    return f


@cases_group.command("recsys")
@_recsys_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def recsys_command(workload: str, cpu: str, gpu: str, batch: int, precision: str,
                   as_json: bool) -> None:
    """Where embeddings and the dense MLP run best: CPU, GPU, or split between them.

    \b
    mlfleet infra cases recsys
    mlfleet infra cases recsys --batch 64 -p fp32 --json
    """
    from mlfleet.infra.cases import recsys_hybrid as rh

    shape = rh.RecsysShape.from_workload(workload)
    parts = rh.part_table(shape, cpu=cpu, gpu=gpu, batch=batch, precision=precision)
    splits = [rh.split(s, shape, cpu=cpu, gpu=gpu, batch=batch, precision=precision)
              for s in rh.SPLITS]
    if as_json:
        _emit({"workload": dataclasses.asdict(shape), "parts": [vars(p) for p in parts],
               "splits": [{**dataclasses.asdict(s),
                           "usd_per_million_samples": s.usd_per_million_samples}
                          for s in splits]})
        return
    _table(["part", "device", "needs", "has", "fits", "time/batch", "bound", "FLOP/byte"],
           [[p.part, p.device, _bytes(p.need_bytes), _bytes(p.device_bytes),
             "yes" if p.fits else f"NO ({p.devices_to_fit} needed)", _fmt("t_s", p.time_s),
             p.bound, f"{p.arithmetic_intensity:.3g}"] for p in parts],
           f"{shape.name} at batch {batch} (model, roofline at full efficiency)")
    _table(["split", "CPU sockets", "GPUs", "samples/s", "latency", "bottleneck", "$/h",
            "$ per 1M samples"],
           [[s.split, s.cpu_sockets, s.gpus, f"{s.samples_per_s:,.0f}", _fmt("t_s", s.latency_s),
             s.bottleneck, f"{s.usd_per_h:.2f}", f"{s.usd_per_million_samples:.2e}"]
            for s in splits], "one inference server per placement (owned cost)")


# --------------------------------------------------------------------------- gpu-fallacy


@cases_group.command("gpu-fallacy")
@_recsys_options
@click.option("--tables", default="100GB,1TB,10TB,48TB", show_default=True,
              help="Embedding table sizes to serve (48 TB: 12 trillion fp32 parameters).")
@click.option("--rates", default="1e5,1e6,1e7", show_default=True,
              help="Samples scored per second.")
@click.option("--gpu-rates", default="1000,3000,10000", show_default=True,
              help="Training samples/s one GPU consumes, for the preprocessing table.")
@click.option("--core-rate", type=float,
              help="Preprocessed samples/s per CPU core [measured on this host].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def gpu_fallacy_command(workload: str, cpu: str, gpu: str, batch: int, precision: str,
                        tables: str, rates: str, gpu_rates: str, core_rate: float | None,
                        as_json: bool) -> None:
    """CPU-only vs GPU-only vs hybrid: fleet cost by table size and rate; CPU cores a GPU's
    input pipeline needs.

    \b
    mlfleet infra cases gpu-fallacy
    mlfleet infra cases gpu-fallacy --tables 1TB --rates 1e6 --core-rate 500 --json
    """
    from mlfleet.checks import positive
    from mlfleet.infra.cases import gpu_fallacy as gf

    sizes, qps = _quantities(tables, "bytes", "--tables"), _numbers(rates, "--rates")
    consume = _numbers(gpu_rates, "--gpu-rates")
    per_core, basis = ((positive("--core-rate", core_rate), "given (--core-rate)")
                       if core_rate is not None else
                       (gf.measure_preprocess_rate(), "measured on this host"))
    grid = gf.fleet_grid(table_bytes=sizes, samples_per_s=qps, workload=workload, cpu=cpu,
                         gpu=gpu, batch=batch, precision=precision)
    pre = [{"gpu_samples_per_s": g, "cores_per_gpu": gf.cores_per_gpu(
        gpu_samples_per_s=g, core_samples_per_s=per_core)} for g in consume]
    if as_json:
        _emit({"fleet": [[vars(f) for f in row] for row in grid],
               "preprocessing": {"core_samples_per_s": per_core, "basis": basis, "rows": pre}})
        return
    _print_fleet(grid)
    _table(["GPU consumes", "CPU cores per GPU"],
           [[f"{p['gpu_samples_per_s']:,.0f}/s", f"{p['cores_per_gpu']:.1f}"] for p in pre],
           f"preprocessing at {per_core:,.0f} samples/s per core ({basis}); "
           "a DGX H100 has 14 cores per GPU")


def _print_fleet(grid: list[list[Any]]) -> None:
    rows = []
    for row in grid:
        best = min(row, key=lambda f: f.usd_per_h)
        rows.append([_bytes(row[0].table_bytes), f"{row[0].samples_per_s:.0e}/s",
                     *(f"${f.usd_per_h:,.1f}/h ({f.cpu_sockets}C+{f.gpus}G"
                       f"{', mem' if f.capacity_bound else ''})" for f in row), best.split])
    _table(["tables", "rate", "cpu-only", "gpu-only", "hybrid", "cheapest"], rows,
           "fleet to serve a rate (model): sockets C + GPUs G; 'mem' = memory sets the count")


# --------------------------------------------------------------------------- dojo


@cases_group.command("dojo")
@click.option("--defects-per-cm2", type=float, help="Defect density D0 [TSMC N7: 0.09].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def dojo_command(defects_per_cm2: float | None, as_json: bool) -> None:
    """Tesla Dojo: FLOP/s per watt of the D1 and its tile vs H100, and the yield argument for
    a tile of known-good dies.

    \b
    mlfleet infra cases dojo
    mlfleet infra cases dojo --defects-per-cm2 0.2 --json
    """
    from mlfleet.checks import non_negative
    from mlfleet.infra.cases import dojo

    d0 = None if defects_per_cm2 is None else non_negative("--defects-per-cm2",
                                                            defects_per_cm2)
    rows, y = dojo.efficiency_rows(), dojo.tile_yield(defects_per_cm2=d0)
    if as_json:
        _emit({"efficiency": [{**vars(r), "flops_per_w": r.flops_per_w} for r in rows],
               "yield": vars(y)})
        return
    _table(["unit", "peak bf16", "power", "TFLOP/s per W", "power counts"],
           [[r.name, _fmt("flops_per_s", r.peak_flops_per_s), _fmt("power_w", r.power_w),
             f"{r.flops_per_w / 1e12:.3f}", r.basis] for r in rows], "peak per watt (model)")
    _table(["quantity", "value"], [
        ["defect density D0", f"{y.defects_per_cm2:g} per cm²"],
        ["D1 die area", f"{y.die_area_cm2:g} cm²"],
        ["die yield exp(-D·A)", f"{y.die_yield:.3f}"],
        [f"{y.dies_per_tile}-die monolithic yield", f"{y.monolithic_yield:.3g}"],
        ["D1 dies per 300 mm wafer", str(y.dies_per_wafer)],
        ["wafers per tile, known-good dies", f"{y.wafers_per_tile_known_good:.3g}"],
        ["wafers per tile, one piece", f"{y.wafers_per_tile_monolithic:.3g}"],
    ], "why a tile of known-good dies (Poisson yield)")


def _register() -> None:
    from mlfleet.infra.cases.cli_electricity import electricity_command

    cases_group.add_command(electricity_command)


_register()

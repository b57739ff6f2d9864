"""``mlfleet infra isolation``: noisy neighbours on one accelerator, three ways.

Each ``--job`` is placed on the same accelerator co-located (no isolation), time-sliced,
and on a MIG instance; the table gives each job's throughput relative to running alone
(slowdown = 1/rate), whether the memory fits, and what MIG leaves idle.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import click

from mlfleet.errors import InputError, UnitError
from mlfleet.units import parse_quantity

if TYPE_CHECKING:
    from mlfleet.infra.isolation.compare import IsolationReport

DEFAULT_JOBS = ("chat:workload=Llama-3-8B,phase=decode,batch=8,busy=0.3",
                "embed:intensity=30,busy=0.25,memory=8GB",
                "etl:intensity=2,busy=0.2,memory=4GB")


def _seconds(option: str, text: str, *, allow_zero: bool) -> float:
    try:
        value = parse_quantity(text, "s")
    except UnitError as exc:
        raise UnitError(f"{option}: {exc}") from None
    if not (value > 0 or (allow_zero and value == 0)) or value > 10:
        raise InputError(f"{option}(={text!r}) must be a duration {'>=' if allow_zero else '>'}"
                         " 0 and at most 10s")
    return value


@click.command("isolation")
@click.option("--accelerator", "-a", default="A100-80GB", show_default=True,
              help="Catalog accelerator with MIG profiles (A100-40GB, A100-80GB, H100-SXM, "
                   "H100-PCIe, H200).")
@click.option("--precision", "-p", default="bf16", show_default=True)
@click.option("--job", "jobs", multiple=True,
              help="NAME:intensity=FLOP_PER_BYTE,busy=F,memory=20GB[,profile=3g.40gb] or "
                   "NAME:workload=Llama-3-8B,phase=decode,batch=8,busy=F; repeatable.")
@click.option("--timeslice", default="2ms", show_default=True,
              help="Time-slicing: how long a context holds the device.")
@click.option("--switch", default="100us", show_default=True,
              help="Time-slicing: cost of a context switch (an assumption).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def isolation_command(accelerator: str, precision: str, jobs: tuple[str, ...], timeslice: str,
                      switch: str, as_json: bool) -> None:
    """Noisy neighbours: co-located vs time-sliced vs MIG, per job.

    \b
    mlfleet infra isolation
    mlfleet infra isolation -a H100-SXM --job a:intensity=1,busy=0.8 --job b:intensity=1,busy=0.8
    """
    from mlfleet.infra.isolation import mig
    from mlfleet.infra.isolation.compare import compare
    from mlfleet.infra.isolation.jobs import parse_job
    from mlfleet.infra.roofline import Device

    mig.profiles_of(accelerator)
    device = Device.from_accelerator(accelerator, precision)
    specs = [parse_job(text, bytes_per_element=device.bytes_per_element,
                       device_bytes=device.hbm_bytes or 0.0) for text in jobs or DEFAULT_JOBS]
    report = compare(specs, device, accelerator=accelerator,
                     slice_s=_seconds("--timeslice", timeslice, allow_zero=False),
                     switch_s=_seconds("--switch", switch, allow_zero=True))
    if as_json:
        from mlfleet.cli import emit_json

        emit_json({"fidelity": "model", **dataclasses.asdict(report)},
                  null_reasons={"mig_rate": "no MIG profile holds the job's memory"})
        return
    _print(report)


def _print(report: IsolationReport) -> None:
    from mlfleet.report.terminal import print_table
    from mlfleet.units import format_bytes

    def rate(r: float | None) -> str:
        return "n/a" if r is None else f"{r:.0%} ({1 / r:.2f}x)" if r > 0 else "0"

    print_table(["job", "FLOP/byte", "busy alone", "memory", "bandwidth demand",
                 "co-located", "time-sliced", "MIG profile", "on MIG"],
                [[j.name, f"{j.intensity_flop_per_byte:.3g}", f"{j.busy:.0%}",
                  format_bytes(j.memory_bytes), f"{j.bandwidth_demand_fraction:.0%}",
                  rate(j.colocated_rate), rate(j.timesliced_rate), j.mig_profile or "none fits",
                  rate(j.mig_rate)] for j in report.jobs],
                title=f"isolation (model) on {report.device}: throughput vs alone (slowdown)")
    click.echo(f"memory {'fits' if report.memory_fits_shared else 'does NOT fit'} when shared "
               f"(co-located, time-sliced); MIG mix {'fits' if report.mig_fits else 'does NOT fit'}"
               f", idle: {report.mig_idle_compute_fraction:.0%} of compute, "
               f"{report.mig_idle_bandwidth_fraction:.0%} of bandwidth")

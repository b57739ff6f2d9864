"""``mlfleet infra power``: facility power, power capping, next-generation refresh, bandwidth use."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import click

from mlfleet.catalog.types import PRECISIONS

if TYPE_CHECKING:
    from mlfleet.infra.power.nextgen import NextGen

_COOLING = ("auto", "air", "liquid")


@click.group("power", context_settings={"help_option_names": ["-h", "--help"]})
def power_group() -> None:
    """Datacenter power: PUE, cooling limits, racks, PDUs, capping and throttling."""


def _emit(payload: dict[str, Any]) -> None:
    from mlfleet.cli import emit_json

    emit_json({"fidelity": "model", **payload})


def _table(title: str, rows: list[tuple[str, str, Any]]) -> None:
    """Rows of (label, unit-bearing name that picks the format, value)."""
    from mlfleet.report.terminal import format_value, print_table

    print_table(["quantity", "value"], [[label, format_value(unit, v)] for label, unit, v in rows],
                title=title)


def _watts(text: str | None, option: str) -> float | None:
    from mlfleet.checks import positive
    from mlfleet.units import parse_quantity

    return None if text is None else positive(option, parse_quantity(text, "w"))


def _kilo(value: float | None, option: str, scale: float) -> float | None:
    from mlfleet.checks import positive

    return None if value is None else positive(option, value) * scale


def _price(text: str | None) -> tuple[float, str]:
    from mlfleet.checks import non_negative
    from mlfleet.infra.power.facility import default_electricity_usd_per_kwh
    from mlfleet.units import parse_quantity

    if text is None:
        return default_electricity_usd_per_kwh()
    return non_negative("--price", parse_quantity(text, "usd_per_kwh")), "given (--price)"


def _cluster_args(cluster: str | None, gpus: int | None, accelerator: str | None,
                  gpus_per_node: int, node_power_w: float | None) -> dict[str, Any]:
    from mlfleet.catalog.types import Cluster
    from mlfleet.errors import InputError

    if (cluster is None) == (gpus is None and accelerator is None):
        raise InputError("give --cluster NAME, or --gpus N with --accelerator NAME")
    if cluster is None:
        if gpus is None or accelerator is None:
            raise InputError("--gpus and --accelerator go together")
        return {"accelerator": accelerator, "gpus": gpus, "gpus_per_node": gpus_per_node,
                "node_power_w": node_power_w}
    from mlfleet import catalog

    c = Cluster.from_name(cluster)
    given = catalog.get(c.name, kind="cluster").get("node_power_w")
    return {"accelerator": c.accelerator.name, "gpus": c.gpus, "gpus_per_node": c.gpus_per_node,
            "node_power_w": node_power_w if node_power_w is not None else given}


@power_group.command("facility")
@click.option("--cluster", "-c", help="Catalog cluster (e.g. H100-16k-fat-tree).")
@click.option("--gpus", "-n", type=int, help="Accelerators (with --accelerator).")
@click.option("--accelerator", "-a", help="Catalog accelerator (e.g. H100, B200).")
@click.option("--gpus-per-node", type=int, default=8, show_default=True)
@click.option("--node-power", help="Power of one server, e.g. 10.2kW [catalog, or derived].")
@click.option("--pue", type=float, help="Power usage effectiveness [the cooling type's].")
@click.option("--cooling", type=click.Choice(_COOLING), default="auto", show_default=True)
@click.option("--rack-kw", type=float, help="Rack power limit in kW [the cooling type's].")
@click.option("--price", help="Electricity price, e.g. $0.08/kWh [US industrial average, EIA].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def facility_command(cluster: str | None, gpus: int | None, accelerator: str | None,
                     gpus_per_node: int, node_power: str | None, pue: float | None,
                     cooling: str, rack_kw: float | None, price: str | None,
                     as_json: bool) -> None:
    """IT and facility power, racks and PDUs a cluster needs.

    \b
    mlfleet infra power facility --cluster H100-16k-fat-tree
    mlfleet infra power facility --gpus 4096 -a B200 --cooling liquid --pue 1.15
    """
    from mlfleet.infra.power import facility as fac

    usd_per_kwh, price_source = _price(price)
    args = _cluster_args(cluster, gpus, accelerator, gpus_per_node,
                         _watts(node_power, "--node-power"))
    r = fac.facility_power(**args, pue=pue, cooling=cooling,
                           rack_limit_w=_kilo(rack_kw, "--rack-kw", 1e3))
    energy_usd = fac.annual_energy_usd(r.facility_power_w, usd_per_kwh)
    if as_json:
        _emit({"facility": dataclasses.asdict(r), "usd_per_kwh": usd_per_kwh,
               "price_source": price_source, "energy_usd_per_year_at_full_power": energy_usd})
        return
    _table(f"facility power (model): {r.gpus:,} x {r.accelerator}, {r.cooling}-cooled", [
        ("nodes", "n", r.nodes), ("node power", "_w", r.node_power_w),
        ("node power basis", "text", r.node_power_basis), ("IT power", "_w", r.it_power_w),
        ("PUE", "n", r.pue), ("facility power", "_w", r.facility_power_w),
        ("rack limit", "_w", r.rack_limit_w), ("nodes per rack", "n", r.nodes_per_rack),
        ("racks", "n", r.racks), ("rack power", "_w", r.rack_power_w),
        ("PDU usable power", "_w", r.pdu_usable_w), ("PDUs per rack (N+1)", "n", r.pdus_per_rack),
        ("PDUs", "n", r.pdus), ("electricity $/kWh", "n", usd_per_kwh),
        ("energy at full power", "_usd_per_year", energy_usd)])
    for i, source in enumerate((*r.sources, price_source), 1):
        click.echo(f"[{i}] {source}")


@power_group.command("cap")
@click.option("--accelerator", "-a", required=True, help="Catalog accelerator with a TDP.")
@click.option("--cap", "cap", type=float, required=True, help="Power cap as a fraction of TDP, in (0, 1].")
@click.option("--load", type=float, default=1.0, show_default=True,
              help="The workload's uncapped draw as a fraction of TDP.")
@click.option("--compute-fraction", type=float, default=1.0, show_default=True,
              help="Share of step time that scales with the core clock (compute-bound).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def cap_command(accelerator: str, cap: float, load: float, compute_fraction: float,
                as_json: bool) -> None:
    """Speed and energy under a power cap (or a cooling limit): the DVFS model.

    \b
    mlfleet infra power cap -a H100 --cap 0.7
    mlfleet infra power cap -a H100 --cap 0.7 --compute-fraction 0.3   # mostly memory-bound
    """
    from mlfleet.checks import fraction
    from mlfleet.infra.power.throttling import A40_FIT, power_cap

    fraction("--compute-fraction", compute_fraction)
    r = power_cap(accelerator=accelerator, cap_fraction=cap, load_fraction=load,
                  compute_fraction=compute_fraction)
    if as_json:
        _emit({"cap": dataclasses.asdict(r), "dvfs": dataclasses.asdict(A40_FIT)})
        return
    _table(f"power cap (model): {r.accelerator} at {r.cap_fraction:.0%} of {r.tdp_w:.0f} W", [
        ("cap", "_w", r.cap_w), ("uncapped draw", "_w", r.uncapped_w),
        ("cap binds", "text", "yes" if r.binding else "no"),
        ("clock", "_fraction", r.freq_ratio), ("speed", "_fraction", r.speed_ratio),
        ("slowdown", "n", round(r.slowdown, 3)), ("power drawn", "_w", r.power_w),
        ("energy per unit of work", "_fraction", r.energy_per_work_ratio)])
    click.echo("DVFS model fitted on the Zeus (NSDI'23) A40 power-limit sweep; held-out "
               "median error 2.7 %, worst 24 % (docs/infrastructure-power.md)")
    if not r.validated:
        click.echo("warning: caps below 70 % of TDP were off by up to -53 % on a second GPU "
                   "(V100); treat this speed as a pessimistic bound", err=True)


@power_group.command("nextgen")
@click.option("--from", "old", required=True, help="Accelerator in the facility today.")
@click.option("--to", "new", required=True, help="Next-generation accelerator.")
@click.option("--facility-mw", type=float, required=True, help="Facility power budget in MW.")
@click.option("--gpus-per-node", type=int, default=8, show_default=True)
@click.option("--pue", type=float, help="PUE of the facility [air-cooled hall's].")
@click.option("--rack-kw", type=float, help="Air-cooled rack limit in kW [catalog].")
@click.option("--from-node-power", help="Power of one old server, e.g. 10.2kW [derived].")
@click.option("--to-node-power", help="Power of one new server, e.g. 14.3kW [derived].")
@click.option("--precision", "-p", type=click.Choice(PRECISIONS), default="bf16",
              show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def nextgen_command(old: str, new: str, facility_mw: float, gpus_per_node: int,
                    pue: float | None, rack_kw: float | None, from_node_power: str | None,
                    to_node_power: str | None, precision: str, as_json: bool) -> None:
    """What the next GPU generation does to an existing facility's power budget.

    \b
    mlfleet infra power nextgen --from H100-SXM --to B200 --facility-mw 20
    """
    from mlfleet.infra.power.nextgen import next_generation

    facility_w = _kilo(facility_mw, "--facility-mw", 1e6)
    assert facility_w is not None
    r = next_generation(old=old, new=new, facility_w=facility_w, gpus_per_node=gpus_per_node,
                        pue=pue, rack_limit_w=_kilo(rack_kw, "--rack-kw", 1e3),
                        old_node_w=_watts(from_node_power, "--from-node-power"),
                        new_node_w=_watts(to_node_power, "--to-node-power"), precision=precision)
    if as_json:
        _emit({"nextgen": dataclasses.asdict(r)})
        return
    _print_nextgen(r)


def _print_nextgen(r: NextGen) -> None:
    _table(f"{r.old} -> {r.new} in {r.facility_w / 1e6:.3g} MW at PUE {r.pue:.2f} (model)", [
        ("IT budget", "_w", r.it_budget_w), ("old node power", "_w", r.old_node_w),
        ("new node power", "_w", r.new_node_w), ("old nodes today", "n", r.old_nodes),
        ("old air racks", "n", r.old_racks),
        ("old peak", "flops_per_s", r.old_peak_flops_per_s),
        ("swap: IT power", "_w", r.swap_it_w), ("swap: headroom", "_w", r.swap_headroom_w),
        ("swap: new nodes per air rack", "n", r.new_nodes_per_air_rack),
        ("swap: racks to liquid", "n", r.racks_to_liquid),
        ("or stay in air, capped at", "_fraction", r.capped_fraction),
        ("capped speed", "_fraction", r.capped_speed),
        ("fill the budget: nodes", "n", r.fill_nodes),
        ("fill: peak", "flops_per_s", r.fill_peak_flops_per_s),
        ("iso-compute: nodes", "n", r.iso_nodes), ("iso-compute: IT power", "_w", r.iso_it_w),
        ("iso-compute: freed", "_w", r.iso_freed_w)])


@power_group.command("bandwidth")
@click.option("--accelerator", "-a", default="H100", show_default=True)
@click.option("--precision", "-p", type=click.Choice(PRECISIONS), default="bf16",
              show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def bandwidth_command(accelerator: str, precision: str, as_json: bool) -> None:
    """Memory-bandwidth utilisation by model type (roofline): LLM training and decode,
    a CNN convolution, recommendation embedding lookups.

    \b
    mlfleet infra power bandwidth -a H100
    """
    from mlfleet.infra.power.bandwidth_use import bandwidth_table

    rows = bandwidth_table(accelerator=accelerator, precision=precision)
    if as_json:
        _emit({"rows": [dataclasses.asdict(r) for r in rows]})
        return
    from mlfleet.report.terminal import print_table

    print_table(["model type", "workload", "batch", "FLOP/byte", "ridge", "bound",
                 "bandwidth used", "compute used"],
                [[r.model_type, r.workload, r.batch, f"{r.arithmetic_intensity:,.3g}",
                  f"{r.ridge_flop_per_byte:,.0f}", r.bound, f"{r.bandwidth_utilisation:.1%}",
                  f"{r.compute_utilisation:.1%}"] for r in rows],
                title=f"memory-bandwidth use on {rows[0].accelerator} (roofline model)")

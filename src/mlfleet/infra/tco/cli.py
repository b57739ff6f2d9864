"""``mlfleet infra tco``: owning vs renting GPUs - compare, break-even, power-price sensitivity,
TCO by scale, and the scaling fallacy. Every command is a closed-form model (``--json``)."""

from __future__ import annotations

from typing import Any

import click

from mlfleet import units
from mlfleet.infra.tco import cli_inputs as parse
from mlfleet.infra.tco import tables
from mlfleet.infra.tco.cli_hybrid import hybrid_command
from mlfleet.infra.tco.cli_scaling import scaling_command
from mlfleet.infra.tco.offers import ownership_defaults, spot_terms
from mlfleet.infra.tco.opex import HOURS_PER_YEAR
from mlfleet.infra.tco.ownership import (
    FACILITY_YEARS,
    OwnedCost,
    cloud_price,
)


def _emit(payload: Any) -> None:
    from mlfleet.cli import emit_json

    emit_json(payload)


def _table(headers: list[str], rows: list[list[Any]], title: str) -> None:
    from mlfleet.report.terminal import print_table

    print_table(headers, rows, title=title)


def _usd(value: float) -> str:
    return f"${value:,.0f}" if abs(value) >= 100 else f"${value:,.2f}"


def _big(value: float) -> str:
    """Millions and billions of dollars, for wide tables."""
    if abs(value) >= 1e9:
        return f"${value / 1e9:,.2f}B"
    return f"${value / 1e6:,.2f}M" if abs(value) >= 1e6 else _usd(value)


def _pct(value: float | None) -> str:
    return "-" if value is None else "never" if value == float("inf") else f"{value:.0%}"


def _months(value: float, in_cycle: bool = True) -> str:
    if value == float("inf"):
        return "never"
    return f"{value:.1f}" if in_cycle else f"{value:.1f} (after the refresh)"


def _owned_payload(owned: OwnedCost, u: float) -> dict[str, Any]:
    return {"inputs": owned.inputs, "capex": owned.capex, "opex": owned.opex,
            "capex_usd": owned.capex.total_usd, "hardware_usd": owned.capex.hardware_usd,
            "opex_usd_per_year": owned.opex.total_usd_per_year,
            "usd_per_year": owned.usd_per_year, "tco_usd": owned.tco_usd, "years": owned.years,
            "utilization": u, "owned_usd_per_gpu_h": owned.usd_per_gpu_h(u)}


@click.group("tco")
def tco_group() -> None:
    """Total cost of ownership: cloud vs on-premises, break-even, power-price sensitivity."""


@tco_group.command("compare")
@parse.owned_options
@click.option("--offer", help="Catalog cloud offer (e.g. aws-p5, lambda-h100) [first with "
              "reserved prices].")
@click.option("--cloud-price", help="On-demand price per GPU-hour instead of an offer, "
              "e.g. $2.99/h.")
@click.option("--ckpt", default="2min", show_default=True,
              help="Checkpoint write time of a spot job.")
@click.option("--restart", default="10min", show_default=True,
              help="Restart after a spot preemption (new instances, load checkpoint).")
@click.option("--spot-interruption", type=float,
              help="Fraction of instances reclaimed per month [catalog: 0.125].")
@click.option("--spot-discount", type=float, help="Spot discount off on-demand [catalog: 0.6].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def compare_command(**opts: Any) -> None:
    """Owned cluster vs on-demand, reserved and spot cloud, per used GPU-hour.

    \b
    mlfleet infra tco compare --accelerator H100-SXM --gpus 1024 --utilization 0.6 \\
        --electricity $0.08/kWh --pue 1.3 --years 4
    """
    owned, u = parse.owned_from_options(opts)
    found = parse.with_cloud_price(
        parse.cloud_offer(opts["offer"], owned.inputs.accelerator),
        parse.positive_price(opts["cloud_price"], "usd_per_h", "--cloud-price"))
    terms = spot_terms()
    spot = tables.spot_for(
        found, terms, gpus=owned.inputs.gpus, gpus_per_instance=owned.inputs.gpus_per_node,
        ckpt_s=parse.duration(opts["ckpt"], "--ckpt"),
        restart_s=parse.duration(opts["restart"], "--restart", allow_zero=True),
        interruption_per_month=parse.fraction(opts["spot_interruption"], "--spot-interruption",
                                              open_low=False, open_high=True),
        discount=parse.fraction(opts["spot_discount"], "--spot-discount", open_low=False,
                                open_high=True))
    spot_src = f"{terms.discount_source}; {terms.interruption_source}"
    rows = tables.breakeven_rows(owned, found, utilization=u, spot=spot, spot_source=spot_src)
    if opts["as_json"]:
        _emit({"fidelity": "model", "owned": _owned_payload(owned, u), "offer": found,
               "spot": {**vars(spot), "usd_per_useful_gpu_h": spot.usd_per_useful_gpu_h},
               "tiers": rows})
        return
    _print_owned(owned, u)
    _table(["tier", "list $/GPU-h", "$/used GPU-h", "owned $/used GPU-h", "owning wins above",
            "owning cheaper now", "payback months"],
           [[r.tier, _usd(r.usd_per_gpu_h), _usd(r.usd_per_used_gpu_h),
             _usd(r.owned_usd_per_used_gpu_h),
             "n/a (compare prices)" if r.breakeven_utilization is None
             else _pct(r.breakeven_utilization), "yes" if r.owning_wins else "no",
             _months(r.breakeven_months, r.pays_back_in_cycle)] for r in rows],
           f"Owning {owned.inputs.gpus:,} {owned.inputs.accelerator} vs {found.name} "
           f"(model; utilization {u:.0%}; spot: {_spot_overhead(spot.wall_per_work)})")


def _spot_overhead(wall_per_work: float) -> str:
    if wall_per_work == float("inf"):
        return "the job never finishes between preemptions"
    return f"+{wall_per_work - 1:.1%} hours for preemptions and checkpoints"


def _print_owned(owned: OwnedCost, u: float) -> None:
    c, o, i = owned.capex, owned.opex, owned.inputs
    a = i.assumptions
    notes: list[str] = []

    def cite(key: str) -> str:
        text = i.sources[key]
        if text not in notes:
            notes.append(text)
        return f"[{notes.index(text) + 1}]"

    _table(["item", "USD", "basis"],
           [["accelerators", _usd(c.accelerators_usd),
             f"{i.gpus:,} x {_usd(i.purchase_usd_per_gpu)} {cite('purchase_usd_per_gpu')}"],
            ["servers (host share)", _usd(c.servers_usd),
             f"{_usd(i.server_host_usd_per_gpu)} per GPU {cite('server_host_usd_per_gpu')}"],
            ["network", _usd(c.network_usd), i.network.model],
            ["facility build", _usd(c.facility_usd),
             f"${i.build_usd_per_it_w:.1f} per IT watt {cite('build_usd_per_it_w')}"],
            ["capex", _usd(c.total_usd), ""],
            ["power / year", _usd(o.power_usd_per_year),
             f"{i.it_power_w / 1e6:.2f} MW IT x PUE {i.pue:.2f} x "
             f"${i.electricity_usd_per_kwh:.3f}/kWh {cite('electricity_usd_per_kwh')}"],
            ["staff / year", _usd(o.staff_usd_per_year),
             f"1 admin per {a.gpus_per_admin:g} GPUs x {a.staff_overhead:g} (assumption) "
             f"{cite('sysadmin_salary_usd_per_year')}"],
            ["maintenance / year", _usd(o.maintenance_usd_per_year),
             f"{a.maintenance_fraction_per_year:.0%} of hardware per year (assumption)"],
            ["storage / year", _usd(o.storage_usd_per_year),
             f"{units.format_bytes(a.storage_bytes_per_gpu)} per GPU (assumption) "
             f"{cite('storage_usd_per_gb_month')}"],
            [f"TCO over {owned.years:g} years", _usd(owned.tco_usd),
             f"hardware over the cycle, building over {FACILITY_YEARS:g} years, opex"],
            ["per used GPU-hour", _usd(owned.usd_per_gpu_h(u)), f"at utilization {u:.0%}"]],
           f"Owned cluster: {i.gpus:,} x {i.accelerator} (model)")
    for n, text in enumerate(notes, 1):
        click.echo(f"[{n}] {text}")


@tco_group.command("breakeven")
@parse.owned_options
@click.option("--cloud-prices", help="On-demand prices per GPU-hour to compare, e.g. "
              "$2/h,$4/h,$8/h [every catalog offer for the accelerator].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def breakeven_command(cloud_prices: str | None, as_json: bool, **opts: Any) -> None:
    """Break-even utilization and payback months of owning vs each on-demand price."""
    from mlfleet.infra.tco.offers import cloud_offers

    owned, u = parse.owned_from_options(opts)
    if cloud_prices is not None:
        listed = [(f"given ${p:,.2f}/h", p) for p in parse.prices(
            cloud_prices, "usd_per_h", "--cloud-prices", allow_zero=False)]
    else:
        # On-demand only: a reserved price is paid used or not, so against it the
        # utilization does not decide (``tco compare`` shows the reserved tiers).
        listed = [(o.name, o.on_demand_usd_per_h)
                  for o in cloud_offers(owned.inputs.accelerator)]
    if not listed:
        listed = [("catalog", cloud_price(owned.inputs.accelerator, None)[0])]
    rows = tables.price_rows(owned, listed, utilization=u)
    if as_json:
        _emit({"fidelity": "model", "owned": _owned_payload(owned, u), "rows": rows})
        return
    _table(["pay-per-use price", "$/GPU-h", "break-even utilization",
            f"payback months at {u:.0%}"],
           [[r.label, _usd(r.cloud_usd_per_gpu_h), _pct(r.breakeven_utilization),
             _months(r.payback_months, r.pays_back_in_cycle)] for r in rows],
           f"Break-even: owning {owned.inputs.gpus:,} {owned.inputs.accelerator} at "
           f"{_usd(owned.usd_per_year / owned.inputs.gpus / HOURS_PER_YEAR)} per "
           f"provisioned GPU-hour, {owned.years:g}-year refresh (model)")


@tco_group.command("sensitivity")
@parse.owned_options
@click.option("--prices", "price_list", default="$0.04/kWh,$0.06/kWh,$0.08/kWh,$0.12/kWh,"
              "$0.20/kWh,$0.30/kWh", show_default=True, help="Electricity prices (rows).")
@click.option("--pues", default="1.1,1.3,1.58,2.0", show_default=True, help="PUEs (columns).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def sensitivity_command(price_list: str, pues: str, as_json: bool, **opts: Any) -> None:
    """Owned cost per used GPU-hour across electricity prices and PUEs."""
    from mlfleet.infra.tco.sensitivity import power_sensitivity

    owned, u = parse.owned_from_options(opts)
    grid = power_sensitivity(owned, electricity_usd_per_kwh=parse.prices(
        price_list, "usd_per_kwh", "--prices"), pue=parse.numbers(pues, "--pues", minimum=1.0),
        utilization=u)
    if as_json:
        _emit({"fidelity": "model", "owned": _owned_payload(owned, u), "sensitivity": grid})
        return
    _table(["$/kWh", *(f"PUE {p:g}" for p in grid.pue)],
           [[f"${e:.3f}", *(f"{_usd(v)} ({share:.0%} power)" for v, share in
                            zip(grid.usd_per_gpu_h[i], grid.power_fraction[i], strict=True))]
            for i, e in enumerate(grid.electricity_usd_per_kwh)],
           f"Owned $/used GPU-hour, {owned.inputs.gpus:,} {owned.inputs.accelerator}, "
           f"utilization {u:.0%} (model; share of cost that is power)")


@tco_group.command("scale")
@parse.owned_options
@click.option("--scales", default=",".join(map(str, tables.SCALES)), show_default=True,
              help="Cluster sizes in GPUs.")
@click.option("--cloud-price", help="On-demand price per GPU-hour [catalog offer].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def scale_command(scales: str, cloud_price: str | None, as_json: bool, **opts: Any) -> None:
    """TCO by deployment scale: capex, opex, TCO, owned $/GPU-hour, break-even."""
    from mlfleet.infra.tco.ownership import cloud_price as catalog_price

    u = parse.fraction(opts["utilization"], "--utilization")
    assert u is not None
    given = parse.positive_price(cloud_price, "usd_per_h", "--cloud-price")
    price, price_src = catalog_price(opts["accelerator"], given)
    defaults = ownership_defaults()
    rows = tables.scale_rows(
        accelerator=opts["accelerator"], scales=tuple(parse.counts(scales, "--scales")),
        gpus_per_node=opts["gpus_per_node"], utilization=u, cloud_usd_per_gpu_h=price,
        defaults=defaults,
        electricity_usd_per_kwh=parse.price(opts["electricity"], "usd_per_kwh", "--electricity"),
        pue=opts["pue"], amortization_s=parse.years(opts["years"]),
        purchase_usd_per_gpu=parse.price(opts["purchase_price"], "usd", "--purchase-price"),
        assumptions=parse.assumptions(opts))
    if as_json:
        _emit({"fidelity": "model", "utilization": u, "cloud_usd_per_gpu_h": price,
               "cloud_source": price_src, "rows": rows,
               "published_source": defaults.sources["reference_usd_per_gpu_all_in"]})
        return
    _table(["GPUs", "capex", "hardware/GPU", "published hw/GPU", "facility MW", "opex/year",
            "TCO (cycle)", "owned $/GPU-h", "break-even u"],
           [[f"{r.gpus:,}", _big(r.capex_usd), _usd(r.hardware_usd_per_gpu),
             "-" if r.published_hardware_usd_per_gpu is None
             else _usd(r.published_hardware_usd_per_gpu),
             f"{r.facility_power_w / 1e6:.2f}", _big(r.opex_usd_per_year), _big(r.tco_usd),
             _usd(r.owned_usd_per_gpu_h), _pct(r.breakeven_utilization)] for r in rows],
           f"TCO by deployment scale, {opts['accelerator']} (model; utilization {u:.0%}; "
           f"vs on-demand {_usd(price)}/GPU-h)")


tco_group.add_command(scaling_command)
tco_group.add_command(hybrid_command)

"""``mlfleet infra cases electricity``: time-of-use shifting and renewable PPAs vs the grid."""

from __future__ import annotations

from typing import Any

import click


def _price(text: str | None, option: str) -> float | None:
    from mlfleet.checks import non_negative
    from mlfleet.units import parse_quantity

    return None if text is None else non_negative(option, parse_quantity(text, "usd_per_kwh"))


def _power(text: str, option: str) -> float:
    from mlfleet.checks import positive
    from mlfleet.units import parse_quantity

    return positive(option, parse_quantity(text, "w"))


def _default_peak_hours() -> tuple[float, str]:
    from mlfleet import catalog

    entry = catalog.get("tou-pge-periods", kind="facility")
    hours = float(entry.require("peak_end_hour") - entry.require("peak_start_hour"))
    return hours, entry.values["peak_start_hour"].source


@click.command("electricity", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--load", "load", default="1MW", show_default=True,
              help="Average facility power (IT x PUE), e.g. 1MW.")
@click.option("--capacity", help="Most the facility may draw [load x 1.25].")
@click.option("--deferrable", type=float, default=0.5, show_default=True,
              help="Fraction of the load that can wait (checkpointable training), in [0, 1].")
@click.option("--peak-price", required=True, help="Peak energy price, e.g. $0.30/kWh.")
@click.option("--off-peak-price", required=True, help="Off-peak energy price, e.g. $0.12/kWh.")
@click.option("--peak-hours", type=float,
              help="Peak hours a day [5: PG&E's 4-9 p.m. business TOU period].")
@click.option("--grid-price", help="Flat grid price to set PPAs against [US industrial avg].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def electricity_command(load: str, capacity: str | None, deferrable: float, peak_price: str,
                        off_peak_price: str, peak_hours: float | None, grid_price: str | None,
                        as_json: bool) -> None:
    """Time-of-use: the saving from moving deferrable work off-peak; renewable PPAs vs the
    grid in cost and CO2.

    \b
    mlfleet infra cases electricity --peak-price '$0.30/kWh' --off-peak-price '$0.12/kWh'
    mlfleet infra cases electricity --load 20MW --deferrable 0.7 \\
        --peak-price '$0.25/kWh' --off-peak-price '$0.08/kWh' --json
    """
    from mlfleet.infra.power.facility import default_electricity_usd_per_kwh
    from mlfleet.infra.tco import electricity as el

    load_w = _power(load, "--load")
    cap_w = _power(capacity, "--capacity") if capacity is not None else 1.25 * load_w
    hours, hours_source = (peak_hours, "given (--peak-hours)") if peak_hours is not None \
        else _default_peak_hours()
    tariff = el.Tariff(peak_usd_per_kwh=_price(peak_price, "--peak-price") or 0.0,
                       off_peak_usd_per_kwh=_price(off_peak_price, "--off-peak-price") or 0.0,
                       peak_hours=hours)
    shift = el.shift_off_peak(load_w=load_w, capacity_w=cap_w, deferrable=deferrable,
                              tariff=tariff)
    grid = _price(grid_price, "--grid-price")
    grid_usd = grid if grid is not None else default_electricity_usd_per_kwh()[0]
    supplies = el.grid_and_ppas(load_w=load_w, grid_usd_per_kwh=grid_usd)
    if as_json:
        _emit(shift, tariff, supplies, cap_w=cap_w, hours_source=hours_source)
        return
    _print(shift, tariff, supplies, load_w=load_w, cap_w=cap_w, deferrable=deferrable)


def _emit(shift: Any, tariff: Any, supplies: list[Any], *, cap_w: float,
          hours_source: str) -> None:
    from mlfleet.cli import emit_json

    emit_json({"fidelity": "model", "tariff": {**vars(tariff), "peak_hours_source": hours_source},
               "capacity_w": cap_w,
               "shift": {**vars(shift), "saving_usd_per_day": shift.saving_usd_per_day,
                         "saving_usd_per_year": shift.saving_usd_per_year,
                         "saving_fraction": shift.saving_fraction},
               "supplies": [{**vars(s), "usd_per_year": s.usd_per_year,
                             "co2_t_per_year": s.co2_t_per_year} for s in supplies]})


_LABELS = {"grid-carbon-us": "grid (US average CO2)", "ppa-solar-us": "solar PPA (US)",
           "ppa-wind-us": "wind PPA (US)"}


def _print(shift: Any, tariff: Any, supplies: list[Any], *, load_w: float, cap_w: float,
           deferrable: float) -> None:
    from mlfleet.report.terminal import format_value, print_table

    print_table(["quantity", "value"], [
        ["load / capacity", f"{format_value('power_w', load_w)} / {format_value('power_w', cap_w)}"],
        ["peak hours a day", f"{tariff.peak_hours:g}"],
        ["deferrable fraction", f"{deferrable:g}"],
        ["flat bill per day", f"${shift.flat_usd_per_day:,.0f}"],
        ["moved off-peak per day", f"{shift.moved_kwh_per_day:,.0f} kWh"
                                   + (" (headroom-bound)" if shift.headroom_bound else "")],
        ["saving per year", f"${shift.saving_usd_per_year:,.0f} ({shift.saving_fraction:.1%})"],
    ], title="time-of-use: deferrable work moved off-peak (model)")
    print_table(["supply", "$/kWh", "$ per year", "t CO2 per year"],
                [[_LABELS.get(s.name, s.name), f"{s.usd_per_kwh:.4f}", f"${s.usd_per_year:,.0f}",
                  f"{s.co2_t_per_year:,.0f}"] for s in supplies],
                title="grid vs renewable PPAs (energy only; annual matching)")

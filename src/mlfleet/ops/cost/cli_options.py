"""Options shared by ``mlfleet ops cost`` commands, parsed at the edge into model inputs."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from mlfleet.errors import InputError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "cost"
"""Bundled example inputs (each command's default file)."""


def example(name: str) -> Path:
    return EXAMPLES / name


def pricing_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--offer``/``--tier`` and per-resource prices (default: OpenCost's sheet)."""
    for option in reversed((
        click.option("--offer", default=None,
                     help="Catalog cloud offer whose GPU price to use, e.g. aws-p4d "
                          "[OpenCost default $0.95/GPU-h]."),
        click.option("--tier", default="on-demand", show_default=True,
                     help="Offer tier: on-demand, reserved-1y, reserved-3y."),
        click.option("--gpu-price", help="Per GPU-hour, e.g. $2/h (overrides --offer)."),
        click.option("--cpu-price", help="Per core-hour, e.g. $0.03/h."),
        click.option("--ram-price", help="Per GB-hour, e.g. $0.004/GB-h."),
        click.option("--storage-price", help="Per GB-hour of storage, e.g. $0.0001/GB-h."),
        click.option("--egress-price", help="Per GB of egress, e.g. $0.12."),
    )):
        fn = option(fn)
    return fn


def rates_from(opts: dict[str, Any]) -> Any:
    """The :class:`~mlfleet.ops.cost.resources.Rates` the options describe."""
    from mlfleet.infra.tco.cli_inputs import price
    from mlfleet.ops.cost.resources import OPENCOST_DEFAULTS, with_offer

    rates = OPENCOST_DEFAULTS
    if opts["offer"] is not None:
        rates = with_offer(rates, opts["offer"], tier=opts["tier"])
    elif opts["tier"] != "on-demand":
        raise InputError(f"--tier(={opts['tier']!r}) needs --offer")
    given = {"gpu_usd_per_h": price(opts["gpu_price"], "usd_per_h", "--gpu-price"),
             "cpu_usd_per_core_h": price(opts["cpu_price"], "usd_per_h", "--cpu-price"),
             "ram_usd_per_gb_h": _per_gb_h(opts["ram_price"], "--ram-price"),
             "storage_usd_per_gb_h": _per_gb_h(opts["storage_price"], "--storage-price"),
             "network_usd_per_gb": price(opts["egress_price"], "usd", "--egress-price")}
    changed = {k: v for k, v in given.items() if v is not None}
    if changed:
        rates = dataclasses.replace(rates, **changed,
                                    source=f"given: {', '.join(changed)}; {rates.source}")
    return rates


def _per_gb_h(text: str | None, option: str) -> float | None:
    from mlfleet.infra.tco.cli_inputs import price
    from mlfleet.units import parse_quantity

    value = price(text, "usd_per_gb_month", option)  # the units module has no $/GB-h target
    return None if value is None else value / parse_quantity("1month", "h")


def chargeback_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--by``, ``--split``, ``--overhead``, ``--keep-idle``, ``--json``."""
    for option in reversed((
        click.option("--by", type=click.Choice(["team", "model"]), default="team",
                     show_default=True, help="Whom to bill."),
        click.option("--split", "split_text", default="proportional", show_default=True,
                     help="Shared costs: uniform, proportional or metric:COLUMN."),
        click.option("--overhead", default="$0", show_default=True,
                     help="Cluster overhead for the period (management fees), e.g. $24."),
        click.option("--keep-idle", is_flag=True,
                     help="Leave idle cost unassigned instead of splitting it."),
        click.option("--json", "as_json", is_flag=True, help="Print JSON."),
    )):
        fn = option(fn)
    return fn


def overhead_usd(text: str) -> float:
    from mlfleet.infra.tco.cli_inputs import price

    value = price(text, "usd", "--overhead")
    assert value is not None
    return value


def existing_file(path: Path | None, default: str, option: str) -> Path:
    """``path`` (or the bundled ``default``), refused with one line if it is not a file."""
    chosen = path if path is not None else example(default)
    if not chosen.is_file():
        raise InputError(f"{option}(={str(chosen)!r}) is not a file")
    return chosen

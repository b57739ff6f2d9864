"""Turning ``mlfleet infra tco`` options into model inputs (parsed here, at the edge only).

Every refusal is one line naming the option, the value and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import click

from mlfleet import units
from mlfleet.errors import InputError
from mlfleet.infra.tco.offers import CloudOffer, cloud_offers, default_offer, offer
from mlfleet.infra.tco.opex import (
    GPUS_PER_ADMIN,
    MAINTENANCE_FRACTION_PER_YEAR,
    SECONDS_PER_YEAR,
    Assumptions,
)
from mlfleet.infra.tco.ownership import OwnedCost, owned_cost, resolve_inputs

MAX_GPUS = 1_048_576
"""Largest cluster the commands accept (2^20 GPUs): beyond any built, and keeps sweeps fast."""


def price(text: str | None, target: str, option: str) -> float | None:
    """``$0.08/kWh`` -> 0.08 (in ``target`` units); None for None; refuses < 0 and inf."""
    if text is None:
        return None
    value = units.parse_quantity(text, target)
    if not math.isfinite(value) or value < 0:
        raise InputError(f"{option}(={text!r}) must be a price >= 0: "
                         f"{units.describe_target(target)}")
    return value


def positive_price(text: str | None, target: str, option: str) -> float | None:
    """As :func:`price`, refusing 0 too."""
    value = price(text, target, option)
    if value == 0:
        raise InputError(f"{option}(={text!r}) must be a price > 0")
    return value


def prices(text: str, target: str, option: str, *, allow_zero: bool = True) -> list[float]:
    """A comma-separated list of prices (each as :func:`price`, or :func:`positive_price`)."""
    items = [item.strip() for item in text.split(",")]
    if not items or not all(items):
        raise InputError(f"{option}(={text!r}) must be a comma-separated list of prices, "
                         f"e.g. $0.05/kWh,$0.10/kWh")
    one = price if allow_zero else positive_price
    return [p for p in (one(item, target, option) for item in items) if p is not None]


def numbers(text: str, option: str, *, minimum: float) -> list[float]:
    """A comma-separated list of numbers >= ``minimum``."""
    try:
        values = [float(item) for item in text.split(",")]
    except ValueError:
        values = []
    if not values or not all(math.isfinite(v) and v >= minimum for v in values):
        raise InputError(f"{option}(={text!r}) must be a comma-separated list of numbers "
                         f">= {minimum:g}, e.g. 1.1,1.3,1.6")
    return values


def counts(text: str, option: str) -> list[int]:
    """A comma-separated list of GPU counts in [1, MAX_GPUS]."""
    try:
        values = [int(item) for item in text.split(",")]
    except ValueError:
        values = []
    if not values or not all(1 <= v <= MAX_GPUS for v in values):
        raise InputError(f"{option}(={text!r}) must be a comma-separated list of integers "
                         f"from 1 to {MAX_GPUS:,}, e.g. 8,64,512")
    return values


def gpus(value: int, option: str = "--gpus") -> int:
    if not 1 <= value <= MAX_GPUS:
        raise InputError(f"{option}(={value}) must be an integer from 1 to {MAX_GPUS:,}")
    return value


def gpus_float(value: float, option: str) -> float:
    """A (mean) GPU count: a number in (0, MAX_GPUS]."""
    if not (math.isfinite(value) and 0 < value <= MAX_GPUS):
        raise InputError(f"{option}(={value:g}) must be a number of GPUs in (0, {MAX_GPUS:,}]")
    return value


def amplitude(value: float) -> float:
    if not (math.isfinite(value) and 0 <= value <= 1):
        raise InputError(f"--amplitude(={value:g}) must be in [0, 1]")
    return value


def fraction(value: float | None, option: str, *, open_low: bool = True,
             open_high: bool = False) -> float | None:
    """``value`` in (0, 1] by default; None for None."""
    if value is None:
        return None
    ok = math.isfinite(value) and (value > 0 if open_low else value >= 0) \
        and (value < 1 if open_high else value <= 1)
    if not ok:
        interval = f"{'(' if open_low else '['}0, 1{')' if open_high else ']'}"
        raise InputError(f"{option}(={value:g}) must be in {interval}")
    return value


def years(value: float | None) -> float | None:
    """``--years`` as seconds of amortisation; None for None."""
    if value is None:
        return None
    if not math.isfinite(value) or value <= 0:
        raise InputError(f"--years(={value:g}) must be > 0, e.g. 4")
    return value * SECONDS_PER_YEAR


def duration(text: str, option: str, *, allow_zero: bool = False) -> float:
    value = units.parse_quantity(text, "s")
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise InputError(f"{option}(={text!r}) must be a duration {'>=' if allow_zero else '>'} "
                         "0, e.g. 5min")
    return value


def cloud_offer(name: str | None, accelerator: str) -> CloudOffer:
    """The named offer (for this accelerator), else the catalog's default for it."""
    if name is None:
        found = default_offer(accelerator)
        if found is None:
            known = ", ".join(o.name for o in cloud_offers()) or "none"
            raise InputError(f"no cloud offer for {accelerator!r} in the catalog; give "
                             f"--cloud-price or --offer (offers: {known})")
        return found
    found = offer(name)
    wanted = cloud_offers(accelerator)
    if found.name not in {o.name for o in wanted}:
        raise InputError(f"--offer(={name!r}) prices {found.accelerator}, not {accelerator}; "
                         f"offers for it: {', '.join(o.name for o in wanted) or 'none'}")
    return found


def with_cloud_price(found: CloudOffer, given: float | None) -> CloudOffer:
    """``found`` with its on-demand price replaced by ``given`` (reserved tiers dropped)."""
    if given is None:
        return found
    return CloudOffer(name="given", provider="given", accelerator=found.accelerator,
                      on_demand_usd_per_h=given, source="given")


def owned_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The cluster and the prices of owning it."""
    options = [
        click.option("--accelerator", "-a", default="H100-SXM", show_default=True,
                     help="Catalog accelerator."),
        click.option("--gpus", type=int, default=1024, show_default=True, help="GPUs owned."),
        click.option("--gpus-per-node", type=click.IntRange(1, 64), default=8,
                     show_default=True),
        click.option("--utilization", type=float, default=0.6, show_default=True,
                     help="Fraction of GPU-hours doing paid-for work, in (0, 1]."),
        click.option("--electricity", help="Electricity price, e.g. $0.08/kWh "
                     "[catalog: US industrial average]."),
        click.option("--pue", type=float, help="Facility power / IT power [power chapter's "
                     "default for the cooling]."),
        click.option("--years", type=float, help="Refresh cycle (hardware write-off), "
                     "e.g. 4 [4]."),
        click.option("--purchase-price", help="Price per accelerator, e.g. $30000 "
                     "[middle of the catalog's range]."),
        click.option("--gpus-per-admin", type=float, default=GPUS_PER_ADMIN, show_default=True,
                     help="GPUs one systems administrator runs (assumption)."),
        click.option("--maintenance", type=float, default=MAINTENANCE_FRACTION_PER_YEAR,
                     show_default=True,
                     help="Maintenance and support per year, fraction of hardware capex."),
        click.option("--storage-per-gpu", default="1TB", show_default=True,
                     help="Shared storage per GPU, priced as a parallel file system."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def assumptions(opts: dict[str, Any]) -> Assumptions:
    """The opex assumptions of the common options."""
    admins, maintenance = opts["gpus_per_admin"], opts["maintenance"]
    if not (math.isfinite(admins) and admins > 0):
        raise InputError(f"--gpus-per-admin(={admins:g}) must be > 0, e.g. 500")
    if not (math.isfinite(maintenance) and 0 <= maintenance <= 1):
        raise InputError(f"--maintenance(={maintenance:g}) must be a fraction in [0, 1], e.g. 0.05")
    storage = units.parse_quantity(opts["storage_per_gpu"], "bytes")
    if not (math.isfinite(storage) and storage >= 0):
        raise InputError(f"--storage-per-gpu(={opts['storage_per_gpu']!r}) must be a size >= 0, "
                         "e.g. 1TB")
    return Assumptions(gpus_per_admin=admins, maintenance_fraction_per_year=maintenance,
                       storage_bytes_per_gpu=storage)


def owned_from_options(opts: dict[str, Any]) -> tuple[OwnedCost, float]:
    """The owned cluster of the common options, and the utilization."""
    u = fraction(opts["utilization"], "--utilization")
    assert u is not None  # the option has a default
    owned = owned_cost(resolve_inputs(
        accelerator=opts["accelerator"], gpus=gpus(opts["gpus"]),
        gpus_per_node=opts["gpus_per_node"],
        purchase_usd_per_gpu=price(opts["purchase_price"], "usd", "--purchase-price"),
        electricity_usd_per_kwh=price(opts["electricity"], "usd_per_kwh", "--electricity"),
        pue=opts["pue"], amortization_s=years(opts["years"]),
        assumptions=assumptions(opts)))
    return owned, u

"""The spec's TCO tables: TCO by deployment scale, break-even against each cloud tier, and
power-price sensitivity. Each row is a small dataclass the CLI prints or emits as JSON."""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet.infra.tco import cloud
from mlfleet.infra.tco.breakeven import breakeven_months
from mlfleet.infra.tco.offers import CloudOffer, OwnershipDefaults, SpotTerms
from mlfleet.infra.tco.opex import HOURS_PER_MONTH, HOURS_PER_YEAR, Assumptions
from mlfleet.infra.tco.ownership import OwnedCost, owned_cost, resolve_inputs

SCALES = (8, 64, 512, 4096, 16384)
"""Deployment scales of the TCO table: a node, a rack row, a pod, a hall, a campus."""


@dataclass(frozen=True, kw_only=True)
class ScaleRow:
    """TCO of one deployment scale."""

    gpus: int
    capex_usd: float
    hardware_usd_per_gpu: float
    """Accelerators + servers + network per GPU (no building)."""
    network_usd: float
    facility_power_w: float
    opex_usd_per_year: float
    power_usd_per_year: float
    tco_usd: float
    """One refresh cycle: hardware amortised + facility share + opex."""
    owned_usd_per_gpu_h: float
    """Per used GPU-hour at the utilization."""
    on_demand_usd_per_gpu_h: float
    breakeven_utilization: float
    published_hardware_usd_per_gpu: float | None
    """A published GPUs + hosts + network cost per GPU at this scale, where the catalog has
    one (the H100 cluster sheet without its facility & ops line)."""


def scale_rows(*, accelerator: str, scales: tuple[int, ...], gpus_per_node: int,
               utilization: float, cloud_usd_per_gpu_h: float,
               defaults: OwnershipDefaults, electricity_usd_per_kwh: float | None = None,
               pue: float | None = None, amortization_s: float | None = None,
               purchase_usd_per_gpu: float | None = None,
               assumptions: Assumptions | None = None) -> list[ScaleRow]:
    """One :class:`ScaleRow` per cluster size."""
    rows = []
    for gpus in scales:
        owned = owned_cost(resolve_inputs(
            accelerator=accelerator, gpus=gpus, gpus_per_node=gpus_per_node,
            purchase_usd_per_gpu=purchase_usd_per_gpu,
            electricity_usd_per_kwh=electricity_usd_per_kwh, pue=pue,
            amortization_s=amortization_s, assumptions=assumptions))
        rows.append(ScaleRow(
            gpus=gpus, capex_usd=owned.capex.total_usd,
            hardware_usd_per_gpu=owned.capex.hardware_usd / gpus,
            network_usd=owned.capex.network_usd,
            facility_power_w=owned.inputs.it_power_w * owned.inputs.pue,
            opex_usd_per_year=owned.opex.total_usd_per_year,
            power_usd_per_year=owned.opex.power_usd_per_year, tco_usd=owned.tco_usd,
            owned_usd_per_gpu_h=owned.usd_per_gpu_h(utilization),
            on_demand_usd_per_gpu_h=cloud_usd_per_gpu_h,
            breakeven_utilization=owned.usd_per_year / (gpus * HOURS_PER_YEAR
                                                        * cloud_usd_per_gpu_h),
            published_hardware_usd_per_gpu=defaults.reference_hardware_usd_per_gpu(gpus)))
    return rows


@dataclass(frozen=True, kw_only=True)
class BreakevenRow:
    """Owning against one way to rent."""

    tier: str
    usd_per_gpu_h: float
    """List price per GPU-hour held."""
    usd_per_used_gpu_h: float
    """At the utilization (reserved: price / u; spot: with preemption losses)."""
    owned_usd_per_used_gpu_h: float
    breakeven_utilization: float | None
    """Owning wins above it; None for a reserved tier (paid used or not: compare prices)."""
    owning_wins: bool
    """At the utilization."""
    breakeven_months: float
    """Months until buying has cost less than renting the same GPU-hours (inf: never)."""
    pays_back_in_cycle: bool
    """Whether that happens before the hardware is refreshed."""
    source: str


def breakeven_rows(owned: OwnedCost, found: CloudOffer, *, utilization: float,
                   spot: cloud.SpotJob | None, spot_source: str) -> list[BreakevenRow]:
    """Owning vs each tier of ``found`` (and spot) at ``utilization``."""
    gpus = owned.inputs.gpus
    per_provisioned_h = owned.usd_per_year / (gpus * HOURS_PER_YEAR)
    owned_used = owned.usd_per_gpu_h(utilization)
    opex_month = owned.opex.total_usd_per_year / 12.0
    cycle_months = owned.years * 12.0
    rows = []
    for tier in cloud.tiers(found, utilization=utilization, spot=spot, spot_source=spot_source):
        reserved = tier.commitment_years > 0
        used_hours_month = gpus * HOURS_PER_MONTH * (1.0 if reserved else utilization)
        rent_month = used_hours_month * (tier.usd_per_gpu_h if reserved
                                         else tier.usd_per_used_gpu_h)
        months = breakeven_months(capex_usd=owned.cycle_capex_usd,
                                  owned_opex_usd_per_month=opex_month,
                                  cloud_usd_per_month=rent_month)
        rows.append(BreakevenRow(
            tier=tier.name, usd_per_gpu_h=tier.usd_per_gpu_h,
            usd_per_used_gpu_h=tier.usd_per_used_gpu_h, owned_usd_per_used_gpu_h=owned_used,
            breakeven_utilization=None if reserved
            else per_provisioned_h / tier.usd_per_used_gpu_h,
            owning_wins=owned_used < tier.usd_per_used_gpu_h,
            breakeven_months=months, pays_back_in_cycle=months <= cycle_months,
            source=tier.source))
    return rows


def spot_for(found: CloudOffer, terms: SpotTerms, *, gpus: int, gpus_per_instance: int,
             ckpt_s: float, restart_s: float, interruption_per_month: float | None = None,
             discount: float | None = None) -> cloud.SpotJob:
    """The spot tier of ``found`` with the catalog's terms unless overridden."""
    return cloud.spot_job(
        on_demand_usd_per_gpu_h=found.on_demand_usd_per_h,
        discount=terms.discount if discount is None else discount,
        interruption_per_month=(terms.interruption_per_month if interruption_per_month is None
                                else interruption_per_month),
        gpus=gpus, gpus_per_instance=gpus_per_instance, ckpt_s=ckpt_s, restart_s=restart_s)


@dataclass(frozen=True, kw_only=True)
class PriceRow:
    """Owning against one on-demand (or committed) price per GPU-hour."""

    label: str
    cloud_usd_per_gpu_h: float
    breakeven_utilization: float
    """Owning wins above it (> 1: never)."""
    payback_months: float
    """At the utilization, renting the same used GPU-hours (inf: never)."""
    pays_back_in_cycle: bool
    """Whether that happens before the hardware is refreshed."""


def price_rows(owned: OwnedCost, listed: list[tuple[str, float]], *,
               utilization: float) -> list[PriceRow]:
    """One :class:`PriceRow` per (label, price)."""
    gpus = owned.inputs.gpus
    rows = []
    for label, p in listed:
        months = breakeven_months(
            capex_usd=owned.cycle_capex_usd,
            owned_opex_usd_per_month=owned.opex.total_usd_per_year / 12.0,
            cloud_usd_per_month=gpus * p * utilization * HOURS_PER_MONTH)
        rows.append(PriceRow(
            label=label, cloud_usd_per_gpu_h=p,
            breakeven_utilization=owned.usd_per_year / (gpus * HOURS_PER_YEAR * p),
            payback_months=months, pays_back_in_cycle=months <= owned.years * 12.0))
    return rows

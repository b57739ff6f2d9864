"""Electricity pricing: time-of-use tariffs, shifting deferrable work off-peak, renewable PPAs.

Fidelity: model (exact arithmetic). A facility draws an average ``load_w`` (IT power x PUE)
against a capacity ``capacity_w`` it may not exceed. A time-of-use (TOU) tariff charges
``peak_usd_per_kwh`` for ``peak_hours`` a day and ``off_peak_usd_per_kwh`` for the other
``24 - peak_hours``. A fraction ``deferrable`` of the load is work that can wait a few
hours (checkpointable training, batch scoring); the rest (serving) is firm.

Without shifting the load is flat. Shifting moves the deferrable energy that would run
during peak hours into off-peak hours, as far as the off-peak headroom allows:

    peak_deferrable_kwh = deferrable * load_w * peak_hours / 1000            (per day)
    headroom_kwh        = (capacity_w - load_w) * (24 - peak_hours) / 1000
    moved_kwh           = min(peak_deferrable_kwh, headroom_kwh)
    saving_usd_per_day  = moved_kwh * max(0, peak_usd_per_kwh - off_peak_usd_per_kwh)

The same energy is used, so the same work is done each day; only its price changes. The
saving is linear in ``deferrable`` until the headroom binds, and never negative. Demand
charges (USD per kW of monthly peak) are not modelled. The greedy hour-by-hour schedule in
``tests/infra/cases/test_electricity.py`` checks the closed form exactly.

A renewable power purchase agreement (PPA) buys energy at a fixed price; its
``carbon_kg_per_kwh`` is zero by the EIA's convention for solar and wind, on an
annual-matching (market-based) basis. A PPA price covers energy only: transmission and
distribution charges come on top. Prices and carbon intensity are catalog entries
(``facility.yaml``: ``ppa-solar-us``, ``ppa-wind-us``, ``grid-carbon-us``), with sources.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet import catalog
from mlfleet.checks import fraction, non_negative, positive
from mlfleet.errors import InputError

HOURS_PER_DAY = 24.0
DAYS_PER_YEAR = 365.0


@dataclass(frozen=True, kw_only=True)
class Tariff:
    """A two-period time-of-use tariff."""

    peak_usd_per_kwh: float
    off_peak_usd_per_kwh: float
    peak_hours: float
    """Hours a day at the peak price, in [0, 24]."""

    def __post_init__(self) -> None:
        non_negative("peak price", self.peak_usd_per_kwh)
        non_negative("off-peak price", self.off_peak_usd_per_kwh)
        if not 0.0 <= self.peak_hours <= HOURS_PER_DAY:
            raise InputError(f"peak hours(={self.peak_hours:g}) must be in [0, 24]")

    @property
    def off_peak_hours(self) -> float:
        return HOURS_PER_DAY - self.peak_hours

    def flat_usd_per_day(self, load_w: float) -> float:
        """Cost of a flat load over one day."""
        kw = load_w / 1000.0
        return kw * (self.peak_hours * self.peak_usd_per_kwh
                     + self.off_peak_hours * self.off_peak_usd_per_kwh)


@dataclass(frozen=True, kw_only=True)
class Shift:
    """One day of a facility on a TOU tariff, flat vs with deferrable work moved off-peak."""

    flat_usd_per_day: float
    shifted_usd_per_day: float
    moved_kwh_per_day: float
    """Energy moved from peak to off-peak hours."""
    headroom_bound: bool
    """True when the off-peak headroom, not the deferrable fraction, limits the move."""

    @property
    def saving_usd_per_day(self) -> float:
        return self.flat_usd_per_day - self.shifted_usd_per_day

    @property
    def saving_usd_per_year(self) -> float:
        return self.saving_usd_per_day * DAYS_PER_YEAR

    @property
    def saving_fraction(self) -> float:
        """Saving over the flat bill (0 when the bill is 0)."""
        return self.saving_usd_per_day / self.flat_usd_per_day if self.flat_usd_per_day else 0.0


def shift_off_peak(*, load_w: float, capacity_w: float, deferrable: float,
                   tariff: Tariff) -> Shift:
    """The saving from running deferrable work off-peak (module docstring).

    Raises InputError for a non-positive load, a capacity below the load, or a
    ``deferrable`` outside [0, 1].
    """
    positive("load_w", load_w)
    positive("capacity_w", capacity_w)
    fraction("deferrable", deferrable)
    if capacity_w < load_w:
        raise InputError(f"capacity(={capacity_w:g} W) must be at least the load "
                         f"(={load_w:g} W)")
    peak_deferrable_kwh = deferrable * load_w * tariff.peak_hours / 1000.0
    headroom_kwh = (capacity_w - load_w) * tariff.off_peak_hours / 1000.0
    spread = max(0.0, tariff.peak_usd_per_kwh - tariff.off_peak_usd_per_kwh)
    moved = min(peak_deferrable_kwh, headroom_kwh) if spread > 0 else 0.0
    flat = tariff.flat_usd_per_day(load_w)
    return Shift(flat_usd_per_day=flat, shifted_usd_per_day=flat - moved * spread,
                 moved_kwh_per_day=moved,
                 headroom_bound=spread > 0 and headroom_kwh < peak_deferrable_kwh)


@dataclass(frozen=True, kw_only=True)
class Supply:
    """A year of a constant load bought from one supply: cost and CO2."""

    name: str
    usd_per_kwh: float
    carbon_kg_per_kwh: float
    energy_kwh_per_year: float
    source: str

    @property
    def usd_per_year(self) -> float:
        return self.energy_kwh_per_year * self.usd_per_kwh

    @property
    def co2_t_per_year(self) -> float:
        return self.energy_kwh_per_year * self.carbon_kg_per_kwh / 1000.0


def annual_energy_kwh(load_w: float) -> float:
    """Energy of a constant load over a 365-day year."""
    return positive("load_w", load_w) * HOURS_PER_DAY * DAYS_PER_YEAR / 1000.0


def supply_from_catalog(name: str, *, load_w: float, usd_per_kwh: float | None = None,
                        carbon_kg_per_kwh: float | None = None) -> Supply:
    """A catalog ``facility`` entry's price and carbon intensity applied to ``load_w``.

    A value given overrides the catalog's; an entry without a price needs ``usd_per_kwh``.
    Raises CatalogError for an unknown entry or a missing value.
    """
    entry = catalog.get(name, kind="facility")
    price = usd_per_kwh if usd_per_kwh is not None else entry.require("price_usd_per_kwh")
    carbon = (carbon_kg_per_kwh if carbon_kg_per_kwh is not None
              else entry.require("carbon_kg_per_kwh"))
    source = entry.values.get("price_usd_per_kwh", entry.values.get("carbon_kg_per_kwh"))
    return Supply(name=entry.name, usd_per_kwh=non_negative("price", price),
                  carbon_kg_per_kwh=non_negative("carbon_kg_per_kwh", carbon),
                  energy_kwh_per_year=annual_energy_kwh(load_w),
                  source=source.source if source is not None else "")


def grid_and_ppas(*, load_w: float, grid_usd_per_kwh: float,
                  ppas: tuple[str, ...] = ("ppa-solar-us", "ppa-wind-us")) -> list[Supply]:
    """The grid (price given, US average carbon) beside each catalog PPA, for one load."""
    grid = supply_from_catalog("grid-carbon-us", load_w=load_w, usd_per_kwh=grid_usd_per_kwh)
    return [grid, *(supply_from_catalog(p, load_w=load_w) for p in ppas)]

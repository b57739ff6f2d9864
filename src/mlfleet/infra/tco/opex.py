"""Operating expenditure of an owned GPU cluster per year: power, staff, maintenance, storage.

* Power: facility power = IT power x PUE, drawn every hour of the year (the provisioned
  draw: a conservative bound, since idle GPUs draw less), at an electricity price.
* Staff: ``gpus / GPUS_PER_ADMIN`` systems administrators at the catalog's median salary
  (BLS), loaded by ``STAFF_OVERHEAD``.
* Maintenance and support: ``MAINTENANCE_FRACTION_PER_YEAR`` of the hardware capex.
* Shared storage: capacity x a catalog storage service's price per GB-month.

The four module constants are modelling assumptions, not sourced catalog values: they are
the defaults of :class:`Assumptions`, every command takes them as options
(``--gpus-per-admin``, ``--maintenance``, ``--storage-per-gpu``) and the docs list them.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet.checks import fraction, non_negative, positive, positive_int
from mlfleet.errors import InputError
from mlfleet.units import parse_quantity

SECONDS_PER_YEAR = parse_quantity("1year", "s")
"""The year of ``mlfleet.units`` (365.2425 days), so ``--years 4`` and ``4year`` agree."""
HOURS_PER_YEAR = SECONDS_PER_YEAR / 3600.0
HOURS_PER_MONTH = HOURS_PER_YEAR / 12.0

GPUS_PER_ADMIN = 500.0
"""Assumption: one systems administrator per 500 GPUs (about 64 eight-GPU nodes)."""
STAFF_OVERHEAD = 1.3
"""Assumption: benefits and overhead on top of the median salary."""
MAINTENANCE_FRACTION_PER_YEAR = 0.05
"""Assumption: hardware support and spares per year, as a fraction of hardware capex."""
STORAGE_BYTES_PER_GPU = 1e12
"""Assumption: 1 TB of shared (parallel file system) storage per GPU."""


@dataclass(frozen=True, kw_only=True)
class Assumptions:
    """The opex inputs that are modelling choices rather than sourced values."""

    gpus_per_admin: float = GPUS_PER_ADMIN
    staff_overhead: float = STAFF_OVERHEAD
    """Loaded cost / salary."""
    maintenance_fraction_per_year: float = MAINTENANCE_FRACTION_PER_YEAR
    """Of the hardware capex."""
    storage_bytes_per_gpu: float = STORAGE_BYTES_PER_GPU

    def __post_init__(self) -> None:
        positive("gpus_per_admin", self.gpus_per_admin)
        positive("staff_overhead", self.staff_overhead)
        fraction("maintenance_fraction_per_year", self.maintenance_fraction_per_year)
        non_negative("storage_bytes_per_gpu", self.storage_bytes_per_gpu)


@dataclass(frozen=True, kw_only=True)
class Opex:
    """What running the cluster costs per year, by item (USD per year)."""

    power_usd_per_year: float
    staff_usd_per_year: float
    maintenance_usd_per_year: float
    storage_usd_per_year: float

    @property
    def total_usd_per_year(self) -> float:
        return (self.power_usd_per_year + self.staff_usd_per_year
                + self.maintenance_usd_per_year + self.storage_usd_per_year)


def energy_usd_per_year(*, it_power_w: float, pue: float,
                        electricity_usd_per_kwh: float) -> float:
    """``it_power_w x pue`` for a year, in kWh, times the price."""
    non_negative("it_power_w", it_power_w)
    check_pue(pue)
    non_negative("electricity_usd_per_kwh", electricity_usd_per_kwh)
    return it_power_w * pue / 1000.0 * HOURS_PER_YEAR * electricity_usd_per_kwh


MAX_PUE = 10.0
"""Largest PUE accepted: a facility burning 9 W of overhead per IT watt is not a design."""


def check_pue(pue: float) -> float:
    """``pue`` if it is a number in [1, MAX_PUE] (facility power / IT power), else InputError."""
    if not 1.0 <= positive("pue", pue) <= MAX_PUE:
        raise InputError(f"pue(={pue:g}) must be >= 1 and <= {MAX_PUE:g} "
                         "(facility power / IT power)")
    return float(pue)


def staff_usd_per_year(*, gpus: int, salary_usd_per_year: float,
                       gpus_per_admin: float = GPUS_PER_ADMIN,
                       overhead: float = STAFF_OVERHEAD) -> float:
    """``gpus / gpus_per_admin`` administrators (fractional: shared staff) x loaded salary."""
    positive_int("gpus", gpus)
    non_negative("salary_usd_per_year", salary_usd_per_year)
    positive("gpus_per_admin", gpus_per_admin)
    positive("overhead", overhead)
    return gpus / gpus_per_admin * salary_usd_per_year * overhead


def opex(*, it_power_w: float, pue: float, electricity_usd_per_kwh: float, gpus: int,
         salary_usd_per_year: float, hardware_capex_usd: float,
         storage_usd_per_gb_month: float, assumptions: Assumptions | None = None) -> Opex:
    """Opex by item per year (module docstring for each item's model)."""
    a = assumptions or Assumptions()
    non_negative("hardware_capex_usd", hardware_capex_usd)
    non_negative("storage_usd_per_gb_month", storage_usd_per_gb_month)
    return Opex(
        power_usd_per_year=energy_usd_per_year(it_power_w=it_power_w, pue=pue,
                                               electricity_usd_per_kwh=electricity_usd_per_kwh),
        staff_usd_per_year=staff_usd_per_year(gpus=gpus, salary_usd_per_year=salary_usd_per_year,
                                              gpus_per_admin=a.gpus_per_admin,
                                              overhead=a.staff_overhead),
        maintenance_usd_per_year=a.maintenance_fraction_per_year * hardware_capex_usd,
        storage_usd_per_year=gpus * a.storage_bytes_per_gpu / 1e9 * storage_usd_per_gb_month
        * 12.0)

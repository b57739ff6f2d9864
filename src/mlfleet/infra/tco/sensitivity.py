"""Power-price sensitivity: owned cost per used GPU-hour across $/kWh and PUE.

Only the power line of the opex depends on the electricity price ``e`` and the PUE:

    cost per year(e, PUE) = fixed + IT watts x PUE / 1000 x hours per year x e
    per used GPU-hour     = cost per year / (gpus x hours per year x utilization)

so the sweep is one vectorised expression over a (price, PUE) grid; ``fixed`` is the
cluster's cost per year without its power bill (:class:`OwnedCost`).
"""

from __future__ import annotations

from dataclasses import dataclass

from numpy.typing import ArrayLike

from mlfleet.checks import FloatArray, fraction, non_negative_array, positive_array
from mlfleet.infra.tco.opex import HOURS_PER_YEAR, check_pue
from mlfleet.infra.tco.ownership import OwnedCost


@dataclass(frozen=True, kw_only=True)
class PowerSensitivity:
    """Owned cost per used GPU-hour on a grid of electricity prices (rows) and PUEs (columns)."""

    electricity_usd_per_kwh: FloatArray
    pue: FloatArray
    usd_per_gpu_h: FloatArray
    """Shape (prices, PUEs)."""
    power_fraction: FloatArray
    """Share of the cost that is the power bill, same shape."""
    utilization: float


def power_sensitivity(owned: OwnedCost, *, electricity_usd_per_kwh: ArrayLike, pue: ArrayLike,
                      utilization: float) -> PowerSensitivity:
    """The grid (module docstring); InputError for a negative price or a PUE below 1."""
    price = non_negative_array("electricity_usd_per_kwh", electricity_usd_per_kwh)
    pues = positive_array("pue", pue)
    for value in pues:
        check_pue(float(value))
    u = fraction("utilization", utilization, open_low=True)
    fixed = owned.usd_per_year - owned.opex.power_usd_per_year
    power = (owned.inputs.it_power_w / 1000.0 * HOURS_PER_YEAR
             * price[:, None] * pues[None, :])  # (prices, PUEs)
    total = fixed + power
    return PowerSensitivity(
        electricity_usd_per_kwh=price, pue=pues, utilization=u,
        usd_per_gpu_h=total / (owned.inputs.gpus * HOURS_PER_YEAR * u),
        power_fraction=power / total)

"""Tesla Dojo: custom silicon, FLOP/s per watt against a DGX H100, and why a tile of dies.

Fidelity: model (exact arithmetic on sourced figures). The D1 chip and its training tile
come from the catalog entry ``Dojo-D1`` (Tesla AI Day 2021; the tile's 15 kW from
J. Hamilton's overview); the DGX H100 from ``DGX-H100-power`` (10.2 kW for 8 H100 SXM) and
``H100-SXM``. Peak FLOP/s per watt of a chip uses :func:`mlfleet.infra.power.efficiency.
flops_per_watt`; of a tile or a node, its peak over its whole power (dies plus voltage
regulators, I/O, host).

Wafer-scale considerations. With randomly scattered defects of density ``D`` per cm^2,
the number of defects on a die of area ``A`` is Poisson with mean ``D·A``, so the chance
that a die has none is

    Y = exp(-D·A)                                  (Poisson yield model; Murphy 1964,
                                                     reviewed by Cunningham 1990)

and the gross dies per wafer of diameter ``d`` is (Hennessy & Patterson, Computer
Architecture, 6th ed., sec. 1.6)

    dies_per_wafer = pi·(d/2)^2 / A - pi·d / sqrt(2·A).

A tile cut as one 25-die piece of silicon works only if all 25 die areas are clean: the
yield falls to exp(-25·D·A). Dojo instead tests dies, keeps the known-good ones and
assembles 25 of them on a fan-out wafer, so a tile costs 25 / (dies_per_wafer · Y) wafers
rather than 1 / (pieces_per_wafer · exp(-25·D·A)). Spare cores and routing around defects
(Cerebras' approach) are not modelled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mlfleet import catalog
from mlfleet.checks import non_negative, positive, positive_int
from mlfleet.infra.power.efficiency import flops_per_watt

DOJO = "Dojo-D1"
DGX = "DGX-H100-power"
H100 = "H100-SXM"
WAFER_DIAMETER_MM = 300.0
"""A standard 300 mm wafer."""


def poisson_yield(defects_per_cm2: float, area_cm2: float) -> float:
    """Fraction of dies of ``area_cm2`` with no defect: exp(-D·A) (module docstring)."""
    non_negative("defects_per_cm2", defects_per_cm2)
    positive("area_cm2", area_cm2)
    return math.exp(-defects_per_cm2 * area_cm2)


def dies_per_wafer(area_cm2: float, *, wafer_diameter_mm: float = WAFER_DIAMETER_MM) -> int:
    """Gross rectangular dies on a round wafer (Hennessy & Patterson, sec. 1.6), floored."""
    area_mm2 = positive("area_cm2", area_cm2) * 100.0
    d = positive("wafer_diameter_mm", wafer_diameter_mm)
    gross = math.pi * (d / 2) ** 2 / area_mm2 - math.pi * d / math.sqrt(2 * area_mm2)
    return max(0, math.floor(gross))


@dataclass(frozen=True, kw_only=True)
class Efficiency:
    """Peak bf16 FLOP/s and power of one unit (a chip, a tile, a node)."""

    name: str
    peak_flops_per_s: float
    power_w: float
    basis: str
    """What the power counts."""

    @property
    def flops_per_w(self) -> float:
        return self.peak_flops_per_s / self.power_w


def efficiency_rows() -> list[Efficiency]:
    """D1 chip, Dojo tile, H100 chip, DGX H100 node: peak bf16 per watt."""
    d1 = catalog.get(DOJO, kind="accelerator")
    tile = d1.group("tile")
    dgx = catalog.get(DGX, kind="facility")
    h100 = catalog.get(H100, kind="accelerator")
    n_gpus = int(dgx.require("gpus_per_node"))
    return [
        Efficiency(name="Dojo D1 chip", peak_flops_per_s=d1.require("flops_per_s.bf16"),
                   power_w=d1.require("tdp_w"), basis="chip TDP"),
        Efficiency(name=f"Dojo training tile ({tile['dies']} D1)",
                   peak_flops_per_s=tile["peak_bf16_flops_per_s"], power_w=tile["power_w"],
                   basis="whole tile: dies, voltage regulators, I/O"),
        Efficiency(name="H100 SXM chip", peak_flops_per_s=h100.require("flops_per_s.bf16"),
                   power_w=h100.require("tdp_w"), basis="chip TDP"),
        Efficiency(name=f"DGX H100 node ({n_gpus} H100)",
                   peak_flops_per_s=n_gpus * h100.require("flops_per_s.bf16"),
                   power_w=dgx.require("node_power_w"),
                   basis="system maximum: GPUs, CPUs, NVSwitch, NICs, fans"),
    ]


def chip_flops_per_watt() -> tuple[float, float]:
    """(D1, H100) peak bf16 FLOP/s per watt of TDP, via the power chapter's function."""
    return flops_per_watt(DOJO, "bf16"), flops_per_watt(H100, "bf16")


@dataclass(frozen=True, kw_only=True)
class TileYield:
    """Silicon cost of one 25-die tile: known-good dies vs one monolithic piece."""

    defects_per_cm2: float
    die_area_cm2: float
    dies_per_tile: int
    die_yield: float
    """exp(-D·A) of one D1."""
    monolithic_yield: float
    """exp(-dies·D·A): a tile-sized piece with no defect anywhere."""
    dies_per_wafer: int
    monolithic_per_wafer: int
    """Tile-sized pieces per wafer (area dies·A): the edge-loss formula, or 1 when that
    says 0 but a square of that area still fits inside the wafer."""
    wafers_per_tile_known_good: float
    """dies / (dies_per_wafer · die_yield)."""
    wafers_per_tile_monolithic: float
    """1 / (monolithic_per_wafer · monolithic_yield); inf when none fits."""


def _square_fits(area_cm2: float, wafer_diameter_mm: float) -> bool:
    """A square die of ``area_cm2`` fits in the wafer's circle (its diagonal, sqrt(2A) <= d);
    the edge-loss formula undercounts such very large dies to zero."""
    return math.sqrt(2 * area_cm2 * 100.0) <= wafer_diameter_mm


def tile_yield(*, defects_per_cm2: float | None = None, die_area_cm2: float | None = None,
               dies_per_tile: int | None = None,
               wafer_diameter_mm: float = WAFER_DIAMETER_MM) -> TileYield:
    """The Dojo tile's silicon economics; defaults from the ``Dojo-D1`` catalog entry."""
    entry = catalog.get(DOJO, kind="accelerator")
    d = entry.require("process_defects_per_cm2") if defects_per_cm2 is None else defects_per_cm2
    area = entry.require("die_area_mm2") / 100.0 if die_area_cm2 is None else die_area_cm2
    n = int(entry.require("tile.dies")) if dies_per_tile is None else dies_per_tile
    positive_int("dies_per_tile", n)
    y_die, y_mono = poisson_yield(d, area), poisson_yield(d, n * area)
    per_wafer = dies_per_wafer(area, wafer_diameter_mm=wafer_diameter_mm)
    mono_per_wafer = max(dies_per_wafer(n * area, wafer_diameter_mm=wafer_diameter_mm),
                         int(_square_fits(n * area, wafer_diameter_mm)))
    return TileYield(
        defects_per_cm2=d, die_area_cm2=area, dies_per_tile=n, die_yield=y_die,
        monolithic_yield=y_mono, dies_per_wafer=per_wafer, monolithic_per_wafer=mono_per_wafer,
        wafers_per_tile_known_good=n / (per_wafer * y_die) if per_wafer and y_die > 0
        else math.inf,
        wafers_per_tile_monolithic=(1 / (mono_per_wafer * y_mono)
                                    if mono_per_wafer and y_mono > 0 else math.inf))

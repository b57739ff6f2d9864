"""A next-generation accelerator in an existing, power-limited facility.

Fidelity: model (exact arithmetic on :mod:`mlfleet.infra.power.facility` and
:mod:`mlfleet.infra.power.throttling`). A facility of ``facility_w`` at ``PUE`` feeds
``IT = facility_w / PUE`` to nodes of ``gpus_per_node`` chips, in air-cooled racks of
``rack_limit_w``. Today it is full of the old nodes:

    old_nodes = floor(IT / old_node_w),      old_racks = ceil(old_nodes / floor(rack / old_node_w))

Three ways to bring in the new generation (node power by equation (1) of the facility
module unless given):

* **swap** one-for-one: the same node count; IT headroom = IT - old_nodes · new_node_w
  (negative: the swap overloads the feed). Nodes beyond ``floor(rack / new_node_w)`` per
  existing air rack must go to liquid-cooled racks (``racks_to_liquid``); or they stay
  in air and are power-capped to fit, at the speed the DVFS model gives (``capped_speed``).
* **fill** the power budget: ``floor(IT / new_node_w)`` new nodes.
* **iso-compute**: as many new nodes as match the old fleet's peak FLOP/s, and the IT
  power that frees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mlfleet import catalog
from mlfleet.catalog.types import Accelerator
from mlfleet.checks import positive, positive_int
from mlfleet.errors import ConstraintViolation, InputError
from mlfleet.infra.power import facility as fac
from mlfleet.infra.power import throttling


@dataclass(frozen=True, kw_only=True)
class NextGen:
    """What replacing ``old`` by ``new`` does to one facility's power budget."""

    old: str
    new: str
    precision: str
    facility_w: float
    pue: float
    it_budget_w: float
    rack_limit_w: float
    old_node_w: float
    new_node_w: float
    old_nodes: int
    old_racks: int
    old_peak_flops_per_s: float
    swap_it_w: float
    swap_headroom_w: float
    """IT budget minus the swapped fleet's IT power (negative: over budget)."""
    new_nodes_per_air_rack: int
    racks_to_liquid: int
    """Liquid-cooled racks for the swapped nodes that no longer fit the air racks."""
    capped_fraction: float
    """Cap (fraction of TDP) that keeps the old node count per air rack instead."""
    capped_speed: float
    """Speed of a capped new chip relative to an uncapped one (DVFS model)."""
    fill_nodes: int
    fill_peak_flops_per_s: float
    iso_nodes: int
    iso_it_w: float
    iso_freed_w: float


def _node_w(acc: Accelerator, gpus_per_node: int, given_w: float | None) -> float:
    return given_w if given_w is not None else fac.derived_node_power_w(acc, gpus_per_node)


def _cap_to_fit(new: Accelerator, gpus_per_node: int, new_node_w: float,
                allowed_node_w: float) -> tuple[float, float]:
    """(cap fraction, speed) that brings one new node down to ``allowed_node_w``."""
    assert new.tdp_w is not None
    host_w = new_node_w - gpus_per_node * new.tdp_w
    cap = min(1.0, (allowed_node_w - host_w) / (gpus_per_node * new.tdp_w))
    static = throttling.A40_FIT.static_fraction
    if cap <= static:
        return cap, 0.0  # no clock fits: the chips cannot run in that rack at all
    return cap, throttling.power_cap(accelerator=new.name, cap_fraction=cap).speed_ratio


def next_generation(*, old: str, new: str, facility_w: float, gpus_per_node: int = 8,
                    pue: float | None = None, rack_limit_w: float | None = None,
                    old_node_w: float | None = None, new_node_w: float | None = None,
                    precision: str = "bf16") -> NextGen:
    """Swap, fill and iso-compute views of a refresh (module docstring).

    Defaults: the air-cooled hall's PUE and rack limit from the catalog. Raises
    CatalogError for unknown chips, InputError for bad numbers, ConstraintViolation when
    the facility cannot hold a single old node.
    """
    positive("facility_w", facility_w)
    positive_int("gpus_per_node", gpus_per_node)
    hall = catalog.get("air-cooled", kind="facility")
    pue_ = pue if pue is not None else float(hall.require("pue"))
    if not math.isfinite(pue_) or pue_ < 1.0:
        raise InputError(f"pue(={pue_:g}) must be a finite number >= 1")
    rack_w = rack_limit_w if rack_limit_w is not None else float(hall.require("rack_limit_w"))
    positive("rack_limit_w", rack_w)
    a_old, a_new = Accelerator.from_name(old), Accelerator.from_name(new)
    w_old, w_new = _node_w(a_old, gpus_per_node, old_node_w), _node_w(a_new, gpus_per_node,
                                                                      new_node_w)
    it_w = facility_w / pue_
    return _plan(a_old=a_old, a_new=a_new, precision=precision, per_node=gpus_per_node,
                 facility_w=facility_w, pue=pue_, it_w=it_w, rack_w=rack_w, w_old=w_old,
                 w_new=w_new)


def _plan(*, a_old: Accelerator, a_new: Accelerator, precision: str, per_node: int,
          facility_w: float, pue: float, it_w: float, rack_w: float, w_old: float,
          w_new: float) -> NextGen:
    old_nodes = int(it_w // w_old)
    old_per_rack = int(rack_w // w_old)
    if old_nodes < 1 or old_per_rack < 1:
        raise ConstraintViolation(f"the facility ({it_w / 1e6:.3g} MW IT) or rack "
                                  f"({rack_w / 1e3:.3g} kW) cannot hold one {a_old.name} node "
                                  f"of {w_old / 1e3:.3g} kW")
    old_racks = math.ceil(old_nodes / old_per_rack)
    new_per_rack = int(rack_w // w_new)
    overflow = max(0, old_nodes - new_per_rack * old_racks)
    liquid_w = float(catalog.get("liquid-cooled", kind="facility").require("rack_limit_w"))
    racks_to_liquid = math.ceil(overflow / max(1, int(liquid_w // w_new)))
    cap, speed = _cap_to_fit(a_new, per_node, w_new, rack_w / old_per_rack) \
        if a_new.tdp_w is not None else (math.nan, math.nan)
    old_peak = old_nodes * per_node * a_old.flops_per_s(precision)
    new_chip = a_new.flops_per_s(precision)
    fill = int(it_w // w_new)
    iso = math.ceil(old_peak / (per_node * new_chip))
    return NextGen(
        old=a_old.name, new=a_new.name, precision=precision, facility_w=facility_w, pue=pue,
        it_budget_w=it_w, rack_limit_w=rack_w, old_node_w=w_old, new_node_w=w_new,
        old_nodes=old_nodes, old_racks=old_racks, old_peak_flops_per_s=old_peak,
        swap_it_w=old_nodes * w_new, swap_headroom_w=it_w - old_nodes * w_new,
        new_nodes_per_air_rack=new_per_rack, racks_to_liquid=racks_to_liquid,
        capped_fraction=cap, capped_speed=speed, fill_nodes=fill,
        fill_peak_flops_per_s=fill * per_node * new_chip, iso_nodes=iso,
        iso_it_w=iso * w_new, iso_freed_w=it_w - iso * w_new)

"""Facility power of a cluster: IT power, PUE, cooling, racks and PDUs.

Fidelity: model. A cluster of ``gpus`` accelerators sits in ``nodes`` servers of
``gpus_per_node``. Each node draws ``node_power_w`` at its maximum: the catalog's
system figure where one is given (DGX H100: 10.2 kW), else

    node_power_w = gpus_per_node * tdp_w * (1 + host_overhead)              (1)

where ``host_overhead`` (CPUs, NICs, NVSwitches, fans, drives per watt of GPU) is
taken from the DGX H100: (10.2 kW - 8 x 700 W) / (8 x 700 W) = 0.821. Then

    it_power_w       = nodes * node_power_w
    facility_power_w = it_power_w * PUE          (The Green Grid's definition of PUE)
    nodes_per_rack   = floor(rack_limit_w / node_power_w)
    racks            = ceil(nodes / nodes_per_rack)

The rack limit and default PUE come from the cooling type (catalog kind ``facility``:
``air-cooled`` 40.8 kW as in NVIDIA's DGX H100 SuperPOD hall, PUE 1.58 the Uptime
Institute 2023 industry average; ``liquid-cooled`` 120 kW, one GB200 NVL72 rack, PUE 1.10
Google's 2023 fleet). ``cooling='auto'`` picks air when a node fits an air-cooled rack.

PDUs: a three-phase PDU delivers ``sqrt(3) * V * I * 0.8`` watts continuously (the 80 %
continuous-load rule); each rack gets enough PDUs for its power plus one spare (N+1), as
in NVIDIA's DGX B300 rack (three PDUs for ~56 kW). Switches, storage and management
racks are not counted: the result is the compute floor of the facility.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mlfleet import catalog
from mlfleet.catalog.types import Accelerator
from mlfleet.checks import fraction, non_negative, one_of, positive, positive_int
from mlfleet.errors import ConstraintViolation, InputError

COOLING = ("auto", "air", "liquid")
"""Cooling choices: ``auto`` picks air when one node fits an air-cooled rack."""

_COOLING_ENTRY = {"air": "air-cooled", "liquid": "liquid-cooled"}
_REFERENCE_NODE = "DGX-H100-power"
_DEFAULT_PDU = "pdu-415v-60a"


@dataclass(frozen=True, kw_only=True)
class FacilityPower:
    """Power, racks and PDUs of a cluster's compute (servers only)."""

    accelerator: str
    gpus: int
    gpus_per_node: int
    nodes: int
    node_power_w: float
    """Maximum power of one server (GPUs + host)."""
    node_power_basis: str
    """'given' or 'derived: ...' (equation 1 of the module docstring)."""
    it_power_w: float
    pue: float
    facility_power_w: float
    """IT power x PUE: what the utility feed must supply."""
    cooling: str
    """'air' or 'liquid'."""
    rack_limit_w: float
    nodes_per_rack: int
    racks: int
    rack_power_w: float
    """IT power of one full rack (nodes_per_rack x node_power_w, fewer if one rack)."""
    pdu_usable_w: float
    pdus_per_rack: int
    """PDUs of one full rack: enough for its power, plus one spare (N+1)."""
    pdus: int
    """PDUs of all racks (the last rack may need fewer)."""
    sources: tuple[str, ...]
    """Citations of every catalog value used."""


def pdu_capacity_w(*, volts: float, amps: float, phases: int = 3,
                   continuous_fraction: float = 0.8) -> float:
    """Usable continuous power of a PDU: sqrt(3)·V·I·f for three phases, V·I·f for one.

    ``continuous_fraction`` is the continuous-load derating of the breaker (NEC 80 %).
    Raises InputError for non-positive voltage or current, or a fraction outside (0, 1].
    """
    positive("volts", volts)
    positive("amps", amps)
    fraction("continuous_fraction", continuous_fraction, open_low=True)
    if phases not in (1, 3):
        raise InputError(f"phases(={phases}) must be 1 or 3")
    return (math.sqrt(3.0) if phases == 3 else 1.0) * volts * amps * continuous_fraction


def host_overhead_fraction() -> float:
    """Non-GPU power per GPU watt of the reference server (DGX H100, module docstring)."""
    ref = catalog.get(_REFERENCE_NODE, kind="facility")
    gpu_w = ref.require("gpus_per_node") * ref.require("gpu_tdp_w")
    return float((ref.require("node_power_w") - gpu_w) / gpu_w)


def derived_node_power_w(accelerator: Accelerator, gpus_per_node: int) -> float:
    """Equation (1): GPUs at TDP plus the reference host overhead; InputError without TDP."""
    if accelerator.tdp_w is None:
        raise InputError(f"{accelerator.name} has no published TDP in the catalog; "
                         "give the node power (--node-power, e.g. 10.2kW)")
    return gpus_per_node * accelerator.tdp_w * (1.0 + host_overhead_fraction())


def _cooling_for(cooling: str, node_power_w: float) -> str:
    one_of("cooling", cooling, COOLING)
    if cooling != "auto":
        return cooling
    air_limit = catalog.get(_COOLING_ENTRY["air"], kind="facility").require("rack_limit_w")
    return "air" if node_power_w <= air_limit else "liquid"


def _pdus(rack_it_w: float, pdu_w: float) -> int:
    return math.ceil(rack_it_w / pdu_w) + 1


def _checked_inputs(gpus: int, gpus_per_node: int, node_power_w: float | None,
                    pue: float | None, rack_limit_w: float | None) -> None:
    positive_int("gpus", gpus)
    positive_int("gpus_per_node", gpus_per_node)
    if node_power_w is not None:
        positive("node_power_w", node_power_w)
    if rack_limit_w is not None:
        positive("rack_limit_w", rack_limit_w)
    if pue is not None and (not math.isfinite(pue) or pue < 1.0):
        raise InputError(f"pue(={pue:g}) must be a finite number >= 1 "
                         "(total facility power / IT power)")


def facility_power(*, accelerator: str, gpus: int, gpus_per_node: int,
                   node_power_w: float | None = None, pue: float | None = None,
                   cooling: str = "auto", rack_limit_w: float | None = None) -> FacilityPower:
    """IT and facility power, racks and PDUs of ``gpus`` accelerators (module docstring).

    Raises CatalogError for an unknown accelerator (with the closest names), InputError
    for bad numbers (PUE below 1, non-positive counts or powers) and ConstraintViolation
    when one node draws more than a rack can take.
    """
    _checked_inputs(gpus, gpus_per_node, node_power_w, pue, rack_limit_w)
    acc = Accelerator.from_name(accelerator)
    node_w = node_power_w if node_power_w is not None else derived_node_power_w(acc, gpus_per_node)
    basis = "given" if node_power_w is not None else \
        f"derived: {gpus_per_node} x TDP x (1 + {host_overhead_fraction():.3f} host overhead)"
    chosen = _cooling_for(cooling, node_w)
    hall = catalog.get(_COOLING_ENTRY[chosen], kind="facility")
    limit_w = rack_limit_w if rack_limit_w is not None else float(hall.require("rack_limit_w"))
    if node_w > limit_w:
        raise ConstraintViolation(f"one node draws {node_w / 1e3:.1f} kW, more than the "
                                  f"{chosen}-cooled rack limit of {limit_w / 1e3:.1f} kW; "
                                  "use --cooling liquid or a higher --rack-kw")
    return _layout(acc=acc, gpus=gpus, gpus_per_node=gpus_per_node, node_w=node_w, basis=basis,
                   cooling=chosen, limit_w=limit_w,
                   pue=pue if pue is not None else float(hall.require("pue")), hall=hall)


def _layout(*, acc: Accelerator, gpus: int, gpus_per_node: int, node_w: float, basis: str,
            cooling: str, limit_w: float, pue: float, hall: catalog.Entry) -> FacilityPower:
    nodes = math.ceil(gpus / gpus_per_node)
    per_rack = int(limit_w // node_w)
    racks = math.ceil(nodes / per_rack)
    pdu = catalog.get(_DEFAULT_PDU, kind="facility")
    pdu_w = pdu_capacity_w(volts=pdu.require("volts"), amps=pdu.require("amps"),
                           phases=int(pdu.require("phases")),
                           continuous_fraction=pdu.require("continuous_fraction"))
    full_rack_w = min(nodes, per_rack) * node_w
    last_rack_w = (nodes - (racks - 1) * per_rack) * node_w
    pdus = (racks - 1) * _pdus(full_rack_w, pdu_w) + _pdus(last_rack_w, pdu_w)
    it_w = nodes * node_w
    sources = {hall.values["rack_limit_w"].source, hall.values["pue"].source,
               pdu.values["volts"].source, tdp_source(acc.name)}
    if basis != "given":
        sources.add(catalog.get(_REFERENCE_NODE, kind="facility").values["node_power_w"].source)
    return FacilityPower(
        accelerator=acc.name, gpus=gpus, gpus_per_node=gpus_per_node, nodes=nodes,
        node_power_w=node_w, node_power_basis=basis, it_power_w=it_w, pue=pue,
        facility_power_w=it_w * pue, cooling=cooling, rack_limit_w=limit_w,
        nodes_per_rack=per_rack, racks=racks, rack_power_w=full_rack_w, pdu_usable_w=pdu_w,
        pdus_per_rack=_pdus(full_rack_w, pdu_w), pdus=pdus, sources=tuple(sorted(sources)))


HOURS_PER_YEAR = 8760.0


def annual_energy_usd(facility_power_w: float, usd_per_kwh: float, *,
                      load_fraction: float = 1.0) -> float:
    """Electricity cost of a year at ``load_fraction`` of facility power:
    P · load · 8,760 h · $/kWh / 1,000. InputError for a negative price or power."""
    non_negative("facility_power_w", facility_power_w)
    non_negative("usd_per_kwh", usd_per_kwh)
    fraction("load_fraction", load_fraction)
    return facility_power_w * load_fraction * HOURS_PER_YEAR * usd_per_kwh / 1000.0


def default_electricity_usd_per_kwh() -> tuple[float, str]:
    """The catalog's US industrial average price and its citation."""
    item = catalog.get("electricity-us-industrial", kind="facility").values["price_usd_per_kwh"]
    return float(item.value), item.source


def tdp_source(name: str) -> str:
    """Citation of an accelerator's TDP (or its entry's default source)."""
    entry = catalog.get(name, kind="accelerator")
    item = entry.values.get("tdp_w")
    return item.source if item is not None else next(iter(entry.values.values())).source

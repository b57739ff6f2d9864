"""Switches, cables and transceivers of a folded-Clos fabric, in closed form (no graph).

A leaf of radix R with oversubscription o has d = ⌊R·o/(1+o)⌋ ports down and u = R − d up.
Endpoints are split over ``rails`` (one rail per GPU index, DGX SuperPOD style), each rail
with its own leaves: L = rails · ⌈⌈N/rails⌉ / d⌉.

* one tier: N ≤ R and one rail, a single switch;
* two tiers (leaf–spine) while L ≤ R: each leaf spreads its u uplinks evenly over the
  spines, so the spine count S is the smallest divisor of u in [m, 2m), m = ⌈L·u/R⌉
  (m when there is none);
* three tiers (Al-Fares et al., SIGCOMM'08 k-ary fat-tree generalised): pods of R/2 leaves
  and u aggregation switches; P = ⌈L/(R/2)⌉ pods, P·u aggregation switches with R/2 ports
  down and R/2 up, C = ⌈P·u·(R/2)/R⌉ core switches; at most R pods.

With R = k, o = 1, N = k³/4 this gives Al-Fares's k²/2 edge, k²/2 aggregation and k²/4
core switches; with R = 64, 8 rails and 32-node scalable units it gives the leaf, spine and
cable counts of the DGX SuperPOD H100 reference architecture's Table 4 (see
:mod:`mlfleet.infra.topology.cases`). Bisection is N·b/2 divided by o (b = port speed).
Every link is optical by default (fiber + a module at each end; a twin-port switch cage
serves two links with one module); ``endpoint_dac`` makes endpoint links copper DACs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from mlfleet.checks import positive_int
from mlfleet.infra.topology.equipment import DEFAULT_SWITCH, Part, Switch
from mlfleet.infra.topology.errors import TopologyInputError

KINDS = ("fat-tree", "rail-optimized", "leaf-spine")
"""Fabric kinds the closed form covers: ``leaf-spine`` is a fat-tree held to two tiers."""


@dataclass(frozen=True, kw_only=True)
class ClosCounts:
    """Switches and links per tier of a folded Clos."""

    tiers: int
    leaves: int
    spines: int
    cores: int
    downlinks_per_leaf: int
    uplinks_per_leaf: int
    endpoint_links: int
    leaf_spine_links: int
    spine_core_links: int

    @property
    def switches(self) -> int:
        return self.leaves + self.spines + self.cores

    @property
    def switch_links(self) -> int:
        return self.leaf_spine_links + self.spine_core_links

    @property
    def max_hops(self) -> int:
        """Links on the longest endpoint-to-endpoint shortest path: 2 per tier."""
        return 2 * self.tiers


def check_oversubscription(oversubscription: float) -> float:
    """``oversubscription`` if it is a finite number >= 1, else TopologyInputError."""
    if not (isinstance(oversubscription, int | float) and math.isfinite(oversubscription)
            and oversubscription >= 1.0):
        raise TopologyInputError(f"oversubscription(={oversubscription!r}) must be a finite "
                                 "number >= 1 (1 = non-blocking, 2 = 2:1 at the leaf)")
    return float(oversubscription)


def leaf_ports(radix: int, oversubscription: float) -> tuple[int, int]:
    """(down, up) ports of a leaf of ``radix`` ports at down:up = ``oversubscription``."""
    down = math.floor(radix * oversubscription / (1.0 + oversubscription) + 1e-9)
    down = min(max(down, 1), radix - 1)
    return down, radix - down


def _even_spines(leaves: int, up: int, radix: int) -> int:
    """Spines for ``leaves`` leaves of ``up`` uplinks: the smallest S in [m, 2m) dividing ``up``
    (every leaf then has the same number of links to every spine, so ECMP splits evenly),
    where m = ⌈leaves·up/radix⌉; m itself (uneven bundles) when no such S exists."""
    least = math.ceil(leaves * up / radix)
    return next((s for s in range(least, 2 * least) if up % s == 0), least)


def clos_counts(*, endpoints: int, radix: int, oversubscription: float = 1.0, rails: int = 1,
                max_tiers: int = 3) -> ClosCounts:
    """Switches and links of the smallest folded Clos (≤ ``max_tiers``) joining ``endpoints``.

    TopologyInputError when it would need more tiers than ``max_tiers``.
    """
    positive_int("endpoints", endpoints, error=TopologyInputError)
    positive_int("radix", radix, minimum=2, error=TopologyInputError)
    positive_int("rails", rails, error=TopologyInputError)
    check_oversubscription(oversubscription)
    if rails > endpoints:
        raise TopologyInputError(f"rails(={rails}) must be <= endpoints(={endpoints})")
    if rails == 1 and endpoints <= radix:
        return ClosCounts(tiers=1, leaves=1, spines=0, cores=0, downlinks_per_leaf=radix,
                          uplinks_per_leaf=0, endpoint_links=endpoints, leaf_spine_links=0,
                          spine_core_links=0)
    down, up = leaf_ports(radix, oversubscription)
    leaves = rails * math.ceil(math.ceil(endpoints / rails) / down)
    if leaves <= radix:
        return ClosCounts(tiers=2, leaves=leaves, spines=_even_spines(leaves, up, radix),
                          cores=0, downlinks_per_leaf=down, uplinks_per_leaf=up,
                          endpoint_links=endpoints, leaf_spine_links=leaves * up,
                          spine_core_links=0)
    half = radix // 2
    pods = math.ceil(leaves / half)
    if max_tiers < 3 or pods > radix:
        raise TopologyInputError(
            f"endpoints(={endpoints}) need more than {max_tiers} tiers of {radix}-port switches "
            f"at oversubscription {oversubscription:g} (at most "
            f"{_capacity(radix, down, max_tiers):,} endpoints)")
    aggregation = pods * up
    return ClosCounts(tiers=3, leaves=leaves, spines=aggregation,
                      cores=math.ceil(aggregation * half / radix), downlinks_per_leaf=down,
                      uplinks_per_leaf=up, endpoint_links=endpoints,
                      leaf_spine_links=leaves * up, spine_core_links=aggregation * half)


def _capacity(radix: int, down: int, tiers: int) -> int:
    return radix * down if tiers < 3 else radix * (radix // 2) * down


@dataclass(frozen=True, kw_only=True)
class FabricBill:
    """What a fabric is made of and what it costs (closed form)."""

    kind: str
    switch: str
    endpoints: int
    tiers: int
    switches: int
    switches_by_tier: dict[str, int] = field(default_factory=dict)
    cables: int
    """One per link: fibers plus DACs."""
    transceivers: int
    """Optical modules: switch side (a twin-port cage module serves two links) plus NIC side
    (a DGX H100 also joins two NIC ports per twin-port cage)."""
    capex_usd: float
    """Switches + transceivers + cables at the catalog's indicative prices."""
    power_w: float
    """Switches (typical) + transceiver modules."""
    bisection_bw_bytes_per_s: float
    """Per direction: N·b/2, divided by the leaf oversubscription."""
    max_hops: int
    """Links on the longest endpoint-to-endpoint shortest path."""
    port_bw_bytes_per_s: float
    oversubscription: float


def _tiers(counts: ClosCounts) -> dict[str, int]:
    names = {1: ("leaf",), 2: ("leaf", "spine"), 3: ("leaf", "spine", "core")}[counts.tiers]
    values = (counts.leaves, counts.spines, counts.cores)
    return dict(zip(names, values, strict=False))


def _optics(counts: ClosCounts, sw: Switch, *, endpoint_dac: bool) -> tuple[int, int, int]:
    """(switch-side modules, NIC-side modules, fibers)."""
    switch_ports = 2 * counts.switch_links + (0 if endpoint_dac else counts.endpoint_links)
    nic_modules = 0 if endpoint_dac else math.ceil(counts.endpoint_links / sw.nic_transceiver.ports)
    fibers = counts.switch_links + (0 if endpoint_dac else counts.endpoint_links)
    return math.ceil(switch_ports / sw.ports_per_cage), nic_modules, fibers


def fabric_bill(*, endpoints: int, kind: str = "fat-tree", oversubscription: float = 1.0,
                switch: str | None = None, rails: int = 1, endpoint_dac: bool = False,
                fiber: str = "MPO-fiber", dac: str = "DAC-400G") -> FabricBill:
    """Switches, cables, transceivers, capex, power, bisection and hops of a Clos fabric.

    ``kind``: ``fat-tree`` (up to three tiers), ``leaf-spine`` (two at most) or
    ``rail-optimized`` (``rails`` rails, one per GPU index); ``switch`` is a catalog switch
    (default QM9700). TopologyInputError for an unknown kind or switch, an oversubscription
    below 1, or a fabric that needs more tiers.
    """
    if kind not in KINDS:
        raise TopologyInputError(f"kind(={kind!r}) must be one of {', '.join(KINDS)}")
    if kind != "rail-optimized" and rails != 1:
        raise TopologyInputError(f"rails(={rails}) needs kind 'rail-optimized'")
    sw = Switch.from_name(switch or DEFAULT_SWITCH)
    counts = clos_counts(endpoints=endpoints, radix=sw.ports, oversubscription=oversubscription,
                         rails=rails, max_tiers=2 if kind == "leaf-spine" else 3)
    switch_modules, nic_modules, fibers = _optics(counts, sw, endpoint_dac=endpoint_dac)
    dacs = counts.endpoint_links if endpoint_dac else 0
    fiber_part = Part.from_name(fiber, category="cable")
    dac_part = Part.from_name(dac, category="cable")
    capex = (counts.switches * sw.price_usd + switch_modules * sw.transceiver.price_usd
             + nic_modules * sw.nic_transceiver.price_usd + fibers * fiber_part.price_usd
             + dacs * dac_part.price_usd)
    power = (counts.switches * sw.power_w + switch_modules * sw.transceiver.power_w
             + nic_modules * sw.nic_transceiver.power_w)
    o = 1.0 if counts.tiers == 1 else float(oversubscription)
    return FabricBill(
        kind=kind, switch=sw.name, endpoints=endpoints, tiers=counts.tiers,
        switches=counts.switches, switches_by_tier=_tiers(counts), cables=fibers + dacs,
        transceivers=switch_modules + nic_modules, capex_usd=capex, power_w=power,
        bisection_bw_bytes_per_s=endpoints * sw.port_bw_bytes_per_s / 2.0 / o,
        max_hops=counts.max_hops, port_bw_bytes_per_s=sw.port_bw_bytes_per_s,
        oversubscription=o)

"""Typed views of the catalog's ``network`` kind: switches and the parts that join them.

Values and their sources live in ``catalog/data/network.yaml``; prices there are indicative.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet import catalog
from mlfleet.errors import CatalogError
from mlfleet.infra.topology.errors import TopologyInputError

DEFAULT_SWITCH = "QM9700"
"""The switch of the DGX SuperPOD H100 compute fabric (NVIDIA reference architecture)."""


def _entry(name: str, category: str) -> catalog.Entry:
    try:
        entry = catalog.get(name, kind="network")
    except CatalogError as exc:
        raise TopologyInputError(f"switch/part {name!r} is not in the catalog's network "
                                 f"kind: {exc}") from None
    if entry.get("category") != category:
        known = ", ".join(n for n in catalog.names("network")
                          if catalog.get(n, kind="network").get("category") == category)
        raise TopologyInputError(f"{name!r} is a {entry.get('category')}, not a {category}; "
                                 f"known {category}es: {known}")
    return entry


@dataclass(frozen=True, kw_only=True)
class Part:
    """A transceiver module or a cable."""

    name: str
    ports: int
    """Links one module serves (twin-port OSFP: 2); 1 for a cable."""
    power_w: float
    price_usd: float

    @classmethod
    def from_name(cls, name: str, *, category: str) -> Part:
        e = _entry(name, category)
        return cls(name=e.name, ports=int(e.get("ports", 1)), power_w=float(e.get("power_w", 0.0)),
                   price_usd=float(e.require("price_usd")))


@dataclass(frozen=True, kw_only=True)
class Switch:
    """A switch model: radix, port speed, power and price, and the optics it takes."""

    name: str
    ports: int
    """Radix: ports at ``port_bw_bytes_per_s``."""
    port_bw_bytes_per_s: float
    """Per direction, per port."""
    ports_per_cage: int
    """Ports one switch-side transceiver module serves."""
    latency_s: float
    power_w: float
    """Typical, without optics."""
    price_usd: float
    transceiver: Part
    """Switch-side module."""
    nic_transceiver: Part
    """Endpoint (NIC) side module."""

    @classmethod
    def from_name(cls, name: str) -> Switch:
        """The catalog switch ``name``; TopologyInputError listing the known switches."""
        e = _entry(name, "switch")
        return cls(name=e.name, ports=int(e.require("ports")),
                   port_bw_bytes_per_s=float(e.require("port_bw_bytes_per_s")),
                   ports_per_cage=int(e.get("ports_per_cage", 1)),
                   latency_s=float(e.get("latency_s", 0.0)), power_w=float(e.require("power_w")),
                   price_usd=float(e.require("price_usd")),
                   transceiver=Part.from_name(str(e.require("transceiver")), category="transceiver"),
                   nic_transceiver=Part.from_name(str(e.require("nic_transceiver")),
                                                  category="transceiver"))


def switch_names() -> list[str]:
    """Catalog switches, in catalog order."""
    return [n for n in catalog.names("network")
            if catalog.get(n, kind="network").get("category") == "switch"]


def switch_for_port_bw(port_bw_bytes_per_s: float) -> Switch:
    """The catalog switch whose port speed is closest to ``port_bw_bytes_per_s`` (ties: the
    first in catalog order)."""
    switches = [Switch.from_name(n) for n in switch_names()]
    return min(switches, key=lambda s: abs(s.port_bw_bytes_per_s - port_bw_bytes_per_s))

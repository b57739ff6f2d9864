"""An emulated multi-host lab on one Linux machine: network namespaces, a bridge, shaped links.

Each host is a network namespace with one veth to a bridge (in its own "switch"
namespace); every link is shaped by ``tc tbf`` in both directions; neighbours
and bridge forwarding are static, so the links carry only what a test sends and
``tc -s`` byte counters can be checked against an algorithm's predicted traffic
exactly. Needs root. See ``docs/communication-lab.md``.

Public API::

    with Lab(hosts=4, rate_bytes_per_s=125e6) as lab:   # 4 hosts, 1 Gbit/s links
        lab.hosts          # [LabHost(ip, exec_prefix, namespace, ifname)], rank i on host i
        lab.counters()     # tc bytes/packets/drops per link direction + TCP retransmissions

    hosts_for("NAME")      # hosts of a lab made by `mlfleet lab hosts up` ("lab": the only one)
"""

from __future__ import annotations

from mlfleet.comm.lab.counters import HostCounters, QdiscCounters, diff_counters
from mlfleet.comm.lab.lab import Lab, LabHost, down, down_all, find_lab, hosts_for
from mlfleet.comm.lab.shaping import (
    TCP_FRAME_HEADER_BYTES,
    payload_fraction,
    payload_rate_bytes_per_s,
)
from mlfleet.comm.lab.state import LabState

__all__ = [
    "TCP_FRAME_HEADER_BYTES",
    "HostCounters",
    "Lab",
    "LabHost",
    "LabState",
    "QdiscCounters",
    "diff_counters",
    "down",
    "down_all",
    "find_lab",
    "hosts_for",
    "payload_fraction",
    "payload_rate_bytes_per_s",
]

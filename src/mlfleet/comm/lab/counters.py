"""Byte, packet and drop counters of every lab link, from ``tc -s -j qdisc show``.

tbf counts each frame it dequeues: bytes are ``qdisc_pkt_len`` (L2 header +
IP + TCP + payload; for a GSO super-packet the kernel adds the headers of every
segment it stands for) and packets count GSO segments individually. So on a link
that carries only established TCP connections with timestamps, every packet —
data or pure ACK — carries exactly :data:`TCP_FRAME_HEADER_BYTES` of headers and::

    payload bytes = tc bytes − packets × 66

exactly. SYN/FIN handshakes, ARP, IPv6 or SACK blocks would break that; the lab
is built so that none of them happens inside a measured window (see
``docs/communication-lab.md``). TCP retransmissions are read from each host's
``/proc/net/snmp`` so a test can assert there were none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from mlfleet.comm.lab.netns import Runner, ns_exec, run_command
from mlfleet.comm.lab.shaping import TCP_FRAME_HEADER_BYTES
from mlfleet.comm.lab.state import LabState
from mlfleet.errors import RunError


@dataclass(frozen=True, kw_only=True)
class QdiscCounters:
    """Cumulative counters of one root qdisc (one link direction)."""

    bytes: int
    """Frame bytes dequeued (sent on the link)."""
    packets: int
    """Frames dequeued, GSO segments counted one by one."""
    drops: int
    """Frames dropped by the qdisc."""
    overlimits: int
    """Times the bucket was empty when a frame was due (shaping in action, not loss)."""

    def __sub__(self, other: QdiscCounters) -> QdiscCounters:
        return QdiscCounters(bytes=self.bytes - other.bytes, packets=self.packets - other.packets,
                             drops=self.drops - other.drops,
                             overlimits=self.overlimits - other.overlimits)

    def payload_bytes(self, header_bytes: int = TCP_FRAME_HEADER_BYTES) -> int:
        """TCP payload carried, assuming every packet has ``header_bytes`` of headers."""
        return self.bytes - self.packets * header_bytes


@dataclass(frozen=True, kw_only=True)
class HostCounters:
    """Both directions of one host's link, plus its TCP retransmission count."""

    index: int
    """Host index."""
    uplink: QdiscCounters
    """What the host sent (egress of its NIC)."""
    downlink: QdiscCounters
    """What the host received (egress of its switch port)."""
    tcp_retrans_segs: int
    """TCP segments this host retransmitted (``RetransSegs`` of ``/proc/net/snmp``)."""

    def __sub__(self, other: HostCounters) -> HostCounters:
        assert self.index == other.index
        return HostCounters(index=self.index, uplink=self.uplink - other.uplink,
                            downlink=self.downlink - other.downlink,
                            tcp_retrans_segs=self.tcp_retrans_segs - other.tcp_retrans_segs)


def parse_qdisc_json(text: str, dev: str) -> QdiscCounters:
    """Counters of the root qdisc in ``tc -s -j qdisc show dev DEV`` output."""
    try:
        qdiscs = json.loads(text)
        root = next(q for q in qdiscs if q.get("root"))
        return QdiscCounters(bytes=int(root["bytes"]), packets=int(root["packets"]),
                             drops=int(root["drops"]), overlimits=int(root["overlimits"]))
    except (ValueError, StopIteration, KeyError, TypeError) as exc:
        raise RunError(f"cannot read tc counters of {dev}: {text[:200]!r}") from exc


def parse_retrans_segs(snmp_text: str) -> int:
    """``Tcp: RetransSegs`` from the text of ``/proc/net/snmp``."""
    rows = [line.split() for line in snmp_text.splitlines() if line.startswith("Tcp:")]
    if len(rows) < 2 or "RetransSegs" not in rows[0]:
        raise RunError("cannot find Tcp RetransSegs in /proc/net/snmp")
    return int(rows[1][rows[0].index("RetransSegs")])


def read_qdisc(namespace: str, dev: str, runner: Runner = run_command) -> QdiscCounters:
    """Counters of the root qdisc of ``dev`` in ``namespace``."""
    return parse_qdisc_json(
        runner(["tc", "-n", namespace, "-s", "-j", "qdisc", "show", "dev", dev]), dev)


def read_counters(state: LabState, runner: Runner = run_command) -> list[HostCounters]:
    """A snapshot of every host's link counters, by host index."""
    snapshot = []
    for host in state.hosts:
        snmp = runner([*ns_exec(host.namespace), "cat", "/proc/net/snmp"])
        snapshot.append(HostCounters(
            index=host.index,
            uplink=read_qdisc(host.namespace, host.ifname, runner),
            downlink=read_qdisc(state.switch_namespace, host.switch_port, runner),
            tcp_retrans_segs=parse_retrans_segs(snmp),
        ))
    return snapshot


def diff_counters(after: list[HostCounters], before: list[HostCounters]) -> list[HostCounters]:
    """Per-host counter differences ``after − before``."""
    return [a - b for a, b in zip(after, before, strict=True)]

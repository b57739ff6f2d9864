"""Build and tear down a lab's topology with ``ip``: namespaces, a bridge, veth pairs.

Topology of a lab with id ``abc123`` and N hosts::

    mfl-abc123-h0  [eth0]──veth──[p0]─┐
    mfl-abc123-h1  [eth0]──veth──[p1]─┤ br0   (namespace mfl-abc123-sw)
    ...                               │
    mfl-abc123-hN-1[eth0]──veth──[pN-1]┘

The bridge lives in its own "switch" namespace, so a lab touches nothing in the
root namespace and deleting its namespaces removes every device it made. The
network is made silent, so the only frames on a link are the ones a test sends:
IPv6 is disabled everywhere (no router solicitations, DAD or MLD), neighbours are
static on every host (no ARP), the bridge has static FDB entries (no flooding
of unknown unicast to other hosts' downlinks), no STP and no multicast snooping
(a snooping bridge joins 224.0.0.106 and floods IGMP reports to every port).

Every command goes through a :class:`Runner`, so tests can record the commands
without root, and the real one turns a failed command into a one-line
:class:`~mlfleet.errors.RunError`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from typing import Protocol

from mlfleet.comm.lab.state import NAMESPACE_RE, HostState, LabState
from mlfleet.errors import RunError, one_line

#: TCP settings inside each host namespace (per-namespace sysctls), see docs/communication-lab.md.
HOST_SYSCTLS: dict[str, str] = {
    "net.ipv6.conf.all.disable_ipv6": "1",
    "net.ipv6.conf.default.disable_ipv6": "1",
    "net.ipv4.tcp_timestamps": "1",  # fixes the TCP header at 32 bytes: the accounting needs it
    "net.ipv4.tcp_sack": "1",
    "net.ipv4.tcp_slow_start_after_idle": "0",  # a ring step's pause must not reset cwnd
    "net.ipv4.tcp_early_retrans": "0",  # no tail-loss probes: they resend data spuriously here
    # The namespaces inherit the machine's default (BBR here), whose PROBE_RTT drops
    # cwnd to 4 packets every 10 s and whose bandwidth estimate reads ACKs queued
    # behind data as a slower link: a ring link then stalls for ~50 ms at 100 Mbit/s.
    # The shapers never drop, so Reno simply opens cwnd to the receive-window clamp.
    "net.ipv4.tcp_congestion_control": "reno",
}
SWITCH_SYSCTLS: dict[str, str] = {
    "net.ipv6.conf.all.disable_ipv6": "1",
    "net.ipv6.conf.default.disable_ipv6": "1",
}


class Runner(Protocol):
    """Runs one command line and returns its stdout; raises RunError if it fails."""

    def __call__(self, argv: Sequence[str], *, check: bool = True) -> str:
        """Run ``argv``; with ``check=False`` a failure returns '' instead of raising."""
        ...


def run_command(argv: Sequence[str], *, check: bool = True) -> str:
    """The real :class:`Runner`: ``subprocess.run`` with a one-line error on failure."""
    proc = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        if not check:
            return ""
        detail = one_line(proc.stderr or proc.stdout) or f"exit status {proc.returncode}"
        raise RunError(f"lab command failed: {' '.join(argv)}: {detail}")
    return proc.stdout


def require_privileges() -> None:
    """Raise RunError unless this process is root and ``ip``/``tc`` are installed."""
    missing = [tool for tool in ("ip", "tc", "bridge") if shutil.which(tool) is None]
    if missing:
        raise RunError(
            f"the network lab needs iproute2 ({', '.join(missing)} not found on PATH); "
            "install it (apt-get install iproute2)"
        )
    if os.geteuid() != 0:
        raise RunError(
            "the network lab needs root (it creates network namespaces and tc qdiscs); "
            "run it as root, e.g. sudo mlfleet lab hosts up"
        )


def ns_exec(namespace: str) -> list[str]:
    """The command prefix that runs a program inside ``namespace``."""
    return ["ip", "netns", "exec", namespace]


def list_namespaces(runner: Runner = run_command) -> list[str]:
    """Names of all network namespaces (``ip netns list``)."""
    out = runner(["ip", "netns", "list"], check=False)
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def lab_namespaces(lab_id: str | None, runner: Runner = run_command) -> list[str]:
    """Existing namespaces of lab ``lab_id`` (of every lab when None), found by name."""
    found = []
    for name in list_namespaces(runner):
        match = NAMESPACE_RE.match(name)
        if match and (lab_id is None or match["lab_id"] == lab_id):
            found.append(name)
    return found


def delete_namespaces(names: Sequence[str], runner: Runner = run_command) -> None:
    """Delete namespaces (and with them every device inside); missing ones are ignored."""
    for name in names:
        runner(["ip", "netns", "delete", name], check=False)


def build_topology(state: LabState, runner: Runner = run_command) -> None:
    """Create the namespaces, bridge, veths, addresses, static neighbours and FDB of ``state``.

    Shaping is separate (:func:`mlfleet.comm.lab.shaping.apply_shaping`).
    """
    for namespace in state.namespaces:
        runner(["ip", "netns", "add", namespace])
    _sysctl(state.switch_namespace, SWITCH_SYSCTLS, runner)
    # autotuned sockets (gloo's) may grow their window to what rmem allows, past the
    # route's clamp; bound that too (sockets with SO_RCVBUF set keep the clamp)
    tcp_rmem = {"net.ipv4.tcp_rmem": f"4096 131072 {max(2 * state.window_bytes, 131072)}"}
    for host in state.hosts:
        _sysctl(host.namespace, {**HOST_SYSCTLS, **tcp_rmem}, runner)
    sw = ["ip", "-n", state.switch_namespace]
    # no STP (BPDUs), no multicast snooping (it joins 224.0.0.106 and sends IGMP reports)
    runner([*sw, "link", "add", state.bridge, "mtu", str(state.mtu_bytes), "type", "bridge",
            "stp_state", "0", "mcast_snooping", "0"])
    for host in state.hosts:
        _add_host_link(state, host, runner)
    runner([*sw, "link", "set", state.bridge, "up"])
    _add_static_neighbours(state, runner)
    _steer_receive(state, runner)


def _sysctl(namespace: str, values: dict[str, str], runner: Runner) -> None:
    settings = [f"{key}={value}" for key, value in values.items()]
    runner([*ns_exec(namespace), "sysctl", "-q", "-w", *settings])


def _add_host_link(state: LabState, host: HostState, runner: Runner) -> None:
    mtu = str(state.mtu_bytes)
    runner(["ip", "link", "add", host.ifname, "netns", host.namespace, "mtu", mtu,
            "address", host.mac, "type", "veth",
            "peer", "name", host.switch_port, "netns", state.switch_namespace, "mtu", mtu])
    sw = ["ip", "-n", state.switch_namespace]
    runner([*sw, "link", "set", host.switch_port, "master", state.bridge, "up"])
    hn = ["ip", "-n", host.namespace]
    prefix_len = state.subnet.split("/")[1]
    runner([*hn, "addr", "add", f"{host.ip}/{prefix_len}", "dev", host.ifname, "noprefixroute"])
    runner([*hn, "link", "set", "lo", "up"])
    runner([*hn, "link", "set", host.ifname, "up"])
    # the subnet route carries the TCP limits that keep the shaper queues short (see shaping)
    runner([*hn, "route", "add", state.subnet, "dev", host.ifname, "src", host.ip,
            "window", str(state.window_bytes), "rto_min", f"{round(state.rto_min_s * 1e3)}ms"])


def _add_static_neighbours(state: LabState, runner: Runner) -> None:
    for host in state.hosts:
        runner(["bridge", "-n", state.switch_namespace, "fdb", "replace", host.mac,
                "dev", host.switch_port, "master", "static"])
        for peer in state.hosts:
            if peer.index != host.index:
                runner(["ip", "-n", host.namespace, "neigh", "replace", peer.ip,
                        "lladdr", peer.mac, "dev", host.ifname, "nud", "permanent"])


def _steer_receive(state: LabState, runner: Runner) -> None:
    """Turn on RPS on every veth so one flow is always received on one CPU.

    A veth hands each frame to the backlog queue of the CPU that happened to send
    it; the tbf watchdog and the sending process run on different CPUs, so without
    RPS a flow's frames can overtake each other. The receiver then answers with
    SACK blocks (12 more header bytes per ACK) and may even retransmit.
    """
    mask = cpu_mask(os.cpu_count() or 1)
    for host in state.hosts:
        _write_sys(host.namespace, f"class/net/{host.ifname}/queues/rx-0/rps_cpus", mask, runner)
        _write_sys(state.switch_namespace, f"class/net/{host.switch_port}/queues/rx-0/rps_cpus",
                   mask, runner)


def _write_sys(namespace: str, path: str, value: str, runner: Runner) -> None:
    # `ip netns exec` mounts the namespace's own /sys, so the device is visible there
    runner([*ns_exec(namespace), "sh", "-c", f"echo {value} > /sys/{path}"])


def cpu_mask(n_cpus: int) -> str:
    """The sysfs cpumask text selecting CPUs 0..n_cpus-1 (comma-separated 32-bit groups)."""
    value = (1 << n_cpus) - 1
    groups = []
    while True:
        groups.append(f"{value & 0xFFFFFFFF:08x}")
        value >>= 32
        if not value:
            break
    return ",".join(reversed(groups))


def host_mac(lab_id: str, index: int) -> str:
    """A locally administered unicast MAC for host ``index`` of lab ``lab_id``."""
    octets = [0x02, int(lab_id[0:2], 16), int(lab_id[2:4], 16), int(lab_id[4:6], 16),
              (index >> 8) & 0xFF, index & 0xFF]
    return ":".join(f"{o:02x}" for o in octets)

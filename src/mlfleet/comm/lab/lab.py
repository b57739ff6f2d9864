"""Bring a lab up and down, find it again by name, and never leave one behind.

:class:`Lab` is a context manager: the lab exists inside the ``with`` block and
is removed on exit, on interpreter exit (atexit) and on SIGINT/SIGTERM. A lab
made by ``mlfleet lab hosts up`` is *kept* (``keep=True``) until
``mlfleet lab hosts down``; it is removed automatically only if building it fails.
"""

from __future__ import annotations

import atexit
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from types import FrameType, TracebackType

from mlfleet.comm.lab import counters as counters_mod
from mlfleet.comm.lab import netns, shaping
from mlfleet.comm.lab import state as state_mod
from mlfleet.comm.lab.state import HostState, LabState
from mlfleet.errors import InputError, RunError

MAX_HOSTS = 64
DEFAULT_MTU_BYTES = 9000


@dataclass(frozen=True, kw_only=True)
class LabHost:
    """Where rank i runs: the host's IP and the prefix that executes a program on it.

    Field-compatible with the launcher's ``HostSpec(ip, exec_prefix)``.
    """

    ip: str
    """IPv4 address of the host inside the lab."""
    exec_prefix: list[str] = field(default_factory=list)
    """Command prefix that runs a program on the host (``ip netns exec <ns>``)."""
    namespace: str = ""
    """The host's network namespace."""
    ifname: str = "eth0"
    """The host's interface (e.g. for GLOO_SOCKET_IFNAME)."""


def hosts_of(state: LabState) -> list[LabHost]:
    """The hosts of a lab, in rank order."""
    return [LabHost(ip=h.ip, exec_prefix=netns.ns_exec(h.namespace), namespace=h.namespace,
                    ifname=h.ifname) for h in state.hosts]


def find_lab(name: str) -> LabState:
    """The lab called ``name``; ``"lab"`` means the only lab that is up.

    Raises :class:`InputError` naming the labs that exist when there is no match.
    """
    states = [s for s in state_mod.list_states() if s.status == "up"]
    if name == state_mod.ANY_LAB:
        if len(states) == 1:
            return states[0]
        known = ", ".join(s.name for s in states) or "none"
        raise InputError(
            f"--hosts {name!r} needs exactly one lab up, found: {known}; "
            "name one, or start one with: mlfleet lab hosts up --hosts 4 --bw 1gbit"
        )
    found = state_mod.read_state(name)
    if found is None or found.status != "up":
        known = ", ".join(s.name for s in states) or "none"
        raise InputError(f"no lab named {name!r} is up (labs up: {known})")
    return found


def hosts_for(name: str) -> list[LabHost]:
    """Hosts of lab ``name`` (``"lab"``: the only lab up), rank i on host i."""
    return hosts_of(find_lab(name))


def new_state(
    *,
    n_hosts: int,
    rate_bytes_per_s: float,
    name: str | None = None,
    mtu_bytes: int = DEFAULT_MTU_BYTES,
    burst_bytes: int | None = None,
    limit_bytes: int | None = None,
) -> LabState:
    """Validate the arguments and describe a new lab (nothing is created)."""
    if not 2 <= n_hosts <= MAX_HOSTS:
        raise InputError(f"hosts(={n_hosts}) must be between 2 and {MAX_HOSTS}")
    if not 1280 <= mtu_bytes <= 65000:
        raise InputError(f"mtu(={mtu_bytes}) must be between 1280 and 65000 bytes")
    tbf = shaping.tbf_config(rate_bytes_per_s, mtu_bytes=mtu_bytes, n_hosts=n_hosts,
                             burst_bytes=burst_bytes, limit_bytes=limit_bytes)
    existing = state_mod.list_states()
    lab_id = _fresh_id(existing)
    subnet = state_mod.subnet_for(lab_id)
    net = subnet.rsplit(".", 1)[0]
    hosts = tuple(
        HostState(index=i, namespace=f"mfl-{lab_id}-h{i}", ifname="eth0", switch_port=f"p{i}",
                  ip=f"{net}.{i + 1}", mac=netns.host_mac(lab_id, i))
        for i in range(n_hosts)
    )
    return LabState(
        name=state_mod.validate_name(name) if name is not None else f"lab-{lab_id}",
        lab_id=lab_id, subnet=subnet, switch_namespace=f"mfl-{lab_id}-sw", bridge="br0",
        mtu_bytes=mtu_bytes, rate_bytes_per_s=tbf.rate_bytes_per_s,
        burst_bytes=tbf.burst_bytes, limit_bytes=tbf.limit_bytes,
        window_bytes=tbf.window_bytes, rto_min_s=tbf.rto_min_s, hosts=hosts,
        owner_pid=os.getpid(), owner_uid=state_mod.creator_uid())


def _fresh_id(existing: list[LabState]) -> str:
    taken_ids = {s.lab_id for s in existing}
    taken_subnets = {s.subnet for s in existing}
    while True:
        lab_id = state_mod.new_lab_id(taken_ids)
        if state_mod.subnet_for(lab_id) not in taken_subnets:
            return lab_id
        taken_ids.add(lab_id)


def links_of(state: LabState) -> list[tuple[str, str]]:
    """Every shaped ``(namespace, dev)``: uplinks then downlinks."""
    uplinks = [(h.namespace, h.ifname) for h in state.hosts]
    downlinks = [(state.switch_namespace, h.switch_port) for h in state.hosts]
    return uplinks + downlinks


def create(state: LabState, runner: netns.Runner = netns.run_command) -> LabState:
    """Build the lab described by ``state`` and return it with status ``up``.

    The state file is claimed first, so a crash leaves something ``down`` can find;
    if building fails, whatever was made is removed before the error propagates.
    """
    netns.require_privileges()
    state_mod.claim_name(state)
    try:
        netns.build_topology(state, runner)
        tbf = shaping.TbfConfig(rate_bytes_per_s=state.rate_bytes_per_s,
                                burst_bytes=state.burst_bytes, limit_bytes=state.limit_bytes,
                                window_bytes=state.window_bytes, rto_min_s=state.rto_min_s)
        shaping.apply_shaping(links_of(state), tbf, runner)
    except BaseException:
        destroy(state, runner)
        raise
    up = replace(state, status="up")
    state_mod.write_state(up)
    return up


def destroy(state: LabState, runner: netns.Runner = netns.run_command) -> None:
    """Remove every namespace of the lab (found by id, so half-built labs go too) and its file."""
    names = set(state.namespaces) | set(netns.lab_namespaces(state.lab_id, runner))
    netns.delete_namespaces(sorted(names), runner)
    recorded = state_mod.read_state(state.name)
    if recorded is not None and recorded.lab_id == state.lab_id:  # never another lab's file
        state_mod.remove_state(state.name)


def down(name: str, runner: netns.Runner = netns.run_command) -> LabState:
    """Take lab ``name`` down; raise InputError if there is no such lab."""
    netns.require_privileges()
    found = state_mod.read_state(name)
    if found is None:
        known = ", ".join(s.name for s in state_mod.list_states()) or "none"
        raise InputError(f"no lab named {name!r} (labs: {known})")
    destroy(found, runner)
    return found


@dataclass(frozen=True, kw_only=True)
class DownAll:
    """What ``down --all`` removed and what it left for ``--force``."""

    removed_namespaces: list[str]
    """Namespaces deleted."""
    kept_labs: list[tuple[str, str]]
    """``(lab name, why it was kept)``: another user's lab, or one a live run is using."""
    kept_orphans: list[str]
    """Lab-like namespaces with no state file here (perhaps another state directory's)."""


def down_all(runner: netns.Runner = netns.run_command, *, force: bool = False) -> DownAll:
    """Remove this user's labs that no live run is using; with ``force``, every lab and
    every namespace named like a lab's (leftovers with no state file included)."""
    netns.require_privileges()
    names: set[str] = set()
    kept: list[tuple[str, str]] = []
    states = state_mod.list_states()
    for found in states:
        why = None if force else _keep_reason(found)
        if why is not None:
            kept.append((found.name, why))
            continue
        names |= set(found.namespaces) | set(netns.lab_namespaces(found.lab_id, runner))
        state_mod.remove_state(found.name)
    known_ids = {s.lab_id for s in states}
    orphans = {ns for ns in netns.lab_namespaces(None, runner)
               if ns.split("-")[1] not in known_ids}
    if force:
        names |= orphans
    existing = set(netns.list_namespaces(runner))
    netns.delete_namespaces(sorted(names), runner)
    return DownAll(removed_namespaces=sorted(names & existing), kept_labs=kept,
                   kept_orphans=[] if force else sorted(orphans))


def _keep_reason(state: LabState) -> str | None:
    """Why ``down --all`` without ``--force`` leaves ``state`` up, or None to remove it."""
    if state.owner_uid is None:
        return "its creator was not recorded"
    if state.owner_uid != state_mod.creator_uid():
        return f"created by uid {state.owner_uid}"
    if state.owner_pid != os.getpid() and state_mod.owner_alive(state):
        return f"in use by pid {state.owner_pid}"
    return None


class Lab:
    """A lab as a context manager: built on enter, removed on exit, atexit or SIGINT/SIGTERM.

    ``Lab(hosts=4, rate_bytes_per_s=125e6)`` gives 4 hosts on 1 Gbit/s links.
    Raises RunError (not root, ``ip`` missing, a command failed) or InputError.
    """

    def __init__(
        self,
        *,
        hosts: int = 4,
        rate_bytes_per_s: float,
        name: str | None = None,
        mtu_bytes: int = DEFAULT_MTU_BYTES,
        burst_bytes: int | None = None,
        limit_bytes: int | None = None,
        keep: bool = False,
        runner: netns.Runner = netns.run_command,
    ) -> None:
        self._spec = new_state(n_hosts=hosts, rate_bytes_per_s=rate_bytes_per_s, name=name,
                               mtu_bytes=mtu_bytes, burst_bytes=burst_bytes,
                               limit_bytes=limit_bytes)
        self._keep = keep
        self._runner = runner
        self._state: LabState | None = None

    @property
    def state(self) -> LabState:
        """The lab's state; RunError if it is not up."""
        if self._state is None:
            raise RunError(f"lab {self._spec.name!r} is not up")
        return self._state

    @property
    def name(self) -> str:
        """The lab's name."""
        return self._spec.name

    @property
    def hosts(self) -> list[LabHost]:
        """The hosts, rank i on host i."""
        return hosts_of(self.state)

    def counters(self) -> list[counters_mod.HostCounters]:
        """A snapshot of every link's tc counters and each host's TCP retransmissions."""
        return counters_mod.read_counters(self.state, self._runner)

    def up(self) -> LabState:
        """Build the lab (idempotent)."""
        if self._state is None:
            _REGISTRY.add(self)
            try:
                self._state = create(self._spec, self._runner)
            except BaseException:
                _REGISTRY.discard(self)
                raise
            if self._keep:
                _REGISTRY.discard(self)
        return self._state

    def down(self) -> None:
        """Remove the lab (idempotent)."""
        _REGISTRY.discard(self)
        if self._state is not None:
            destroy(self._state, self._runner)
            self._state = None

    def __enter__(self) -> Lab:
        self.up()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if not self._keep:
            self.down()


class _Registry:
    """Labs this process must remove if it exits or is interrupted."""

    def __init__(self) -> None:
        self._labs: list[Lab] = []
        self._lock = threading.Lock()
        self._installed = False

    def add(self, lab: Lab) -> None:
        with self._lock:
            self._labs.append(lab)
            if not self._installed:
                self._install()
                self._installed = True

    def discard(self, lab: Lab) -> None:
        with self._lock:
            if lab in self._labs:
                self._labs.remove(lab)

    def cleanup(self) -> None:
        with self._lock:
            labs, self._labs = self._labs, []
        for lab in labs:
            if lab._state is not None:
                destroy(lab._state, lab._runner)
            else:  # interrupted while building: remove by id
                destroy(lab._spec, lab._runner)

    def _install(self) -> None:
        atexit.register(self.cleanup)
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous = signal.getsignal(signum)
            if previous != signal.SIG_IGN:  # an ignored signal must not end the lab either
                signal.signal(signum, self._handler(previous))

    def _handler(self, previous: object) -> Callable[[int, FrameType | None], None]:
        def handle(signum: int, frame: FrameType | None) -> None:
            self.cleanup()
            if callable(previous):
                previous(signum, frame)
            elif previous == signal.SIG_DFL:
                # exit as the default action would, but through `finally` blocks, so
                # whatever else the process started (rank processes) is stopped too
                raise SystemExit(128 + signum)

        return handle


_REGISTRY = _Registry()

"""What a running lab is: its hosts, namespaces, addresses and link shaping, as a JSON file.

A lab's state is written *before* any namespace is created (status ``"creating"``)
and flipped to ``"up"`` once everything is configured, so a crash half-way leaves
a file that ``mlfleet lab hosts down`` can use to find and remove the leftovers.
Other processes (``mlfleet run collective --hosts NAME``) read it to learn where
each host lives.

The directory is ``$MLFLEET_LAB_STATE_DIR`` when set, else ``/run/mlfleet-lab``
(tmpfs: it vanishes on reboot together with the namespaces it describes).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlfleet.errors import InputError

STATE_DIR_ENV = "MLFLEET_LAB_STATE_DIR"
DEFAULT_STATE_DIR = Path("/run/mlfleet-lab")
#: Every namespace of every lab is named ``mfl-<lab_id>-<role>``; ``down --all`` matches this.
NAMESPACE_RE = re.compile(r"^mfl-(?P<lab_id>[0-9a-f]{6})-(?P<role>sw|h\d+)$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
#: The name that means "the only lab that is up" (``--hosts lab``).
ANY_LAB = "lab"


@dataclass(frozen=True, kw_only=True)
class HostState:
    """One emulated host: a network namespace with one shaped link to the switch."""

    index: int
    """Host number, 0-based; rank i of a launch runs on host i."""
    namespace: str
    """Network namespace name (``ip netns exec <namespace> ...``)."""
    ifname: str
    """Interface inside the host namespace (the host's NIC; its egress is the uplink)."""
    switch_port: str
    """Bridge-side veth in the switch namespace (its egress is the host's downlink)."""
    ip: str
    """IPv4 address of the host on the lab subnet."""
    mac: str
    """MAC address of ``ifname`` (static neighbour and FDB entries use it)."""


@dataclass(frozen=True, kw_only=True)
class LabState:
    """A whole lab: N hosts on one bridge, every link shaped in both directions."""

    name: str
    """Human label, unique among labs (file name of the state)."""
    lab_id: str
    """Six hex digits, unique among labs; part of every namespace name."""
    subnet: str
    """IPv4 /24 of the hosts, e.g. ``10.183.42.0/24``."""
    switch_namespace: str
    """Namespace holding the bridge and the bridge-side veths."""
    bridge: str
    """Bridge device name inside ``switch_namespace``."""
    mtu_bytes: int
    """MTU of every veth and of the bridge."""
    rate_bytes_per_s: float
    """Shaped rate of every link direction, in L2 frame bytes (no preamble/FCS) per second."""
    burst_bytes: int
    """tbf bucket size."""
    limit_bytes: int
    """tbf queue limit."""
    window_bytes: int
    """TCP receive-window clamp on the lab route of every host."""
    rto_min_s: float
    """Minimum TCP retransmission timeout on the lab route of every host."""
    hosts: tuple[HostState, ...]
    """The hosts, by index."""
    owner_pid: int
    """PID of the process that created the lab (while it lives, a run is using the lab)."""
    owner_uid: int | None = None
    """The user who created the lab (``SUDO_UID`` under sudo); ``None`` in files written
    before it was recorded. ``down --all`` leaves other users' labs alone."""
    status: str = "creating"
    """``creating`` while being built, ``up`` once usable."""

    @property
    def namespaces(self) -> list[str]:
        """Every namespace of the lab, hosts first."""
        return [h.namespace for h in self.hosts] + [self.switch_namespace]

    def to_json(self) -> str:
        """The state as a JSON document."""
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> LabState:
        """Parse :meth:`to_json` output."""
        data: dict[str, Any] = json.loads(text)
        data["hosts"] = tuple(HostState(**h) for h in data["hosts"])
        return cls(**data)


def state_dir() -> Path:
    """Directory of the lab state files."""
    return Path(os.environ.get(STATE_DIR_ENV) or DEFAULT_STATE_DIR)


def creator_uid() -> int:
    """The user on whose behalf this process runs: ``SUDO_UID`` under sudo, else the uid."""
    sudo_uid = os.environ.get("SUDO_UID", "")
    if os.getuid() == 0 and sudo_uid.isdigit():
        return int(sudo_uid)
    return os.getuid()


def owner_alive(state: LabState) -> bool:
    """Whether the process that created ``state`` still runs (a run is using the lab)."""
    try:
        os.kill(state.owner_pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def _ensure_state_dir() -> Path:
    """The state directory, created if missing; :class:`InputError` if it cannot be."""
    directory = state_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o755)
    except FileExistsError:
        raise InputError(_bad_dir(directory, "it is a file, not a directory")) from None
    except OSError as exc:
        raise InputError(_bad_dir(directory, exc.strerror or str(exc))) from None
    return directory


def _bad_dir(directory: Path, why: str) -> str:
    source = f"{STATE_DIR_ENV}(={str(directory)!r})" if os.environ.get(STATE_DIR_ENV) else (
        f"the lab state directory {str(directory)!r}")
    return (f"{source} cannot hold lab state: {why}; set {STATE_DIR_ENV} to a writable "
            "directory")


def validate_name(name: str) -> str:
    """Return ``name`` if it is a valid lab name, else raise :class:`InputError`."""
    if not _NAME_RE.match(name) or name == ANY_LAB:
        raise InputError(
            f"lab name {name!r} is not allowed: use 1-32 letters, digits, '_', '.', '-' "
            f"(starting with a letter or digit), and not {ANY_LAB!r}"
        )
    return name


def new_lab_id(taken: set[str]) -> str:
    """A fresh random six-hex-digit lab id not in ``taken``."""
    while True:
        lab_id = secrets.token_hex(3)
        if lab_id not in taken:
            return lab_id


def subnet_for(lab_id: str) -> str:
    """The /24 a lab uses, derived from its id: ``10.<64..191>.<0..255>.0/24``."""
    value = int(lab_id, 16)
    return f"10.{64 + (value >> 8) % 128}.{value & 0xFF}.0/24"


def write_state(state: LabState) -> Path:
    """Atomically write ``state`` to its file; return the path."""
    path = _ensure_state_dir() / f"{state.name}.json"
    tmp = path.with_suffix(f".json.tmp{os.getpid()}")
    try:
        tmp.write_text(state.to_json())
        tmp.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise InputError(_bad_dir(path.parent, exc.strerror or str(exc))) from None
    return path


def claim_name(state: LabState) -> Path:
    """Write the first state of a new lab; raise :class:`InputError` if the name is taken."""
    path = _ensure_state_dir() / f"{state.name}.json"
    try:
        with path.open("x") as handle:  # exclusive: two `up --name X` cannot both win
            handle.write(state.to_json())
    except FileExistsError:
        raise InputError(
            f"a lab named {state.name!r} already exists ({path}); "
            f"take it down first (mlfleet lab hosts down --name {state.name})"
        ) from None
    except OSError as exc:
        raise InputError(_bad_dir(path.parent, exc.strerror or str(exc))) from None
    return path


def read_state(name: str) -> LabState | None:
    """The state of lab ``name``, or None if there is none; InputError for a name that
    is not a lab name (``../x`` would read outside the state directory)."""
    path = state_dir() / f"{validate_name(name)}.json"
    try:
        return LabState.from_json(path.read_text())
    except (FileNotFoundError, NotADirectoryError):
        return None


def list_states() -> list[LabState]:
    """Every lab with a state file, sorted by name (unreadable files are skipped)."""
    directory = state_dir()
    if not directory.is_dir():
        return []
    states = []
    for path in sorted(directory.glob("*.json")):
        try:
            states.append(LabState.from_json(path.read_text()))
        except (OSError, ValueError, TypeError, KeyError):
            continue
    return states


def remove_state(name: str) -> None:
    """Delete the state file of lab ``name`` (no error if absent)."""
    (state_dir() / f"{validate_name(name)}.json").unlink(missing_ok=True)

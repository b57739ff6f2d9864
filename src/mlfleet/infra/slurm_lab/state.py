"""The state file of a Slurm lab: where its files are and which network lab it runs in.

Written before anything starts (``creating``) and flipped to ``up`` when every daemon
answers, so ``mlfleet lab slurm down`` can clean up after a crash half-way. The directory
is ``$MLFLEET_SLURM_STATE_DIR`` when set, else ``/run/mlfleet-slurm``.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

from mlfleet.errors import InputError

STATE_DIR_ENV = "MLFLEET_SLURM_STATE_DIR"
DEFAULT_STATE_DIR = Path("/run/mlfleet-slurm")
STATE_NAME = "slurm"
"""One Slurm lab at a time (its ports and munge key are per lab, but one is enough)."""


@dataclass(frozen=True, kw_only=True)
class SlurmLabState:
    """What ``status`` and ``down`` need to find a lab."""

    root: str
    """Directory holding every config, key, spool, state, database and log file."""
    lab_name: str
    """The network lab (``mlfleet lab hosts``) whose namespaces the daemons run in."""
    control_namespace: str
    """The namespace of slurmctld (and munged, mariadbd, slurmdbd): host 0's."""
    namespaces: tuple[str, ...]
    host_ips: tuple[str, ...]
    gpus_per_host: int
    accounting: bool
    status: str = "creating"

    @property
    def slurm_conf(self) -> Path:
        """The slurm.conf clients need in ``SLURM_CONF``."""
        return Path(self.root) / "etc" / "slurm.conf"

    def to_json(self) -> str:
        """The state as a JSON document."""
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SlurmLabState:
        """Parse :meth:`to_json` output."""
        data = json.loads(text)
        data["namespaces"] = tuple(data["namespaces"])
        data["host_ips"] = tuple(data["host_ips"])
        return cls(**data)


def state_path() -> Path:
    """The state file's path."""
    return Path(os.environ.get(STATE_DIR_ENV) or DEFAULT_STATE_DIR) / f"{STATE_NAME}.json"


def read() -> SlurmLabState | None:
    """The lab's state, or None when no Slurm lab exists (or its file is unreadable)."""
    try:
        return SlurmLabState.from_json(state_path().read_text())
    except (OSError, ValueError, TypeError, KeyError):
        return None


def claim(state: SlurmLabState) -> None:
    """Write the first state; InputError if a Slurm lab already exists."""
    path = state_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x") as handle:
            handle.write(state.to_json())
    except FileExistsError:
        raise InputError(f"a Slurm lab is already up ({path}); take it down first: "
                         "mlfleet lab slurm down") from None
    except OSError as exc:
        raise InputError(f"cannot write the Slurm lab state {str(path)!r}: {exc.strerror}; "
                         f"set {STATE_DIR_ENV} to a writable directory") from None


def write(state: SlurmLabState) -> None:
    """Replace the state file."""
    path = state_path()
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(state.to_json())
    tmp.replace(path)


def remove() -> None:
    """Delete the state file (no error if absent)."""
    state_path().unlink(missing_ok=True)

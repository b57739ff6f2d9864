"""Allocations from a real run's log: the JSON document of ``mlfleet run train --json``.

The run held ``ranks`` devices (CPU cores for the gloo runs on this machine, GPUs under
NCCL) for its wall time, its request; it used them for the useful part of that time
(``useful_s``: completed steps x step cycle), so ``used = ranks x useful_s / wall_s``.

This is the seam for richer logs: per-rank logs of ``mlfleet run train --log-dir`` (the
debugging chapter) would give each rank's own busy time; a new reader returns the same
:class:`~mlfleet.ops.cost.allocation.Allocation` and nothing downstream changes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlfleet.checks import one_of
from mlfleet.errors import InputError
from mlfleet.ops.cost.allocation import Allocation
from mlfleet.ops.cost.resources import Resource

RUN_FIELDS = ("ranks", "wall_s", "useful_s")
DEVICES = {"cpu": Resource.CPU, "gpu": Resource.GPU}


class RunLogError(InputError):
    """A run log that is not a ``mlfleet run train --json`` document."""


def _field(doc: Mapping[str, Any], name: str, source: str) -> float:
    value = doc.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or value < 0:
        raise RunLogError(f"{source}: {name}(={value!r}) must be a number >= 0 (want the "
                          "document of mlfleet run train --json)")
    return float(value)


def train_allocation(doc: Mapping[str, Any], *, team: str, model: str, device: str = "cpu",
                     source: str = "run log") -> Allocation:
    """The allocation of one training run from its JSON document."""
    missing = [f for f in RUN_FIELDS if f not in doc]
    if missing:
        raise RunLogError(f"{source}: missing field(s) {', '.join(missing)} (want the "
                          "document of mlfleet run train --json)")
    ranks, wall_s, useful_s = (_field(doc, f, source) for f in RUN_FIELDS)
    if wall_s <= 0 or ranks < 1:
        raise RunLogError(f"{source}: wall_s(={wall_s:g}) and ranks(={ranks:g}) must be > 0")
    resource = DEVICES[one_of("device", device, DEVICES)]
    return Allocation(name=source, team=team, model=model, duration_h=wall_s / 3600.0,
                      requested={resource: ranks},
                      used={resource: ranks * min(useful_s / wall_s, 1.0)})


def read_run_log(path: Path, *, team: str, model: str, device: str = "cpu") -> Allocation:
    """:func:`train_allocation` of the JSON file at ``path``."""
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunLogError(f"run log(={str(path)!r}) is not a readable JSON file ({exc})") \
            from None
    if not isinstance(doc, dict):
        raise RunLogError(f"{path.name}: want a JSON object (mlfleet run train --json)")
    return train_allocation(doc, team=team, model=model, device=device, source=path.name)

"""Shadow deployment: mirror a fraction of live traffic to a new version, discard its answers.

Users are served by the primary group only; each admitted request is copied with
probability ``fraction`` to the shadow group, whose responses go nowhere. The shadow's
latency (and errors) are measured on real traffic before promotion, with no user
impact — provided the shadow runs on its own replicas, as here. The engine records
the copies separately (``shadow_of`` >= 0) and leaves them out of user metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from mlfleet.checks import fraction
from mlfleet.errors import PolicyConfigError
from mlfleet.serving.sim.results import LatencyStats, SimResult

if TYPE_CHECKING:
    from mlfleet.serving.sim.engine import Engine


def start_shadow(engine: Engine, *, share: float, shadow: str = "shadow",
                 primary: str = "stable", at_s: float | None = None) -> None:
    """Serve users from ``primary`` only and mirror ``share`` of them to ``shadow``."""
    fraction("share", share, open_low=True, error=PolicyConfigError)
    groups = {r.group for r in engine.replicas}
    for name in (shadow, primary):
        if name not in groups:
            raise PolicyConfigError(f"group {name!r} has no replica; groups: "
                                    f"{', '.join(sorted(groups))}")
    engine.set_split({primary: 1.0}, at_s=at_s)
    engine.set_mirror(shadow, fraction=share, at_s=at_s)


@dataclass(frozen=True, kw_only=True)
class ShadowReport:
    """The shadow's latency next to the primary's on the same (mirrored) requests."""

    mirrored: int
    """Shadow copies made."""
    completed: int
    """Shadow copies the shadow group completed."""
    shadow_e2e: LatencyStats
    primary_e2e: LatencyStats
    """Latency of the originals of the mirrored requests (a paired comparison)."""


def shadow_report(result: SimResult) -> ShadowReport:
    """Compare shadow copies with their originals in ``result``."""
    copies = np.flatnonzero(result.shadow_of >= 0)
    originals = result.shadow_of[copies]
    e2e = result.e2e_s
    return ShadowReport(mirrored=int(copies.size), completed=int(result.done[copies].sum()),
                        shadow_e2e=LatencyStats.of(e2e[copies]),
                        primary_e2e=LatencyStats.of(e2e[originals]))

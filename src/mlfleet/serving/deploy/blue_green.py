"""Blue-green deployment: two full environments, all traffic switched at once.

The new version (green) is brought up beside the live one (blue) at full size; at the
switch every arrival from that instant on goes to green and none to blue (blue drains
what it already holds), so no user sees a mix of versions within the cut-over. Rollback
is the same switch back — instant, because blue is still running. The price is double
capacity while both environments are up (:func:`standby_replica_s`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlfleet.checks import non_negative
from mlfleet.errors import PolicyConfigError

if TYPE_CHECKING:
    from mlfleet.serving.sim.engine import Engine


class BlueGreenDeployment:
    """Routes all traffic to one live group of an engine; switches and rolls back atomically."""

    def __init__(self, engine: Engine, *, blue: str = "blue", green: str = "green") -> None:
        groups = {r.group for r in engine.replicas}
        for name in (blue, green):
            if name not in groups:
                raise PolicyConfigError(f"group {name!r} has no replica; groups: "
                                        f"{', '.join(sorted(groups))}")
        self.engine = engine
        self.blue, self.green = blue, green
        self.timeline: list[tuple[float, str]] = [(engine.now_s, blue)]
        """(time, live group) at each change, in order."""
        engine.set_split({blue: 1.0})

    def switch(self, *, at_s: float) -> None:
        """From ``at_s`` on, every arrival goes to the other group."""
        self._go(at_s, self.green if self.timeline[-1][1] == self.blue else self.blue)

    def rollback(self, *, at_s: float) -> None:
        """Back to the group that was live before the last switch."""
        if len(self.timeline) < 2:
            raise PolicyConfigError("rollback needs an earlier switch (none was made)")
        self._go(at_s, self.timeline[-2][1])

    def live_at(self, t_s: float) -> str:
        """The group that receives arrivals at ``t_s``."""
        live = self.timeline[0][1]
        for at_s, group in self.timeline:
            if at_s <= t_s:
                live = group
        return live

    def _go(self, at_s: float, group: str) -> None:
        if at_s < self.timeline[-1][0]:
            raise PolicyConfigError(f"at_s(={at_s!r}) must not precede the last change "
                                    f"({self.timeline[-1][0]:g} s)")
        self.timeline.append((at_s, group))
        self.engine.set_split({group: 1.0}, at_s=at_s)


def standby_replica_s(*, replicas_per_env: int, overlap_s: float) -> float:
    """Replica-seconds of the second environment while both run (the cost of instant rollback)."""
    if replicas_per_env < 1:
        raise PolicyConfigError(f"replicas_per_env(={replicas_per_env!r}) must be >= 1")
    return replicas_per_env * non_negative("overlap_s", overlap_s, error=PolicyConfigError)

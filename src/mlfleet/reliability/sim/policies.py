"""What a training job does about failures: its checkpoint policy and its spare nodes.

* :class:`CheckpointPolicy` — every ``interval_s`` of work, a checkpoint. ``sync``: the
  job stops for the whole write (``cost_s``). ``async``: only the in-memory snapshot
  (``snapshot_s``) is on the critical path; the write (``cost_s``) lands in the
  background, and a failure before it lands loses it (the previous checkpoint is the
  restart point). A snapshot waits for the previous write to land.
* :class:`SparePolicy` / :class:`SparePool` — ``spares=None`` is Daly's assumption: a
  failed node is replaced at once and the job restarts after detection + restart. With
  a finite pool, a failure takes nodes from the pool; failed nodes come back to it after
  ``repair_s``. When the pool is short, the job either waits for repairs or, when
  ``elastic``, continues on fewer nodes at proportionally lower throughput and grows
  back (one more restart, at a checkpoint boundary) when nodes return.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mlfleet.checks import non_negative, one_of, positive, positive_int

Mode = Literal["sync", "async"]
MODES: tuple[Mode, ...] = ("sync", "async")


@dataclass(frozen=True, kw_only=True)
class CheckpointPolicy:
    """How often and how a job checkpoints."""

    interval_s: float
    """Seconds of (full-speed) work between checkpoints."""
    cost_s: float
    """Seconds to write one checkpoint (sync: the job's stall; async: the background write)."""
    mode: Mode = "sync"
    """``sync`` or ``async``."""
    snapshot_s: float = 0.0
    """Async only: seconds of in-memory snapshot on the critical path."""
    final: bool = True
    """Whether the last segment also writes a checkpoint (Daly's model assumes it does)."""

    def __post_init__(self) -> None:
        positive("interval_s", self.interval_s)
        non_negative("cost_s", self.cost_s)
        one_of("mode", self.mode, MODES)
        non_negative("snapshot_s", self.snapshot_s)

    @property
    def stall_s(self) -> float:
        """Seconds the job stops per checkpoint."""
        return self.cost_s if self.mode == "sync" else self.snapshot_s


@dataclass(frozen=True, kw_only=True)
class SparePolicy:
    """Spare nodes and what the job does when none is left."""

    spares: int | None = None
    """Hot spares in the pool (None: unlimited, failed nodes replaced at once)."""
    repair_s: float = 86400.0
    """Seconds until a failed node returns to the pool."""
    elastic: bool = False
    """Continue on fewer nodes when the pool is short, instead of waiting."""

    def __post_init__(self) -> None:
        if self.spares is not None:
            positive_int("spares", self.spares, minimum=0)
        positive("repair_s", self.repair_s)


class SparePool:
    """The spare nodes of one run: how many are free now and how many are in repair."""

    __slots__ = ("free", "in_repair", "unlimited")

    def __init__(self, policy: SparePolicy) -> None:
        self.unlimited = policy.spares is None
        self.free = 0 if policy.spares is None else policy.spares
        self.in_repair = 0

    def take(self, nodes: int) -> int:
        """Take up to ``nodes`` spares; returns how many were short (0 when served)."""
        if self.unlimited:
            return 0
        got = min(nodes, self.free)
        self.free -= got
        return nodes - got

    def send_to_repair(self, nodes: int) -> None:
        """``nodes`` failed nodes leave for repair (nothing to track when unlimited)."""
        if not self.unlimited:
            self.in_repair += nodes

    def repaired(self) -> None:
        """One node is back from repair, free in the pool."""
        assert self.in_repair > 0, "a node came back that was never sent"
        self.in_repair -= 1
        self.free += 1

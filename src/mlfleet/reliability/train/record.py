"""What the supervisor saw during a run: attempts, failures, steps, checkpoints, injections.

Times are ``time.monotonic()`` seconds (one clock for the supervisor and its ranks on
Linux). :mod:`mlfleet.reliability.train.report` turns a :class:`RunRecord` into figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True)
class Failure:
    """One failure of an attempt, as the supervisor diagnosed it."""

    kind: str
    """``died`` (exited or killed), ``hung`` (heartbeat stale), ``stalled`` (no step
    progress on any rank), ``error`` (a rank reported an exception)."""
    rank: int
    """The rank blamed (the root cause, not the peers that lost it)."""
    message: str
    """One line: what happened."""
    last_step: int
    """Highest step any rank had completed when it was detected."""
    fault_t: float | None
    """When the fault was injected (None: not an injected fault)."""
    detected_t: float
    """When the supervisor noticed it."""


@dataclass
class Attempt:
    """One launch of the world, from its start to its end."""

    world: int
    """Ranks in this attempt."""
    resume_step: int
    """Checkpoint it restored (0: from scratch)."""
    stop_step: int
    """Step at which it was to stop (the last step or an elastic regrow point)."""
    launch_t: float
    ready_t: float | None = None
    """When every rank had joined the group and restored."""
    first_step_t: float | None = None
    """When the first new step completed on some rank."""
    done_t: float | None = None
    """When the last rank reported it had finished (before the processes exit)."""
    end_t: float | None = None
    failure: Failure | None = None
    reached_step: int = 0
    """Highest step completed by some rank."""
    first_lr: float | None = None
    """The learning rate of its first step (shows an elastic rescale)."""


@dataclass(frozen=True, kw_only=True)
class CheckpointEvent:
    """One checkpoint step of one attempt: committed or not, and what it cost."""

    step: int
    world: int
    committed: bool
    stall_s: float | None
    """Longest time a rank's training loop was blocked by it."""
    write_s: float | None
    """Longest time from snapshot to durable shard, over the ranks."""
    bytes: int
    """Bytes over every shard."""
    error: str | None = None


@dataclass
class RunRecord:
    """Everything a run's report is computed from."""

    start_t: float
    end_t: float | None = None
    attempts: list[Attempt] = field(default_factory=list)
    step_s: dict[int, float] = field(default_factory=dict)
    """Per step, rank 0's step time in the execution that counted (the last one)."""
    cycles_s: list[float] = field(default_factory=list)
    """Rank 0's time from one step's end to the next's, where no checkpoint lay between."""
    steps_executed: int = 0
    """Steps executed, redone ones included (rank 0's count)."""
    compute_s: dict[int, list[tuple[int, float]]] = field(default_factory=dict)
    """Per rank, ``(step, compute seconds)`` in execution order (straggler detection)."""
    checkpoints: list[CheckpointEvent] = field(default_factory=list)
    injected: list[str] = field(default_factory=list)
    """Faults that fired, as one line each."""
    skipped_checkpoints: list[str] = field(default_factory=list)
    """Checkpoints a recovery found corrupt and skipped (one line each)."""
    sha256: str | None = None
    final_loss: float | None = None

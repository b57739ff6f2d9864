"""Applies a fault schedule to a running fleet's replicas, at its times, and undoes
whatever is still open when the run ends (on every path: success, error, Ctrl-C).

``drain`` is SIGTERM: the server drains (:mod:`mlfleet.serving.server.draining`) and exits
on its own; a ``restart`` after it waits for that exit (up to ``drain_wait_s``), so
the restart never cuts the drain short.

``slow`` is an injected delay that touches only its replica: a duty cycle of SIGSTOP and
SIGCONT (stopped ``1 − 1/factor`` of every :data:`SLOW_PERIOD_S`), so the replica runs
at ``1/factor`` of its speed, as the simulator's ``speed`` models it. A CPU hog would
slow every process on a small host, not just the one replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from mlfleet.reliability.chaos.faults import FaultStep

SLOW_PERIOD_S = 0.05


class ChaosReplica(Protocol):
    """What the injector needs of a replica (the fleet's :class:`Replica`)."""

    def kill(self, signum: int = signal.SIGKILL) -> None: ...

    def restart(self) -> None: ...

    def alive(self) -> bool: ...


@dataclass(kw_only=True)
class AppliedStep:
    """A step and when it actually took effect (run seconds)."""

    step: FaultStep
    applied_s: float
    done_s: float = float("nan")
    """When the action finished (a restart waits for readiness)."""


@dataclass
class Injector:
    """Runs ``steps`` against ``replicas`` relative to ``t0_s`` (``time.monotonic()``)."""

    replicas: Sequence[ChaosReplica]
    steps: Sequence[FaultStep]
    slow_factor: float = 2.0
    drain_wait_s: float = 30.0
    """Longest a restart waits for a drained replica to exit by itself."""
    applied: list[AppliedStep] = field(default_factory=list)
    _stopped: set[int] = field(default_factory=set)
    _slowing: dict[int, asyncio.Task[None]] = field(default_factory=dict)

    async def run(self, t0_s: float) -> None:
        """Apply every step at its time; on exit, resume whatever is stopped or slowed."""
        try:
            for step in self.steps:
                await asyncio.sleep(max(0.0, t0_s + step.at_s - time.monotonic()))
                record = AppliedStep(step=step, applied_s=time.monotonic() - t0_s)
                self.applied.append(record)
                await self._apply(step)
                record.done_s = time.monotonic() - t0_s
        finally:
            await self.undo_all()

    async def _apply(self, step: FaultStep) -> None:
        replica, r = self.replicas[step.replica], step.replica
        if step.action == "kill":
            await self._end_slow(r)
            replica.kill(signal.SIGKILL)
            self._stopped.discard(r)
        elif step.action == "drain":
            await self._end_slow(r)
            replica.kill(signal.SIGTERM)
        elif step.action == "restart":
            await self._exited(replica)
            await asyncio.to_thread(replica.restart)
        elif step.action == "stop":
            replica.kill(signal.SIGSTOP)
            self._stopped.add(r)
        elif step.action == "cont":
            self._stopped.discard(r)
            replica.kill(signal.SIGCONT)
        elif step.action == "slow":
            self._slowing[r] = asyncio.create_task(self._duty_cycle(replica))
        else:  # fast
            await self._end_slow(r)

    async def _exited(self, replica: ChaosReplica) -> None:
        deadline = time.monotonic() + self.drain_wait_s
        while replica.alive() and time.monotonic() < deadline:
            await asyncio.sleep(0.02)

    async def _duty_cycle(self, replica: ChaosReplica) -> None:
        paused_s = SLOW_PERIOD_S * (1.0 - 1.0 / self.slow_factor)
        try:
            while True:
                replica.kill(signal.SIGSTOP)
                await asyncio.sleep(paused_s)
                replica.kill(signal.SIGCONT)
                await asyncio.sleep(SLOW_PERIOD_S - paused_s)
        finally:
            replica.kill(signal.SIGCONT)

    async def _end_slow(self, r: int) -> None:
        task = self._slowing.pop(r, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def undo_all(self) -> None:
        """Resume every stopped or slowed replica (killed ones stay for the fleet to reap)."""
        for r in list(self._slowing):
            await self._end_slow(r)
        for r in sorted(self._stopped):
            self.replicas[r].kill(signal.SIGCONT)
        self._stopped.clear()

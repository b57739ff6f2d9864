"""One chaos run on a real fleet: HAProxy in front of N ``mlfleet serve`` replicas,
open-loop load from the recorder, the fault schedule applied under it.

    with Fleet.start(...) as fleet:       # serving/fleet: replicas, then HAProxy
        recorder.run()  ||  injector.run(recorder's time 0)
        fleet.stats()                     # HAProxy's per-server counters, at the end

Everything the run starts is stopped on every path: the injector resumes what it
paused, the fleet stops and reaps its processes (also on Ctrl-C).
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

from mlfleet.checks import non_negative, positive, positive_int
from mlfleet.errors import InputError
from mlfleet.reliability.chaos.faults import FaultStep, episodes, schedule
from mlfleet.reliability.chaos.injector import AppliedStep, Injector
from mlfleet.reliability.chaos.recorder import SERVED_BY, ClientRecords, Recorder, RetryGate
from mlfleet.serving.fleet.launcher import Fleet
from mlfleet.serving.fleet.spec import FleetSpec
from mlfleet.serving.fleet.stats import ServerStats
from mlfleet.serving.loadgen_spec import LoadSpec

SERVED_BY_LINE = f"http-response set-header {SERVED_BY} %s"
"""Backend line naming the replica that answered (``%s``: the server's name)."""
MAX_BATCH = 8
SMALL_SERVER = ("--max-batch", str(MAX_BATCH), "--queue-capacity", "256", "--torch-threads", "1")
"""Replica options for a small host: many replicas share two cores."""


@dataclass(frozen=True, kw_only=True)
class ChaosSpec:
    """A chaos run: the fleet, the load and the faults."""

    replicas: int = 3
    balance: str = "random2"
    rate_rps: float = 60.0
    duration_s: float = 30.0
    faults: tuple[str, ...] = ()
    """``--fault`` episodes (:mod:`.faults`)."""
    seed: int = 0
    items_per_request: int = 16
    slow_factor: float = 2.0
    """A ``slow`` replica runs at 1/slow_factor of its speed."""
    check_interval_s: float = 0.5
    fall: int = 2
    rise: int = 2
    haproxy_retries: int = 2
    """HAProxy's ``retries``: 0 turns off its retries and redispatch, so a killed
    replica's requests fail until its probes mark it down (a failed fraction to predict)."""
    drain_s: float = 2.0
    """Each replica's ``--drain``: how long a ``drain`` fault keeps it serving."""
    server_timeout_s: float = 30.0
    client_timeout_s: float = 30.0
    max_attempts: int = 4
    """Client attempts per request (the first included), within its retry gate."""
    server_extra: tuple[str, ...] = ()
    """More ``mlfleet serve`` options for every replica (e.g. an admission policy)."""

    def __post_init__(self) -> None:
        positive("rate_rps", self.rate_rps)
        positive("duration_s", self.duration_s)
        positive_int("max_attempts", self.max_attempts)
        non_negative("drain_s", self.drain_s)
        if not self.slow_factor >= 1.0:
            raise InputError(f"slow_factor(={self.slow_factor:g}) must be >= 1")
        self.fleet_spec()  # validates replicas and balance
        self.load_spec("http://127.0.0.1:1")  # validates rate, duration, seed
        self.steps()  # validates the faults against the fleet and the run

    def steps(self) -> list[FaultStep]:
        """Every fault step, in time order."""
        return schedule(self.faults, replicas=self.replicas, duration_s=self.duration_s)

    def episodes(self) -> list[list[FaultStep]]:
        """The steps of each ``--fault``, episodes in time order."""
        return episodes(self.faults, replicas=self.replicas, duration_s=self.duration_s)

    def fleet_spec(self) -> FleetSpec:
        return FleetSpec(replicas=self.replicas, balance=self.balance,
                         server_args=(*SMALL_SERVER, "--drain", f"{self.drain_s:g}s",
                                      *self.server_extra),
                         haproxy_extra=(SERVED_BY_LINE,),
                         check_interval_s=self.check_interval_s, fall=self.fall,
                         rise=self.rise, retries=self.haproxy_retries,
                         server_timeout_s=self.server_timeout_s)

    def load_spec(self, url: str) -> LoadSpec:
        return LoadSpec(url=url + "/v1/rank", rate_rps=self.rate_rps, duration_s=self.duration_s,
                        seed=self.seed, items_per_request=self.items_per_request,
                        timeout_s=self.client_timeout_s)


@dataclass(frozen=True, kw_only=True)
class ChaosRun:
    """What a run produced: the client's records, the faults as applied, HAProxy's counts."""

    spec: ChaosSpec
    records: ClientRecords
    applied: tuple[AppliedStep, ...]
    servers: tuple[ServerStats, ...]
    """HAProxy's per-replica counters at the end of the run."""


def run_chaos(spec: ChaosSpec, *, gate: RetryGate | None = None) -> ChaosRun:
    """Start the fleet, drive the load, apply the faults, stop everything.

    Raises ServingInputError (HAProxy missing), RunError (a start failed)."""
    with Fleet.start(spec.fleet_spec()) as fleet:
        recorder = Recorder(spec.load_spec(fleet.url), run_id=f"c{os.getpid()}", gate=gate,
                            max_attempts=spec.max_attempts)
        injector = Injector(replicas=fleet.replicas, steps=spec.steps(),
                            slow_factor=spec.slow_factor, drain_wait_s=spec.drain_s + 30.0)
        records = asyncio.run(_drive(recorder, injector))
        return ChaosRun(spec=spec, records=records, applied=tuple(injector.applied),
                        servers=fleet.stats())


async def _drive(recorder: Recorder, injector: Injector) -> ClientRecords:
    started = asyncio.Event()
    load = asyncio.create_task(recorder.run(started=started))
    chaos: asyncio.Task[None] | None = None
    try:
        await _first(started, load)
        chaos = asyncio.create_task(injector.run(recorder.t0_s))
        records = await load
        await chaos
        return records
    finally:
        for task in (load, chaos):
            if task is not None and not task.done():
                task.cancel()
        await asyncio.gather(*(t for t in (load, chaos) if t is not None),
                             return_exceptions=True)
        await injector.undo_all()


async def _first(started: asyncio.Event, load: asyncio.Task[ClientRecords]) -> None:
    """Wait until the load has its time 0 (or failed before it)."""
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait([waiter, load], return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if load.done():
        load.result()  # raises what stopped it

"""Validation provider of the discrete-event kernel (``mlfleet validate``).

An M/M/c queue written directly on :class:`mlfleet.sim.Simulation` (arrival and departure
handlers, seeded named streams), its mean wait and P(wait) against Erlang C: the kernel's
clock, ordering and streams are right only if the queue's statistics come out right.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from mlfleet.serving.models import queueing
from mlfleet.sim import Simulation
from mlfleet.validate.registry import Check, Context

_check = partial(Check, chapter="sim")
SERVERS, ARRIVAL_RATE, SERVICE_RATE, REQUESTS = 4, 3.2, 1.0, 200_000
"""M/M/4 at ρ = 0.8, the worked example of docs/sim.md."""
BOUNDS = {"mean_wait_s": 0.10, "p_wait": 0.03}
"""About twice the 95 % CI half-width of 200,000 requests (5 % and 1.3 %)."""


@dataclass(kw_only=True)
class MmcOnKernel:
    """FIFO M/M/c state driven by the kernel's arrival and departure events."""

    sim: Simulation
    busy: int = 0
    arrived: int = 0
    waited: int = 0
    wait_s: float = 0.0
    queue: deque[float] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self.arrive, self.depart = self.sim.kind("arrival"), self.sim.kind("departure")
        self.gaps, self.services = self.sim.stream("arrivals"), self.sim.stream("service")

    def _service_done(self, t: float) -> tuple[float, Any, None]:
        return (t + self.services.exponential(1 / SERVICE_RATE), self.depart, None)

    def on_arrival(self, t: float, seq: int, payload: object) -> list[Any]:
        self.arrived += 1
        events: list[Any] = []
        if self.arrived < REQUESTS:
            events.append((t + self.gaps.exponential(1 / ARRIVAL_RATE), self.arrive, None))
        if self.busy < SERVERS:
            self.busy += 1
            return [*events, self._service_done(t)]
        self.queue.append(t)
        return events

    def on_departure(self, t: float, seq: int, payload: object) -> list[Any] | None:
        if not self.queue:
            self.busy -= 1
            return None
        self.waited += 1
        self.wait_s += t - self.queue.popleft()
        return [self._service_done(t)]

    def run(self) -> dict[str, float]:
        self.sim.schedule(0.0, self.arrive)
        self.sim.run({self.arrive: self.on_arrival, self.depart: self.on_departure})
        return {"mean_wait_s": self.wait_s / REQUESTS, "p_wait": self.waited / REQUESTS}


def provide(ctx: Context) -> list[Check]:
    simulated = MmcOnKernel(sim=Simulation(seed=ctx.seed)).run()
    erlang_c = {"mean_wait_s": float(queueing.mean_wait_s(SERVERS, ARRIVAL_RATE, SERVICE_RATE)),
                "p_wait": float(queueing.erlang_c(SERVERS, ARRIVAL_RATE, SERVICE_RATE))}
    return [_check(id=f"sim.kernel.mm4-rho0.8.{name}",
                   quantity=f"{name} of M/M/4 at ρ = 0.8 on the event kernel",
                   model="serving.models.queueing (Erlang C)",
                   reference=f"M/M/4 written on mlfleet.sim.Simulation, {REQUESTS} requests,"
                             f" seed {ctx.seed}",
                   reference_kind="simulation", reference_value=simulated[name],
                   predicted=erlang_c[name], bound=bound)
            for name, bound in BOUNDS.items()]

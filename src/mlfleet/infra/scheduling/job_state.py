"""One job's state in the engine: placement, restart countdown, service received."""

from __future__ import annotations

import math

from mlfleet.infra.scheduling.speed.model import JobSpeed
from mlfleet.infra.scheduling.types import JobRecord, JobSpec, JobView, Placement


def counts_of(placement: Placement) -> tuple[int, ...]:
    """GPUs per node of a sorted placement, in node order: ``(0, 0, 3)`` -> ``(2, 1)``."""
    counts: list[int] = []
    last = -1
    for node in placement:
        if node == last:
            counts[-1] += 1
        else:
            counts.append(1)
            last = node
    return tuple(counts)


class JobState:
    """What the engine tracks for a job; :attr:`view` is what policies see."""

    __slots__ = ("spec", "speed", "view", "placement", "delay_left_s", "last_s",
                 "start_s", "finish_s", "held_gpu_s", "_eta_s")

    def __init__(self, spec: JobSpec, speed: JobSpeed, *, order: int) -> None:
        self.spec, self.speed = spec, speed
        self.view = JobView(spec=spec, placement=(), age_s=0.0, attained_service_gpu_s=0.0,
                            executed_s=0.0, progress=0.0, order=order,
                            throughput=lambda p: speed.rate(counts_of(p)),
                            remaining_s=lambda p: speed.remaining_s(counts_of(p)))
        self.placement: Placement = ()
        self.delay_left_s = 0.0
        """Seconds of restart delay still to pay before it progresses."""
        self.last_s = spec.submit_s
        """Time it was last advanced to."""
        self.start_s: float | None = None
        self.finish_s: float | None = None
        self.held_gpu_s = 0.0
        self._eta_s: float | None = math.inf

    def advance_to(self, now_s: float) -> None:
        """Train from :attr:`last_s` to ``now_s`` on the current placement."""
        dt = now_s - self.last_s
        if dt <= 0.0 or not self.placement:
            self.last_s = max(self.last_s, now_s)
            return
        gpus = len(self.placement)
        delay = min(self.delay_left_s, dt)
        self.delay_left_s -= delay
        used = self.speed.advance(dt - delay)
        run_s = dt if used is None else min(delay + used, dt)
        if used is not None:
            self.finish_s = self.last_s + run_s
        self.held_gpu_s += run_s * gpus
        view = self.view
        view.executed_s += run_s
        view.attained_service_gpu_s += run_s * gpus
        view.progress = self.speed.fraction_done
        self.last_s = now_s

    def replace(self, placement: Placement, counts: tuple[int, ...], *, now_s: float,
                delay_s: float) -> None:
        """Hold ``placement`` from ``now_s`` (a different one than now)."""
        view = self.view
        self.last_s = now_s
        if placement:
            self.delay_left_s = delay_s
            if self.start_s is None:
                self.start_s = view.first_start_s = now_s
            else:
                view.restarts += 1
        elif self.placement:
            view.preemptions += 1
        self.placement = view.placement = placement
        self.speed.place(counts)
        self._eta_s = None if placement else math.inf

    @property
    def eta_s(self) -> float:
        """When it would finish if its placement stayed as it is (inf: holds nothing);
        computed on first use after a placement change."""
        if self._eta_s is None:
            self._eta_s = self.last_s + self.delay_left_s + self.speed.time_to_finish_s()
        return self._eta_s

    def record(self) -> JobRecord:
        """Its row of the result."""
        view = self.view
        return JobRecord(name=self.spec.name, submit_s=self.spec.submit_s,
                         start_s=self.start_s, finish_s=self.finish_s, gpus=self.spec.gpus,
                         team=self.spec.team, restarts=view.restarts,
                         preemptions=view.preemptions, isolated_s=self.speed.isolated_s(),
                         gpu_s=self.held_gpu_s, application=self.spec.application)

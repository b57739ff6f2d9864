"""Training progress of a profiled job (a Pollux workload job), epoch by epoch.

The Pollux artifact's job semantics (``simulator/simulator.py``, ``Job.step``), in our
own code: at a total batch B = replicas x atomic batch x (accumulation + 1), a step
takes ``step + accum x (step - sync)`` seconds and makes ``gain`` progress, with
:func:`~.profile.statistical_gain` at scale B / init_batch and the gradient statistics
of the current epoch (so goodput = gain / step time). An epoch ends when progress
reaches the profile's cumulative progress for it; the time to its end is rounded to
whole seconds (the artifact's completion times are whole seconds). The job finishes at
the end of its last epoch. The total batch is fixed (Tiresias and Optimus jobs).
"""

from __future__ import annotations

import math

from mlfleet.infra.scheduling.speed.model import packed_counts
from mlfleet.infra.scheduling.speed.profile import ApplicationProfile, statistical_gain


class ProfiledSpeed:
    """One job's epoch, progress and batch configuration (a :class:`~.model.JobSpeed`)."""

    __slots__ = ("profile", "batch_size", "gpus", "gpus_per_node", "epoch", "progress",
                 "counts", "_atomic", "_accum", "_oracle")

    def __init__(self, profile: ApplicationProfile, *, batch_size: int, gpus: int,
                 gpus_per_node: int = 4) -> None:
        self.profile = profile
        self.batch_size = batch_size
        """Total batch size the job trains with."""
        self.gpus = gpus
        """GPUs it asked for (its isolated run time is on these, packed)."""
        self.gpus_per_node = gpus_per_node
        self.epoch = 0
        self.progress = 0.0
        """Progress in iterations at the application's initial batch size."""
        self.counts: tuple[int, ...] = ()
        self._atomic, self._accum = 0, 0
        self._oracle: dict[tuple[int, tuple[int, ...]], float] = {}
        """remaining_s by (epoch, counts): constant within an epoch."""

    @property
    def fraction_done(self) -> float:
        return self.progress / self.profile.total_progress

    def place(self, counts: tuple[int, ...]) -> None:
        self.counts = tuple(c for c in counts if c)
        if self.counts:
            self._atomic, self._accum = self.profile.batch_plan(sum(self.counts),
                                                                self.batch_size)

    def _goodput(self, counts: tuple[int, ...], atomic: int, accum: int) -> float:
        """Progress per second on ``counts`` in the current epoch."""
        app = self.profile
        batch = sum(counts) * atomic * (accum + 1)
        step_s, sync_s = app.step_and_sync_s(counts, atomic)
        grad_sqr, grad_var = app.grad_stats(batch, self.epoch)
        gain = statistical_gain(grad_sqr, grad_var, batch / app.init_batch_size)
        return gain / (step_s + (step_s - sync_s) * accum)

    def advance(self, seconds: float) -> float | None:
        if not self.counts:
            return None
        used = 0.0
        while seconds > 0:
            rate = self._goodput(self.counts, self._atomic, self._accum)
            next_progress = self.profile.progress_after(self.epoch + 1)
            if self.progress + rate * seconds < next_progress:
                self.progress += rate * seconds
                return None
            delta = round((next_progress - self.progress) / rate)  # whole seconds
            self.epoch += 1
            self.progress = next_progress
            used += delta
            seconds -= delta
            if self.epoch > self.profile.completion_epoch:
                return used
        return None

    def rate(self, counts: tuple[int, ...]) -> float:
        counts = tuple(c for c in counts if c)
        if not counts or self.epoch > self.profile.completion_epoch:
            return 0.0
        atomic, accum = self.profile.batch_plan(sum(counts), self.batch_size)
        return self._goodput(counts, atomic, accum) / self.profile.total_progress

    def remaining_s(self, counts: tuple[int, ...]) -> float:
        """The artifact's Optimus oracle: iterations left from the start of the current
        epoch at the job's batch size, times the step time on ``counts``."""
        counts = tuple(c for c in counts if c)
        if not counts:
            return math.inf
        key = (self.epoch, counts)
        if key not in self._oracle:
            self._oracle[key] = self._oracle_s(counts)
        return self._oracle[key]

    def _oracle_s(self, counts: tuple[int, ...]) -> float:
        app = self.profile
        if app.completion_epoch <= self.epoch:
            left = 1.0
        else:
            left = (app.iterations_after(self.batch_size, app.completion_epoch)
                    - app.iterations_after(self.batch_size, self.epoch))
        atomic, accum = app.batch_plan(sum(counts), self.batch_size)
        step_s, sync_s = app.step_and_sync_s(counts, atomic)
        return left * (step_s + (step_s - sync_s) * accum)

    def time_to_finish_s(self) -> float:
        if not self.counts:
            return math.inf
        probe = self._copy()
        used = probe.advance(math.inf)
        return math.inf if used is None else used

    def isolated_s(self) -> float:
        fresh = self._twin()
        fresh.place(packed_counts(self.gpus, self.gpus_per_node))
        return fresh.time_to_finish_s()

    def _twin(self) -> ProfiledSpeed:
        return ProfiledSpeed(self.profile, batch_size=self.batch_size, gpus=self.gpus,
                             gpus_per_node=self.gpus_per_node)

    def _copy(self) -> ProfiledSpeed:
        twin = self._twin()
        twin.epoch, twin.progress, twin.counts = self.epoch, self.progress, self.counts
        twin._atomic, twin._accum = self._atomic, self._accum
        return twin


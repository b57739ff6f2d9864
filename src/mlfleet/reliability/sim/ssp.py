"""Bounded staleness (stale synchronous parallel, SSP) on the discrete-event kernel.

Ho et al., "More Effective Distributed ML via a Stale Synchronous Parallel Parameter
Server", NIPS 2013: a worker that has finished ``c`` steps may start step ``c + 1``
only while ``c - min_j c_j <= s``; ``s = 0`` is bulk-synchronous (every step waits for
the slowest worker), ``s = inf`` is fully asynchronous. Each worker's step times come
from :func:`~.stragglers.simulate_step_times` (the same slow-rank model), so ``s = 0``
reproduces the synchronous step time exactly (``tests/reliability/test_stragglers_sim.py``).

The effect on convergence is *cited, not simulated here*: Ho et al. prove that SSP SGD
converges (regret ``O(sqrt(T))``, the constant growing with ``s`` and the number of
workers) and measured faster convergence in wall time than both BSP and asynchronous
training on topic modelling, matrix factorisation and Lasso.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from mlfleet.checks import positive_int
from mlfleet.errors import InputError
from mlfleet.reliability.sim.stragglers import StepTimeModel, simulate_step_times
from mlfleet.sim import Simulation


@dataclass(frozen=True, kw_only=True)
class SspResult:
    """One SSP run."""

    staleness: float
    """The bound ``s`` (inf: asynchronous)."""
    steps: int
    """Steps every worker completed (the slowest worker's count at the end)."""
    wall_s: float
    """Seconds until every worker completed ``steps``."""
    updates_per_s: float
    """Steps completed by all workers together per second, over the run."""
    mean_staleness: float
    """Mean of (own count - slowest count) when a worker starts a step."""
    blocked_share: float
    """Share of worker-seconds spent blocked on the bound."""
    delays: np.ndarray = dataclasses.field(repr=False, compare=False)
    """Per update, in the order applied: updates applied by others between the worker's
    read of the parameters and its own update (a parameter server's staleness)."""

    @property
    def step_s(self) -> float:
        """Seconds per step of the slowest worker (the job's progress)."""
        return self.wall_s / self.steps


def simulate_ssp(model: StepTimeModel, *, steps: int, staleness: float,
                 seed: int) -> SspResult:
    """Run ``model.ranks`` workers until all finish ``steps`` steps under bound ``staleness``."""
    positive_int("steps", steps)
    if not (staleness >= 0 and (math.isinf(staleness) or float(staleness).is_integer())):
        raise InputError(f"staleness(={staleness!r}) must be an integer >= 0 or inf")
    sim = Simulation(seed=seed)
    times, _ = simulate_step_times(model, steps=steps, rng=sim.stream("step_times"))
    return _Ssp(sim, times, staleness).run()


class _Ssp:
    """Workers' clocks; the handler of ``step_done``."""

    def __init__(self, sim: Simulation, times: np.ndarray, staleness: float) -> None:
        self.sim, self.times, self.s = sim, times, staleness
        self.steps, self.n = times.shape
        self.done = np.zeros(self.n, dtype=np.int64)
        self.blocked: list[int] = []
        self.blocked_since = np.zeros(self.n)
        self.blocked_s = 0.0
        self.lead_sum, self.starts = 0, 0
        self.kind = sim.kind("step_done")
        self.finished_s = 0.0
        self.read_at = np.zeros(self.n, dtype=np.int64)
        self.delays: list[int] = []

    def run(self) -> SspResult:
        for w in range(self.n):
            self._start(w)
        self.sim.run({self.kind: self.on_done})
        wall = self.finished_s
        return SspResult(staleness=self.s, steps=self.steps, wall_s=wall,
                         updates_per_s=self.steps * self.n / wall,
                         mean_staleness=self.lead_sum / self.starts,
                         blocked_share=self.blocked_s / (wall * self.n),
                         delays=np.asarray(self.delays, dtype=np.int64))

    def _start(self, w: int) -> None:
        c = int(self.done[w])
        self.lead_sum += c - int(self.done.min())
        self.starts += 1
        self.read_at[w] = len(self.delays)
        self.sim.schedule_in(float(self.times[c, w]), self.kind, w)

    def on_done(self, t: float, seq: int, w: int) -> None:
        slowest_before = int(self.done.min())
        self.delays.append(len(self.delays) - int(self.read_at[w]))
        self.done[w] += 1
        if self.done[w] == self.steps:
            self.finished_s = max(self.finished_s, t)
        elif self.done[w] - slowest_before <= self.s:
            self._start(w)
        else:
            self.blocked.append(w)
            self.blocked_since[w] = t
        if int(self.done.min()) > slowest_before:
            self._release(t)

    def _release(self, t: float) -> None:
        slowest = int(self.done.min())
        still = []
        for w in self.blocked:
            if self.done[w] - slowest <= self.s:
                self.blocked_s += t - self.blocked_since[w]
                self._start(w)
            else:
                still.append(w)
        self.blocked = still

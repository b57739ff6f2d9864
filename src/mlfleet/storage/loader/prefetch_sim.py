"""A loader feeding a GPU through a prefetch buffer, as a discrete-event simulation.

The loader produces batches one after another (each taking a random time of mean
``batch_s``) into a buffer of ``prefetch_batches``; the GPU takes the oldest batch and
trains on it (a random time of mean ``step_s``); the loader stops while the buffer is
full and the GPU idles while it is empty. It validates the starvation model's two
closed forms (:mod:`mlfleet.storage.starvation`): the steady-state exposed time with
fixed times, and the M/M/1/K idle fraction with exponential times. Runs on
:class:`mlfleet.sim.Simulation`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlfleet.checks import one_of, positive, positive_int
from mlfleet.sim import Simulation

DISTRIBUTIONS = ("fixed", "exponential")
"""How batch-production and step times vary around their means."""


@dataclass(frozen=True, kw_only=True)
class PrefetchResult:
    """What the GPU did over a simulated run."""

    steps: int
    """Training steps completed."""
    elapsed_s: float
    """Simulated seconds until the last step completed."""
    gpu_idle_s: float
    """Seconds the GPU waited for a batch (the first batch's wait included)."""
    first_wait_s: float
    """The wait for the very first batch (pipeline fill)."""

    @property
    def idle_fraction(self) -> float:
        """gpu_idle_s / elapsed_s."""
        return self.gpu_idle_s / self.elapsed_s

    @property
    def exposed_s_per_step(self) -> float:
        """Idle seconds per step after the first batch arrived."""
        return (self.gpu_idle_s - self.first_wait_s) / self.steps


def _drawer(distribution: str, mean_s: float, rng: np.random.Generator) -> Callable[[], float]:
    if distribution == "fixed":
        return lambda: mean_s
    return lambda: float(rng.exponential(mean_s))


def simulate_prefetch(*, batch_s: float, step_s: float, prefetch_batches: int, steps: int,
                      distribution: str = "exponential", seed: int = 0) -> PrefetchResult:
    """Simulate ``steps`` training steps (see the module docstring)."""
    positive("batch_s", batch_s)
    positive("step_s", step_s)
    capacity = positive_int("prefetch_batches", prefetch_batches, minimum=0)
    positive_int("steps", steps)
    one_of("distribution", distribution, DISTRIBUTIONS)
    sim = Simulation(seed=seed)
    produced, trained = sim.kind("batch_ready"), sim.kind("step_done")
    load = _drawer(distribution, batch_s, sim.stream("loader"))
    train = _drawer(distribution, step_s, sim.stream("gpu"))
    s: dict[str, Any] = {"buffer": 0, "blocked": False, "busy": False, "idle_since": 0.0,
                         "idle_s": 0.0, "first_wait_s": None, "steps": 0, "end_s": 0.0}

    def start_step(t: float) -> tuple[float, int, None]:
        s["busy"] = True
        return t + train(), trained, None

    def on_ready(t: float, seq: int, payload: object) -> list[tuple[float, int, None]]:
        if s["steps"] >= steps:
            return []
        follow = []
        if not s["busy"]:
            s["idle_s"] += t - s["idle_since"]
            s["first_wait_s"] = t if s["first_wait_s"] is None else s["first_wait_s"]
            follow.append(start_step(t))
        else:
            s["buffer"] += 1
        if s["buffer"] < capacity:
            follow.append((t + load(), produced, None))
        else:
            s["blocked"] = True
        return follow

    def on_done(t: float, seq: int, payload: object) -> list[tuple[float, int, None]]:
        s["steps"], s["end_s"] = s["steps"] + 1, t
        if s["steps"] >= steps:
            return []
        follow = []
        if s["blocked"]:  # the GPU freed a slot: the loader goes on
            s["blocked"] = False
            follow.append((t + load(), produced, None))
        if s["buffer"] > 0:
            s["buffer"] -= 1
            follow.append(start_step(t))
        else:
            s["busy"], s["idle_since"] = False, t
        return follow

    sim.schedule(load(), produced)
    sim.run({produced: on_ready, trained: on_done})
    return PrefetchResult(steps=s["steps"], elapsed_s=s["end_s"], gpu_idle_s=s["idle_s"],
                          first_wait_s=float(s["first_wait_s"]))

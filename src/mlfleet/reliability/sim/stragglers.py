"""Synchronous data-parallel steps with slow ranks: per-rank step times and the step
time of the whole job, simulated and in closed form.

A rank's compute time for one step is ``base_s + X`` with ``X`` exponential of mean
``jitter_s``; while the rank is *slow* it is ``factor`` times that. Slowness is a
two-state Markov chain per rank: a normal rank turns slow with probability
``slow_prob`` per step and a slow one stays slow for ``persistence_steps`` steps on
average (geometric), so the stationary share of slow ranks is
``pi = p / (p + 1 / L)``. A synchronous step ends when the last rank is done
(``max``); with ``b`` backup workers (Chen et al., "Revisiting Distributed Synchronous
SGD", 2016) ``N + b`` ranks compute and the step ends at the ``N``-th fastest, the
slowest ``b`` gradients being dropped.

Closed forms (order statistics of independent ranks, exact for the stationary chain):
``E[T_(k:n)] = integral_0^inf P(fewer than k of n ranks done by t) dt``; without slow
ranks, ``E[max of N] = base + jitter * H_N`` and ``E[T_(N:N+b)] = base + jitter *
(H_{N+b} - H_b)`` (harmonic numbers; Renyi's representation of exponential order
statistics).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import integrate, stats

from mlfleet.checks import finite, fraction, non_negative, positive, positive_int
from mlfleet.errors import InputError


@dataclass(frozen=True, kw_only=True)
class StepTimeModel:
    """Per-rank step times of a synchronous data-parallel job."""

    ranks: int
    """Workers whose gradients a step needs (N)."""
    base_s: float = 0.1
    """Deterministic compute seconds per step."""
    jitter_s: float = 0.01
    """Mean of the exponential jitter added to each rank's step, seconds."""
    slow_prob: float = 0.0
    """Probability per step that a normal rank turns slow."""
    factor: float = 1.0
    """How many times longer a slow rank's step takes."""
    persistence_steps: float = 1.0
    """Mean length of a slow spell, steps (>= 1)."""

    def __post_init__(self) -> None:
        positive_int("ranks", self.ranks)
        non_negative("base_s", self.base_s)
        positive("jitter_s", self.jitter_s)
        fraction("slow_prob", self.slow_prob)
        positive("factor", self.factor)
        if not finite("persistence_steps", self.persistence_steps) >= 1:
            raise InputError(f"persistence_steps(={self.persistence_steps:g}) must be >= 1")

    @property
    def slow_share(self) -> float:
        """Stationary probability that a rank is slow at a given step."""
        if self.slow_prob == 0:
            return 0.0
        return self.slow_prob / (self.slow_prob + 1.0 / self.persistence_steps)


def simulate_slow_states(model: StepTimeModel, *, steps: int, ranks: int,
                         rng: np.random.Generator) -> np.ndarray:
    """Whether each rank is slow at each step, shape (steps, ranks).

    Each rank alternates geometric spells (normal: mean ``1 / slow_prob`` steps; slow:
    mean ``persistence_steps``), starting in the stationary state; a geometric spell is
    memoryless, so a fresh one at step 0 is exact.
    """
    slow = np.zeros((steps, ranks), dtype=bool)
    if model.slow_prob == 0:
        return slow
    leave_slow = 1.0 / model.persistence_steps
    cycle = 1.0 / model.slow_prob + model.persistence_steps
    spells = 2 * int(steps / cycle) + 8
    for r in range(ranks):
        state = bool(rng.random() < model.slow_share)
        column: list[np.ndarray] = []
        covered = 0
        while covered < steps:
            normal = rng.geometric(model.slow_prob, size=spells)
            slow_len = rng.geometric(leave_slow, size=spells) if leave_slow < 1 \
                else np.ones(spells, dtype=np.int64)
            pairs = np.stack([slow_len, normal] if state else [normal, slow_len], axis=1)
            flags = np.tile([state, not state], spells)
            column.append(np.repeat(flags, pairs.ravel()))
            covered += int(pairs.sum())
        slow[:, r] = np.concatenate(column)[:steps]
    return slow


def simulate_step_times(model: StepTimeModel, *, steps: int, backups: int = 0,
                        rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Per-rank compute times (steps, N + backups) and whether each rank was slow."""
    positive_int("steps", steps)
    positive_int("backups", backups, minimum=0)
    n = model.ranks + backups
    slow = simulate_slow_states(model, steps=steps, ranks=n, rng=rng)
    times = model.base_s + rng.exponential(model.jitter_s, size=(steps, n))
    return np.where(slow, model.factor * times, times), slow


def step_times(rank_times: np.ndarray, *, needed: int) -> np.ndarray:
    """Each step's time: when the ``needed``-th fastest rank is done (sync: all)."""
    return np.partition(rank_times, needed - 1, axis=1)[:, needed - 1]


def harmonic(n: int) -> float:
    """``H_n = 1 + 1/2 + ... + 1/n`` (``H_0 = 0``)."""
    return float(np.sum(1.0 / np.arange(1, n + 1))) if n > 0 else 0.0


def expected_step_no_slow_s(*, base_s: float, jitter_s: float, ranks: int,
                            backups: int = 0) -> float:
    """``E[T_(N:N+b)] = base + jitter (H_{N+b} - H_b)``: the expected synchronous step
    without slow ranks (Renyi's representation of exponential order statistics)."""
    return base_s + jitter_s * (harmonic(ranks + backups) - harmonic(backups))


def rank_cdf(model: StepTimeModel, t: np.ndarray) -> np.ndarray:
    """P(one rank's step time <= t) for the stationary mixture of normal and slow."""
    def shifted_exp(x: np.ndarray) -> np.ndarray:
        return np.where(x > model.base_s, -np.expm1(-(x - model.base_s) / model.jitter_s), 0.0)

    pi = model.slow_share
    return (1 - pi) * shifted_exp(t) + pi * shifted_exp(t / model.factor)


def expected_step_s(model: StepTimeModel, *, backups: int = 0) -> float:
    """``E[T_(N:N+b)]`` with slow ranks, by quadrature of the order statistic's
    survival function ``P(Binomial(N + b, F(t)) < N)`` (ranks independent, each
    in the chain's stationary state)."""
    n, k = model.ranks + backups, model.ranks

    def survival(t: float) -> float:
        return float(stats.binom.cdf(k - 1, n, rank_cdf(model, np.asarray(t))))

    top = max(model.factor, 1.0) * (model.base_s + model.jitter_s * (math.log(n) + 40.0))
    value, _ = integrate.quad(survival, 0.0, top, limit=400,
                              points=[model.base_s, model.base_s * model.factor])
    return float(value)

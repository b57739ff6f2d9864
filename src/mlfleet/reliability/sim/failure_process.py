"""When a training job is interrupted: the failure processes of the goodput simulation.

A process is a frozen spec of the *job's* failures (all its nodes together) with mean
time between failures ``mtbf_s``; :meth:`gaps` turns a seeded generator into the
endless sequence of :class:`Failure` s, each the time since the previous one and the
number of nodes it takes down. Failures arrive in wall-clock time, whatever the job is
doing (working, writing a checkpoint, restarting), as Daly (FGCS 2006) assumes.

* :class:`Exponential` — a Poisson process: Daly's and Young's assumption.
* :class:`Weibull` — a renewal process with Weibull gaps of the same mean. Shape < 1
  is a decreasing hazard (failures follow failures): Schroeder & Gibson, "A large-scale
  study of failures in high-performance computing systems", DSN 2006, fit the time
  between failures of LANL systems with Weibull shapes of 0.7-0.8.
* :class:`Burst` — correlated failures: each failure is, with probability
  ``switch_prob``, a switch (or PSU, or rack) taking down ``nodes`` nodes at once, and
  is followed, with probability ``follow_prob`` each time, by another failure within
  ``follow_gap_s`` on average (a flaky component failing again after the restart). The
  primary failures are Poisson at ``(1 - follow_prob) / mtbf_s`` so the long-run rate
  stays ``1 / mtbf_s``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from mlfleet.checks import fraction, positive, positive_int
from mlfleet.errors import InputError

KINDS = ("exponential", "weibull", "burst")
"""The failure processes :func:`parse_failure` knows."""


@dataclass(frozen=True, kw_only=True)
class Failure:
    """One interruption of the job."""

    gap_s: float
    """Seconds since the previous failure (or since the start)."""
    nodes: int
    """Nodes it takes down (1 for a node failure, more for a switch)."""


@dataclass(frozen=True, kw_only=True)
class Exponential:
    """Poisson failures of the job: exponential gaps of mean ``mtbf_s``."""

    mtbf_s: float
    """Mean time between failures of the job, seconds."""

    def __post_init__(self) -> None:
        positive("mtbf_s", self.mtbf_s)

    def gaps(self, rng: np.random.Generator) -> Iterator[Failure]:
        """The job's failures, forever, drawn from ``rng``."""
        while True:
            for gap in rng.exponential(self.mtbf_s, size=256):
                yield Failure(gap_s=float(gap), nodes=1)


@dataclass(frozen=True, kw_only=True)
class Weibull:
    """A renewal process with Weibull gaps of mean ``mtbf_s`` and shape ``shape``."""

    mtbf_s: float
    """Mean time between failures of the job, seconds."""
    shape: float
    """Weibull shape k (1: exponential; < 1: decreasing hazard, bursty)."""

    def __post_init__(self) -> None:
        positive("mtbf_s", self.mtbf_s)
        positive("shape", self.shape)

    @property
    def scale_s(self) -> float:
        """The Weibull scale giving mean ``mtbf_s``: ``mtbf_s / Gamma(1 + 1/k)``."""
        return self.mtbf_s / math.gamma(1.0 + 1.0 / self.shape)

    def gaps(self, rng: np.random.Generator) -> Iterator[Failure]:
        """The job's failures, forever, drawn from ``rng``."""
        scale = self.scale_s
        while True:
            for gap in rng.weibull(self.shape, size=256):
                yield Failure(gap_s=float(gap) * scale, nodes=1)


@dataclass(frozen=True, kw_only=True)
class Burst:
    """Switch failures that take down several nodes, and failures that follow failures."""

    mtbf_s: float
    """Long-run mean time between failures of the job, seconds."""
    switch_prob: float = 0.1
    """Probability that a failure is a switch taking down ``nodes`` nodes."""
    nodes: int = 8
    """Nodes a switch failure takes down."""
    follow_prob: float = 0.3
    """Probability that a failure is followed by another one soon after."""
    follow_gap_s: float = 1800.0
    """Mean gap to that follow-up failure, seconds."""

    def __post_init__(self) -> None:
        positive("mtbf_s", self.mtbf_s)
        fraction("switch_prob", self.switch_prob)
        positive_int("nodes", self.nodes)
        fraction("follow_prob", self.follow_prob, open_high=True)
        positive("follow_gap_s", self.follow_gap_s)
        if self.follow_prob * self.follow_gap_s >= self.mtbf_s:
            raise InputError(f"follow_gap_s(={self.follow_gap_s:g}) times follow_prob"
                             f"(={self.follow_prob:g}) must be < mtbf_s(={self.mtbf_s:g}):"
                             " bursts that long leave no room for the mean rate")

    def gaps(self, rng: np.random.Generator) -> Iterator[Failure]:
        """The job's failures, forever, drawn from ``rng``.

        Follow-ups chain (a follow-up may be followed in turn), so a burst holds
        ``1 + K`` failures with ``K`` geometric of mean ``q / (1 - q)``; the gap before a
        burst is exponential of mean ``(M - q f) / (1 - q)``, so a burst cycle lasts
        ``M / (1 - q)`` on average and the long-run rate is exactly ``1 / M``.
        """
        q, follow_mean_s = self.follow_prob, self.follow_gap_s
        primary_mean_s = (self.mtbf_s - q * follow_mean_s) / (1.0 - q)
        in_burst = False
        while True:
            mean = follow_mean_s if in_burst else primary_mean_s
            nodes = self.nodes if rng.random() < self.switch_prob else 1
            yield Failure(gap_s=float(rng.exponential(mean)), nodes=nodes)
            in_burst = bool(rng.random() < self.follow_prob)


FailureProcess = Exponential | Weibull | Burst


def parse_failure(text: str, *, mtbf_s: float) -> FailureProcess:
    """A process from its CLI spelling: ``exponential``, ``weibull:shape=0.7``,
    ``burst:switch_prob=0.1,nodes=8,follow_prob=0.3,follow_gap=30min``.

    Raises :class:`~mlfleet.errors.InputError` naming the bad kind, key or value.
    """
    from mlfleet import units

    kind, _, rest = text.partition(":")
    if kind not in KINDS:
        raise InputError(f"failure(={text!r}) is unknown; known: {', '.join(KINDS)}")
    params: dict[str, str] = {}
    for item in filter(None, rest.split(",")):
        key, eq, value = item.partition("=")
        if not eq:
            raise InputError(f"failure parameter {item!r} must be key=value")
        params[key.strip()] = value.strip()
    allowed = {"exponential": (), "weibull": ("shape",),
               "burst": ("switch_prob", "nodes", "follow_prob", "follow_gap")}[kind]
    for key in params:
        if key not in allowed:
            raise InputError(f"failure parameter {key!r} is unknown for {kind}; known: "
                             f"{', '.join(allowed) or 'none'}")
    if kind == "exponential":
        return Exponential(mtbf_s=mtbf_s)
    if kind == "weibull":
        return Weibull(mtbf_s=mtbf_s, shape=_number("shape", params.get("shape", "0.7")))
    burst = Burst(mtbf_s=mtbf_s)
    return Burst(
        mtbf_s=mtbf_s,
        switch_prob=_number("switch_prob", params.get("switch_prob", str(burst.switch_prob))),
        nodes=_integer("nodes", params.get("nodes", str(burst.nodes))),
        follow_prob=_number("follow_prob", params.get("follow_prob", str(burst.follow_prob))),
        follow_gap_s=units.parse_quantity(params.get("follow_gap", "30min"), "s"))


def _number(name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InputError(f"{name}(={text!r}) must be a number") from None


def _integer(name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InputError(f"{name}(={text!r}) must be an integer") from None

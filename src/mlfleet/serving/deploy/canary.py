"""Canary rollout: shift traffic 1 % → 5 % → 25 % → 100 %, rolling back automatically.

The controller watches completed requests of the two groups over a sliding window.
The limit is ``max_ratio``·(baseline metric) + ``slack``, the metric being p99 latency
or error rate. The canary breaches it when its metric is above the limit with
significance ``alpha``: both metrics reduce to the share of canary requests that are
"bad" — slower than the limit (p99: at most 1 % may be) or failed (error rate: at most
the limit may be) — and a one-sided binomial test asks whether that many bad requests
out of n are too many for the allowed share. A bare comparison of a p99 from a few dozen
canary requests would roll back good canaries on noise (and pass bad ones).

At each stage the controller waits ``stage_duration_s``; it moves on only if the canary
has at least ``min_samples`` requests in the window and no breach. On a breach it
rolls back at once: the canary's share drops to 0. This is the metric-based progression
and automated rollback of the outline; a fuller judge belongs in ``ops``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
from scipy import stats

from mlfleet.checks import (
    fraction,
    non_negative,
    one_of,
    positive,
    positive_int,
)
from mlfleet.errors import PolicyConfigError

if TYPE_CHECKING:
    from mlfleet.serving.sim.engine import Engine

METRICS = ("p99", "error_rate")
GROUPS = ("baseline", "canary")


@dataclass(frozen=True, kw_only=True)
class CanaryConfig:
    """How a canary progresses and when it rolls back."""

    stages: tuple[float, ...] = (0.01, 0.05, 0.25, 1.0)
    """Canary traffic share at each stage, increasing, ending at 1.0."""
    stage_duration_s: float = 600.0
    """Minimum time at a stage before moving on."""
    window_s: float = 300.0
    """Sliding window of completions the metric is computed over."""
    metric: str = "p99"
    """``p99`` (latency, seconds) or ``error_rate`` (fraction of failed requests)."""
    max_ratio: float = 1.2
    """Roll back when canary > max_ratio·baseline + slack."""
    slack: float = 0.0
    """Absolute allowance in the metric's unit (useful for error rates near 0)."""
    min_samples: int = 50
    """Canary and baseline completions the window needs before judging."""
    alpha: float = 0.01
    """Significance of the breach test (the chance a canary exactly at the limit breaches
    at one evaluation)."""

    def __post_init__(self) -> None:
        for i, share in enumerate(self.stages):
            fraction(f"stages[{i}]", share, open_low=True, error=PolicyConfigError)
        if len(self.stages) < 2 or list(self.stages) != sorted(set(self.stages)) \
                or self.stages[-1] != 1.0:
            raise PolicyConfigError(f"stages(={self.stages!r}) must be at least two shares, "
                                    "strictly increasing, ending at 1.0")
        positive("stage_duration_s", self.stage_duration_s, error=PolicyConfigError)
        positive("window_s", self.window_s, error=PolicyConfigError)
        one_of("metric", self.metric, METRICS, error=PolicyConfigError)
        positive("max_ratio", self.max_ratio, error=PolicyConfigError)
        non_negative("slack", self.slack, error=PolicyConfigError)
        positive_int("min_samples", self.min_samples, error=PolicyConfigError)
        fraction("alpha", self.alpha, open_low=True, error=PolicyConfigError)


class CanaryController:
    """The rollout state machine; feed it completions, ask it for the canary share.

    ``state`` is ``running``, ``rolled_back`` or ``completed`` (the last stage, all
    traffic, is reached only by completing); ``events`` logs
    ``(time_s, what)`` for every stage change.
    """

    def __init__(self, config: CanaryConfig | None = None, *, start_s: float = 0.0) -> None:
        self.config = config or CanaryConfig()
        self.stage = 0
        self.stage_start_s = start_s
        self.state = "running"
        self.events: list[tuple[float, str]] = [(start_s, f"stage {self.config.stages[0]:g}")]
        self._window: dict[str, deque[tuple[float, float, bool]]] = {g: deque() for g in GROUPS}

    def share(self) -> float:
        """The canary's current traffic share."""
        if self.state == "rolled_back":
            return 0.0
        return 1.0 if self.state == "completed" else self.config.stages[self.stage]

    def observe(self, *, group: str, finish_s: float, latency_s: float, ok: bool) -> None:
        """Record one completed request of ``group`` (``baseline`` or ``canary``)."""
        one_of("group", group, GROUPS, error=PolicyConfigError)
        self._window[group].append((finish_s, latency_s, ok))

    def step(self, now_s: float) -> str:
        """Judge the window at ``now_s``: roll back, advance, or hold. Returns the state."""
        if self.state != "running":
            return self.state
        self._evict(now_s)
        verdict = self._verdict()
        if verdict == "bad":
            self.state = "rolled_back"
            self.events.append((now_s, "rollback"))
        elif verdict == "good" and now_s - self.stage_start_s >= self.config.stage_duration_s:
            self._advance(now_s)
        return self.state

    def metric(self, group: str) -> float:
        """The configured metric over ``group``'s window (nan if it is empty)."""
        rows = self._window[group]
        if not rows:
            return float("nan")
        if self.config.metric == "error_rate":
            return sum(not ok for _, _, ok in rows) / len(rows)
        return float(np.quantile([lat for _, lat, _ in rows], 0.99))

    def limit(self) -> float:
        """The canary's limit: max_ratio·baseline metric + slack."""
        return self.config.max_ratio * self.metric("baseline") + self.config.slack

    def breach_p_value(self) -> float:
        """P(at least this many bad canary requests | the canary sits at the limit)."""
        rows = self._window["canary"]
        limit = self.limit()
        if self.config.metric == "error_rate":
            bad, allowed = sum(not ok for _, _, ok in rows), min(limit, 1.0)
        else:
            bad, allowed = sum(lat > limit for _, lat, _ in rows), 0.01
        return float(stats.binom.sf(bad - 1, len(rows), allowed))

    def _verdict(self) -> str:
        if min(len(self._window[g]) for g in GROUPS) < self.config.min_samples:
            return "wait"
        return "bad" if self.breach_p_value() < self.config.alpha else "good"

    def _advance(self, now_s: float) -> None:
        self.stage += 1
        if self.stage == len(self.config.stages) - 1:  # the last stage is all traffic
            self.state = "completed"
            self.events.append((now_s, "completed"))
            return
        self.stage_start_s = now_s
        self.events.append((now_s, f"stage {self.config.stages[self.stage]:g}"))

    def _evict(self, now_s: float) -> None:
        for rows in self._window.values():
            while rows and rows[0][0] <= now_s - self.config.window_s:
                rows.popleft()


class RolloutController(Protocol):
    """What :class:`CanaryRollout` drives: :class:`CanaryController`, or another judge
    (``mlfleet.ops.canary``'s Kayenta-style controller) with the same four members."""

    state: str
    """``running`` until it ends ``rolled_back`` or ``completed``."""

    def share(self) -> float:
        """The canary's current traffic share."""
        ...

    def observe(self, *, group: str, finish_s: float, latency_s: float, ok: bool) -> None:
        """Record one completed request of ``group`` (``baseline`` or ``canary``)."""
        ...

    def step(self, now_s: float) -> str:
        """Judge at ``now_s``; returns the state."""
        ...


class CanaryRollout:
    """Drives a :class:`CanaryController` (any :class:`RolloutController`) inside the
    serving simulator.

    Every ``eval_every_s`` it feeds the controller the requests completed (or failed)
    since the last look, grouped by the traffic group of the replica that served them,
    and re-splits traffic between ``stable`` and ``canary`` replica groups when the
    share changes (rollback: all traffic to ``stable``). It stops once the controller
    is done or the arrivals are exhausted, so the run can end.
    """

    def __init__(self, engine: Engine, controller: RolloutController, *,
                 eval_every_s: float = 10.0, stable: str = "stable",
                 canary: str = "canary") -> None:
        groups = {r.group for r in engine.replicas}
        for name in (stable, canary):
            if name not in groups:
                raise PolicyConfigError(f"group {name!r} has no replica; groups: "
                                        f"{', '.join(sorted(groups))}")
        self.engine, self.controller = engine, controller
        self.eval_every_s = positive("eval_every_s", eval_every_s, error=PolicyConfigError)
        self.groups = {"baseline": stable, "canary": canary}
        self._seen_s = engine.now_s
        self._share = -1.0
        self._resplit()
        engine.call_at(engine.now_s + self.eval_every_s, self._tick)

    def _tick(self, engine: Engine) -> None:
        self._feed(engine)
        self.controller.step(engine.now_s)
        self._resplit()
        if self.controller.state == "running" and engine.next_arrival_s < float("inf"):
            engine.call_at(engine.now_s + self.eval_every_s, self._tick)

    def _feed(self, engine: Engine) -> None:
        res = engine.snapshot()
        new = (res.finish_s > self._seen_s) & (res.finish_s <= engine.now_s) \
            & (res.shadow_of < 0)
        group_of = res.group_of_request()
        for role, group in self.groups.items():
            rows = np.flatnonzero(new & (group_of == group))
            rows = rows[np.argsort(res.finish_s[rows], kind="stable")]  # window is time-ordered
            for finish, arrival, ok in zip(res.finish_s[rows].tolist(),
                                           res.arrival_s[rows].tolist(),
                                           res.done[rows].tolist(), strict=True):
                self.controller.observe(group=role, finish_s=finish,
                                        latency_s=finish - arrival, ok=ok)
        self._seen_s = engine.now_s

    def _resplit(self) -> None:
        share = self.controller.share()
        if share == self._share:
            return
        self._share = share
        stable, canary = self.groups["baseline"], self.groups["canary"]
        split = {stable: 1.0} if share == 0.0 else {canary: share, stable: 1.0 - share}
        self.engine.set_split(split)

"""A canary rollout decided by the judge: promote on pass, roll back on fail, hold otherwise.

The controller has the interface :class:`~mlfleet.serving.deploy.canary.CanaryRollout`
drives (``share()``, ``observe()``, ``step()``, ``state``, ``events``). It collects the
completions of the current judgement window, and once the window spans
``intervals_per_judgement`` intervals it turns each group's completions into metric
series (:mod:`.interval_series`; the baseline thinned to the canary's request count per
interval, as Kayenta compares equal-sized groups) and asks the judge. ``pass``: next
stage (the last, all traffic, is ``completed``); ``fail``: ``rolled_back``;
``marginal`` or ``nodata``: the stage is held and judged again on a fresh window, and
after ``max_holds`` holds in a row it is rolled back (no verdict is not a pass).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.checks import fraction, non_negative, positive, positive_int
from mlfleet.ops.canary.errors import CanaryInputError
from mlfleet.ops.canary.interval_series import interval_series, thin_to_counts
from mlfleet.ops.canary.judge import JudgeResult, judge
from mlfleet.ops.canary.judge_config import JudgeConfig

GROUPS = ("baseline", "canary")
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class RolloutPolicy:
    """Stages and judgement windows of a judged canary."""

    stages: tuple[float, ...] = (0.05, 0.25, 0.5, 1.0)
    """Canary traffic share per stage, increasing, ending at 1.0 (reached on the last pass)."""
    interval_s: float = 10.0
    """Length of one metric interval."""
    intervals_per_judgement: int = 30
    """Intervals in one judgement window (the window: their product, seconds)."""
    min_requests_per_interval: int = 10
    """Fewer canary requests in an interval: its latencies and error rate are NaN."""
    max_holds: int = 2
    """Marginal / no-data judgements in a row before rolling back."""
    equal_baseline: bool = True
    """Thin the baseline to the canary's request count per interval."""

    def __post_init__(self) -> None:
        err = CanaryInputError
        for i, s in enumerate(self.stages):
            fraction(f"stages[{i}]", s, open_low=True, error=err)
        if len(self.stages) < 2 or list(self.stages) != sorted(set(self.stages)) \
                or self.stages[-1] != 1.0:
            raise err(f"stages(={self.stages!r}) must be at least two shares, strictly "
                      "increasing, ending at 1.0")
        positive("interval_s", self.interval_s, error=err)
        positive_int("intervals_per_judgement", self.intervals_per_judgement, minimum=2, error=err)
        positive_int("min_requests_per_interval", self.min_requests_per_interval, error=err)
        non_negative("max_holds", self.max_holds, error=err)

    @property
    def window_s(self) -> float:
        return self.interval_s * self.intervals_per_judgement


@dataclass(frozen=True, kw_only=True)
class Judgement:
    """One judgement of the rollout."""

    time_s: float
    share: float
    """The canary's share during the judged window."""
    action: str
    """``promote``, ``complete``, ``rollback`` or ``hold``."""
    result: JudgeResult


class JudgedCanaryController:
    """The rollout state machine, judged by :func:`~.judge.judge`."""

    def __init__(self, config: JudgeConfig, policy: RolloutPolicy | None = None, *,
                 rng: np.random.Generator, start_s: float = 0.0) -> None:
        self.config, self.policy, self._rng = config, policy or RolloutPolicy(), rng
        self.stage, self.holds, self.state = 0, 0, "running"
        self.window_start_s = start_s
        self.events: list[tuple[float, str]] = [(start_s, f"stage {self.policy.stages[0]:g}")]
        self.judgements: list[Judgement] = []
        self._rows: dict[str, list[tuple[float, float, bool]]] = {g: [] for g in GROUPS}

    def share(self) -> float:
        """The canary's current traffic share."""
        if self.state == "rolled_back":
            return 0.0
        return 1.0 if self.state == "completed" else self.policy.stages[self.stage]

    def observe(self, *, group: str, finish_s: float, latency_s: float, ok: bool) -> None:
        """Record one completed (``ok``) or failed request of ``group``."""
        if group not in self._rows:
            raise CanaryInputError(f"group(={group!r}) is unknown; known: {', '.join(GROUPS)}")
        self._rows[group].append((finish_s, latency_s, ok))

    def step(self, now_s: float) -> str:
        """Judge once the window is complete; act on the decision. Returns the state."""
        if self.state != "running" or now_s - self.window_start_s < self.policy.window_s:
            return self.state
        result, share = judge(self.config, **self.window_series()), self.share()
        action = self._act(result.decision, now_s)
        self.judgements.append(Judgement(time_s=now_s, share=share, action=action,
                                          result=result))
        self.window_start_s = now_s
        self._rows = {g: [] for g in GROUPS}
        return self.state

    def _series(self, rows: FloatArray) -> dict[str, FloatArray]:
        p = self.policy
        return interval_series(time_s=rows[:, 0], latency_s=rows[:, 1], ok=rows[:, 2] > 0,
                               start_s=self.window_start_s, interval_s=p.interval_s,
                               n_intervals=p.intervals_per_judgement,
                               min_requests=p.min_requests_per_interval)

    def window_series(self) -> dict[str, dict[str, FloatArray]]:
        """``baseline=`` and ``canary=`` metric series of the current window."""
        rows = {g: np.array(r, dtype=float).reshape(-1, 3) for g, r in self._rows.items()}
        canary, base = self._series(rows["canary"]), rows["baseline"]
        if self.policy.equal_baseline:
            base = base[thin_to_counts(base[:, 0], canary["requests"],
                                       start_s=self.window_start_s,
                                       interval_s=self.policy.interval_s, rng=self._rng)]
        return {"baseline": self._series(base), "canary": canary}

    def _act(self, decision: str, now_s: float) -> str:
        if decision == "fail" or (decision != "pass" and self.holds >= self.policy.max_holds):
            self.state = "rolled_back"
            self.events.append((now_s, "rollback"))
            return "rollback"
        if decision != "pass":
            self.holds += 1
            self.events.append((now_s, f"hold {self.share():g} ({decision})"))
            return "hold"
        self.holds = 0
        self.stage += 1
        if self.stage == len(self.policy.stages) - 1:
            self.state = "completed"
            self.events.append((now_s, "completed"))
            return "complete"
        self.events.append((now_s, f"stage {self.policy.stages[self.stage]:g}"))
        return "promote"

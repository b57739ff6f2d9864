"""SLO error-budget burn-rate alerts, multi-window and multi-burn-rate.

An SLO of target T (e.g. 0.999 of requests succeed) grants an error budget of 1 − T.
The burn rate over a window is the window's error rate divided by 1 − T: burn 1 spends
exactly the budget over the SLO period; burn 14.4 spends 2 % of a 30-day budget in one
hour. Google's SRE workbook (ch. 5 "Alerting on SLOs", table 5-8) pages when BOTH a
long and a short window burn faster than the factor — 14.4× over 1 h and 5 min, or
6× over 6 h and 30 min: the long window gives precision (a few bad minutes do not page)
and the short window makes the alert reset soon after the problem ends.

After a step from error rate b to e, a window of length W crosses burn B once the
bad fraction reaches B·(1 − T), i.e. after (B·(1 − T) − b)·W / (e − b) seconds
(:func:`detection_time_s`); a rule fires when its slower (long) window crosses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.checks import fraction, positive
from mlfleet.errors import PolicyConfigError


@dataclass(frozen=True, kw_only=True)
class BurnRateRule:
    """Fire when both windows burn at least ``burn_rate`` times the budget rate."""

    long_s: float
    """The long window in seconds (precision)."""
    short_s: float
    """The short window in seconds (fast reset); shorter than ``long_s``."""
    burn_rate: float
    """The factor of the sustainable error rate 1 − T that both windows must reach."""

    def __post_init__(self) -> None:
        positive("long_s", self.long_s, error=PolicyConfigError)
        positive("short_s", self.short_s, error=PolicyConfigError)
        positive("burn_rate", self.burn_rate, error=PolicyConfigError)
        if self.short_s > self.long_s:
            raise PolicyConfigError(f"short_s(={self.short_s!r}) must be <= "
                                    f"long_s(={self.long_s!r})")


PAGE_RULES = (BurnRateRule(long_s=3600.0, short_s=300.0, burn_rate=14.4),
              BurnRateRule(long_s=6 * 3600.0, short_s=1800.0, burn_rate=6.0))
"""The SRE workbook's paging rules for a 30-day 99.9 % SLO (2 % and 5 % of budget)."""
TICKET_RULES = (BurnRateRule(long_s=24 * 3600.0, short_s=7200.0, burn_rate=3.0),
                BurnRateRule(long_s=72 * 3600.0, short_s=21600.0, burn_rate=1.0))
"""The workbook's ticket rules (10 % of the budget in 1 day or 3 days)."""


def detection_time_s(*, error_rate: float, slo_target: float, burn_rate: float,
                     window_s: float, baseline_error_rate: float = 0.0) -> float:
    """Seconds after a step from the baseline to ``error_rate`` until a full window of
    ``window_s`` burns at ``burn_rate``; ``inf`` when the new rate never gets there."""
    threshold = burn_rate * (1.0 - slo_target)
    if error_rate < threshold or error_rate <= baseline_error_rate:
        return float("inf")
    return max(0.0, threshold - baseline_error_rate) * window_s / (error_rate - baseline_error_rate)


@dataclass(frozen=True, kw_only=True)
class AlertTrace:
    """Alert state at each evaluation time."""

    times_s: np.ndarray
    """Evaluation instants, (steps,)."""
    firing: np.ndarray
    """Whether any rule fires at each instant, (steps,) bool."""
    burn_by_window: dict[float, np.ndarray]
    """Burn rate over each window length at each instant."""

    def first_fire_s(self) -> float | None:
        """The first evaluation time at which the alert fires, or None."""
        hits = np.flatnonzero(self.firing)
        return float(self.times_s[hits[0]]) if len(hits) else None


class BurnRateAlert:
    """Evaluates burn-rate rules over a request log every ``step_s`` (like Prometheus)."""

    def __init__(self, *, slo_target: float = 0.999,
                 rules: tuple[BurnRateRule, ...] = PAGE_RULES, step_s: float = 10.0) -> None:
        fraction("slo_target", slo_target, open_low=True, open_high=True, error=PolicyConfigError)
        if not rules:
            raise PolicyConfigError("rules(=()) must name at least one burn-rate rule")
        self.slo_target = slo_target
        self.rules = rules
        self.step_s = positive("step_s", step_s, error=PolicyConfigError)

    def evaluate(self, times_s: npt.ArrayLike, bad: npt.ArrayLike, *,
                 end_s: float | None = None) -> AlertTrace:
        """Alert state over a log of request completion times and bad (error/SLO-miss) flags.

        Counts requests per ``step_s`` bin from time 0; a window's burn at instant t is
        bad/total over [t − W, t) divided by 1 − T (0 where the window saw no request,
        and before t reaches W).
        """
        t = np.asarray(times_s, dtype=float)
        b = np.asarray(bad, dtype=bool)
        horizon = float(t.max()) if end_s is None and len(t) else float(end_s or 0.0)
        n_steps = int(np.ceil(horizon / self.step_s)) + 1
        edges = np.arange(n_steps + 1) * self.step_s
        total = np.concatenate([[0], np.cumsum(np.histogram(t, edges)[0])])  # (steps+1,)
        errors = np.concatenate([[0], np.cumsum(np.histogram(t[b], edges)[0])])
        burns = {w: self._burn(total, errors, w) for r in self.rules for w in (r.long_s, r.short_s)}
        firing = np.zeros(n_steps + 1, dtype=bool)
        for r in self.rules:
            firing |= (burns[r.long_s] >= r.burn_rate) & (burns[r.short_s] >= r.burn_rate)
        return AlertTrace(times_s=edges, firing=firing, burn_by_window=burns)

    def _burn(self, total: np.ndarray, errors: np.ndarray, window_s: float) -> np.ndarray:
        lag = max(1, int(round(window_s / self.step_s)))
        idx = np.arange(len(total))
        start = np.maximum(idx - lag, 0)
        n = total - total[start]
        bad = errors - errors[start]
        # A window still filling up (t < W) reads as 0: a handful of early requests
        # would otherwise page on noise.
        rate = np.divide(bad, n, out=np.zeros(len(n)), where=(n > 0) & (idx >= lag))
        burn: np.ndarray = rate / (1.0 - self.slo_target)
        return burn

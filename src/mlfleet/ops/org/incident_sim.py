"""The incident model as a discrete-event simulation on :mod:`mlfleet.sim`.

Each model draws background incidents (Poisson) and deploys (Poisson); a deploy fails
with probability ``change_failure_rate``; every incident pages its model's owner and, with
probability ``coupling``, pages the consumer at the same instant, which cascades on down
the chain. Pages are counted per 12-hour shift. It checks the closed form of
:mod:`mlfleet.ops.org.incidents` (the mean) and shows what the Poisson tail of
:mod:`mlfleet.ops.org.oncall` misses when pages are coupled (bursts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mlfleet.checks import positive
from mlfleet.ops.org.incidents import WEEKS_PER_MONTH, IncidentRates
from mlfleet.ops.org.oncall import MAX_INCIDENTS_PER_SHIFT, SHIFT_H, SHIFTS_PER_WEEK
from mlfleet.ops.org.portfolio import Portfolio
from mlfleet.sim import Simulation

WEEK_S = 7 * 86400.0
SHIFT_S = SHIFT_H * 3600.0


@dataclass(frozen=True, kw_only=True)
class SimulatedPager:
    """Pages a simulated portfolio sent over ``weeks``."""

    weeks: float
    pages: int
    pages_per_week: float
    pages_per_week_stderr: float
    """Standard error of the weekly mean (from the spread of weekly counts)."""
    shift_over_budget: float
    """Fraction of 12-hour shifts with more than 2 pages."""


def simulate_pages(portfolio: Portfolio, rates: IncidentRates, *, weeks: float,
                   seed: int) -> SimulatedPager:
    """Run the portfolio for ``weeks`` and count pages per shift."""
    positive("weeks", weeks)
    sim = Simulation(seed=seed)
    shifts = np.zeros(int(np.ceil(weeks * SHIFTS_PER_WEEK)), dtype=np.int64)
    mean_gap_s = {"background": _mean_gap_s(rates.base_pages_per_model_week, WEEK_S),
                  "deploy": _mean_gap_s(rates.deploys_per_model_month, WEEKS_PER_MONTH * WEEK_S)}
    gaps = {kind: sim.stream(kind) for kind in mean_gap_s}
    handlers = _handlers(sim, portfolio, rates, shifts, gaps, mean_gap_s)
    for i in range(portfolio.models):
        for kind, gap_s in mean_gap_s.items():
            if gap_s is not None:
                sim.schedule(gaps[kind].exponential(gap_s), sim.kind(kind), i)
    sim.run(handlers, until_s=weeks * WEEK_S)
    return _pager(shifts, weeks)


def _mean_gap_s(per_period: float, period_s: float) -> float | None:
    """Mean time between events of a Poisson process (None: it never fires)."""
    return period_s / per_period if per_period > 0 else None


def _handlers(sim: Simulation, portfolio: Portfolio, rates: IncidentRates,
              shifts: np.ndarray[Any, np.dtype[np.int64]], gaps: dict[str, np.random.Generator],
              mean_gap_s: dict[str, float | None]) -> dict[int, Any]:
    background_k, deploy_k, page_k = sim.kind("background"), sim.kind("deploy"), sim.kind("page")
    failing, coupled = sim.stream("failures"), sim.stream("coupling")
    background_s, deploy_s = mean_gap_s["background"] or 0.0, mean_gap_s["deploy"] or 0.0

    def on_background(t: float, _seq: int, i: int) -> list[tuple[float, int, int]]:
        return [(t + gaps["background"].exponential(background_s), background_k, i),
                (t, page_k, i)]

    def on_deploy(t: float, _seq: int, i: int) -> list[tuple[float, int, int]]:
        follow = [(t + gaps["deploy"].exponential(deploy_s), deploy_k, i)]
        if failing.random() < rates.change_failure_rate:
            follow.append((t, page_k, i))
        return follow

    def on_page(t: float, _seq: int, i: int) -> list[tuple[float, int, int]]:
        shifts[min(int(t // SHIFT_S), len(shifts) - 1)] += 1
        consumer = portfolio.consumer_of[i]
        if consumer is not None and coupled.random() < rates.coupling:
            return [(t, page_k, consumer)]
        return []

    return {background_k: on_background, deploy_k: on_deploy, page_k: on_page}


def _pager(shifts: np.ndarray[Any, np.dtype[np.int64]], weeks: float) -> SimulatedPager:
    per_week = int(SHIFTS_PER_WEEK)
    whole = len(shifts) // per_week
    weekly = shifts[:whole * per_week].reshape(whole, per_week).sum(axis=1)
    stderr = float(weekly.std(ddof=1) / np.sqrt(whole)) if whole > 1 else float("nan")
    return SimulatedPager(weeks=weeks, pages=int(shifts.sum()),
                          pages_per_week=float(shifts.sum()) / weeks,
                          pages_per_week_stderr=stderr,
                          shift_over_budget=float(np.mean(shifts > MAX_INCIDENTS_PER_SHIFT)))

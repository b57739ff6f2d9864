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
    until_s = weeks * WEEK_S
    handlers = _handlers(sim, portfolio, rates, shifts)
    background = rates.base_pages_per_model_week / WEEK_S
    deploys = rates.deploys_per_model_month / (WEEKS_PER_MONTH * WEEK_S)
    for i in range(portfolio.models):
        for kind, rate in (("background", background), ("deploy", deploys)):
            if rate > 0:
                sim.schedule(sim.stream(kind).exponential(1 / rate), sim.kind(kind), i)
    sim.run(handlers, until_s=until_s)
    return _pager(shifts, weeks)


def _handlers(sim: Simulation, portfolio: Portfolio, rates: IncidentRates,
              shifts: np.ndarray[Any, np.dtype[np.int64]]) -> dict[int, Any]:
    background_k, deploy_k, page_k = sim.kind("background"), sim.kind("deploy"), sim.kind("page")
    gaps, failing, coupled = sim.stream("background"), sim.stream("failures"), \
        sim.stream("coupling")
    deploy_gaps = sim.stream("deploy")
    background_mean_s = WEEK_S / rates.base_pages_per_model_week \
        if rates.base_pages_per_model_week else 0.0
    deploy_mean_s = WEEKS_PER_MONTH * WEEK_S / rates.deploys_per_model_month \
        if rates.deploys_per_model_month else 0.0

    def on_background(t: float, _seq: int, i: int) -> list[tuple[float, int, int]]:
        return [(t + gaps.exponential(background_mean_s), background_k, i), (t, page_k, i)]

    def on_deploy(t: float, _seq: int, i: int) -> list[tuple[float, int, int]]:
        follow = [(t + deploy_gaps.exponential(deploy_mean_s), deploy_k, i)]
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

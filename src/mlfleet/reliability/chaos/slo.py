"""SLO arithmetic from a run's records: availability, nines, error budget and burn,
multi-window multi-burn-rate alerts, MTTR, RTO and RPO.

Definitions (Google SRE workbook, ch. 2 "Implementing SLOs" and ch. 5 "Alerting on
SLOs"):

* availability A = good / valid requests; its nines = −log10(1 − A);
* error budget = (1 − T)·valid requests for a target T; budget spent = bad / budget;
* burn rate over a window = the window's bad fraction / (1 − T): burn 1 spends the
  budget exactly over the SLO period;
* the workbook's paging rules (table 5-8, :data:`~mlfleet.serving.deploy.burn_rate.PAGE_RULES`)
  fire when a long AND a short window both burn faster than 14.4× (1 h and 5 min) or
  6× (6 h and 30 min). A chaos run lasts a minute, not 30 days, so the windows are
  **scaled**: every window (and so the SLO period) is multiplied by ``time_scale``,
  by default the one that maps the longest paging window (6 h) onto the run. The burn
  thresholds stay: a burn of 14.4 still spends 2 % of the (scaled) period's budget.

MTTR is the mean of the faults' times to recover (:mod:`.timeline`); the observed RTO is
the longest. RPO: the fleet is stateless for model state (weights reload from the
model files, nothing is written by serving), so its RPO is 0 s; per-request state
(KV caches, a half-generated answer) of a killed replica is lost and recomputed on
the retry — bounded by ``requests_retried``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.checks import fraction, positive
from mlfleet.serving.deploy.burn_rate import PAGE_RULES, BurnRateAlert, BurnRateRule

LONGEST_PAGE_WINDOW_S = max(r.long_s for r in PAGE_RULES)


@dataclass(frozen=True, kw_only=True)
class SloReport:
    """What the run's records say about an SLO of ``target``."""

    target: float
    """The SLO: fraction of requests that must succeed."""
    requests: int
    bad_requests: int
    availability: float
    nines: float
    """−log10(1 − availability); ``inf`` for a run without a bad request."""
    error_budget_requests: float
    """(1 − target) × requests: bad requests the SLO allows over the run."""
    budget_spent: float
    """bad_requests / error_budget_requests (1.0: the whole budget)."""
    burn_rate: float
    """The run's bad fraction / (1 − target)."""
    time_scale: float
    """Factor applied to the workbook's alert windows (1 h -> 1 h × time_scale)."""
    first_page_s: float | None
    """First time (run seconds) a scaled paging rule fired; None: never."""
    paging_s: float
    """Seconds during which a scaled paging rule fired."""
    mttr_s: float
    """Mean time to recover over the faults (nan without faults)."""
    rto_observed_s: float
    """Longest time to recover (the recovery time objective the fleet met)."""
    rpo_model_state_s: float
    """0: serving writes no state; model weights reload from their files."""
    requests_retried: int
    """Attempts retried (client retries + HAProxy's retries and redispatches): an upper
    bound on the requests whose work (KV / session state) was lost with a replica and
    redone; a refused connection had none to lose."""


def availability(good: int, total: int) -> float:
    """good / total (1.0 for no requests)."""
    return 1.0 if total == 0 else good / total


def nines(avail: float) -> float:
    """−log10(1 − A): 0.999 -> 3 nines; ``inf`` at A = 1."""
    fraction("availability", avail)
    return math.inf if avail >= 1.0 else -math.log10(1.0 - avail)


def burn_rate(bad_fraction: float, target: float) -> float:
    """The bad fraction as a multiple of the sustainable one, 1 − target."""
    return bad_fraction / (1.0 - target)


def scaled_rules(time_scale: float,
                 rules: Sequence[BurnRateRule] = PAGE_RULES) -> tuple[BurnRateRule, ...]:
    """``rules`` with both windows multiplied by ``time_scale`` (thresholds unchanged)."""
    positive("time_scale", time_scale)
    return tuple(BurnRateRule(long_s=r.long_s * time_scale, short_s=r.short_s * time_scale,
                              burn_rate=r.burn_rate) for r in rules)


def slo_report(*, end_s: npt.ArrayLike, bad: npt.ArrayLike, target: float, run_s: float,
               recover_s: Sequence[float], retried: int,
               time_scale: float | None = None) -> SloReport:
    """The SLO arithmetic of a run whose requests ended at ``end_s`` (run seconds), bad
    where ``bad``; ``recover_s`` are the faults' times to recover (nan: never)."""
    fraction("target", target, open_low=True, open_high=True)
    ends, bads = np.asarray(end_s, dtype=float), np.asarray(bad, dtype=bool)
    scale = run_s / LONGEST_PAGE_WINDOW_S if time_scale is None else time_scale
    rules = scaled_rules(scale)
    step_s = min(r.short_s for r in rules) / 5.0
    trace = BurnRateAlert(slo_target=target, rules=rules, step_s=step_s).evaluate(
        ends, bads, end_s=run_s)
    n, n_bad = int(ends.size), int(bads.sum())
    avail = availability(n - n_bad, n)
    rec = np.asarray(recover_s, dtype=float)
    return SloReport(
        target=target, requests=n, bad_requests=n_bad, availability=avail, nines=nines(avail),
        error_budget_requests=(1.0 - target) * n,
        budget_spent=n_bad / ((1.0 - target) * n) if n else 0.0,
        burn_rate=burn_rate(n_bad / n if n else 0.0, target), time_scale=scale,
        first_page_s=trace.first_fire_s(), paging_s=float(trace.firing.sum()) * step_s,
        mttr_s=float(np.mean(rec)) if rec.size else math.nan,
        rto_observed_s=float(np.max(rec)) if rec.size else math.nan,
        rpo_model_state_s=0.0, requests_retried=retried)

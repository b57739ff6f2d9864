"""On-call load: pages per shift and the engineers a sustainable rotation needs.

Google's SRE book, ch. 11 "Being On-Call" (Beyer et al., 2016): an incident takes about
6 hours of work end to end (root cause, remediation, postmortem), so a 12-hour shift
carries at most 2 incidents; and with a primary and a secondary always on call and week-long
shifts, a single-site 24/7 rotation needs at least 8 engineers (each on call one week in
four, the book's 25 % cap). A portfolio that pages more than 2 per shift is split across
rotations, each carrying at most 2, each of at least 8 engineers: the sizing below.
The chance that a given shift goes over the budget is the Poisson tail when pages are
independent; pages coupled along dependencies arrive in bursts, which the Poisson tail does
not see (:mod:`mlfleet.ops.org.incident_sim` counts them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

from mlfleet.checks import non_negative

SHIFT_H = 12.0
"""Hours per on-call shift."""
SHIFTS_PER_WEEK = 7 * 24 / SHIFT_H
MAX_INCIDENTS_PER_SHIFT = 2
"""SRE book ch. 11: 6 hours per incident, so at most 2 per 12-hour shift."""
MIN_ROTATION_ENGINEERS = 8
"""SRE book ch. 11: single-site 24/7 with primary and secondary, week-long shifts."""


@dataclass(frozen=True, kw_only=True)
class OncallLoad:
    """A portfolio's pager against the SRE book's budget."""

    pages_per_week: float
    pages_per_shift: float
    rotations: int
    """Rotations needed so that each carries at most 2 pages per 12-hour shift (>= 1)."""
    engineers: int
    """rotations x 8."""
    shift_over_budget_poisson: float
    """P(a shift gets more than 2 pages) for a Poisson count of the mean above."""


def oncall_load(pages_per_week: float) -> OncallLoad:
    """The rotations and engineers for ``pages_per_week`` (SRE book ch. 11 sizing)."""
    non_negative("pages_per_week", pages_per_week)
    per_shift = pages_per_week / SHIFTS_PER_WEEK
    rotations = max(1, math.ceil(per_shift / MAX_INCIDENTS_PER_SHIFT - 1e-12))
    over = float(stats.poisson.sf(MAX_INCIDENTS_PER_SHIFT, per_shift)) if per_shift > 0 else 0.0
    return OncallLoad(pages_per_week=pages_per_week, pages_per_shift=per_shift,
                      rotations=rotations, engineers=rotations * MIN_ROTATION_ENGINEERS,
                      shift_over_budget_poisson=over)

"""Pages per week as the model portfolio grows: a Poisson incident model with coupling.

Assumptions (stated, not measured; each is an input):

- every model has background incidents (drift, an upstream data break, an infrastructure
  fault) as a Poisson process of ``base_pages_per_model_week``;
- every model is deployed ``deploys_per_model_month`` times a month and each deploy fails,
  paging once, with probability ``change_failure_rate`` (DORA's *Accelerate State of
  DevOps 2023* puts its clusters between 5 % (elite) and 64 % (low); 15 % is the medium
  cluster, the default);
- an incident at a producer pages its consumer too with probability ``coupling``, and a
  page cascades on down the chain the same way, independently per edge
  (:mod:`mlfleet.ops.org.portfolio`: the portfolio is an in-forest, one path per model).

Then incidents at model ``i`` are Poisson with rate ``r = base + deploys x cfr / weeks a
month``, each pages ``sum_{h=0}^{d_i} q^h`` owners on average (``d_i`` the models
downstream of ``i``), and pages per week are ``r x sum_i (1 - q^(d_i+1)) / (1 - q)``
(``d_i + 1`` terms when ``q = 1``). :mod:`mlfleet.ops.org.incident_sim` checks this with a
discrete-event simulation.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet.checks import fraction, non_negative
from mlfleet.ops.org.portfolio import Portfolio

WEEKS_PER_MONTH = 365.25 / 12 / 7
"""Weeks in an average month (4.35)."""
DEFAULT_BASE_PAGES_PER_MODEL_WEEK = 0.1
"""Background incidents per model per week: an assumption (one every ten weeks), no
published figure found; set ``ops.oncall.base_pages_per_model_week`` from your pager."""
DEFAULT_CHANGE_FAILURE_RATE = 0.15
"""DORA *Accelerate State of DevOps 2023*, the medium cluster's change failure rate."""
DEFAULT_COUPLING = 0.3
"""Chance an incident upstream pages the consumer: an assumption."""


@dataclass(frozen=True, kw_only=True)
class IncidentRates:
    """What makes a model page, per model."""

    base_pages_per_model_week: float = DEFAULT_BASE_PAGES_PER_MODEL_WEEK
    deploys_per_model_month: float = 4.0
    change_failure_rate: float = DEFAULT_CHANGE_FAILURE_RATE
    coupling: float = DEFAULT_COUPLING
    """Probability that an incident at a producer pages its consumer."""

    def __post_init__(self) -> None:
        non_negative("base_pages_per_model_week", self.base_pages_per_model_week)
        non_negative("deploys_per_model_month", self.deploys_per_model_month)
        fraction("change_failure_rate", self.change_failure_rate)
        fraction("coupling", self.coupling)

    @property
    def incidents_per_model_week(self) -> float:
        """``r``: background incidents plus failed deploys, per model per week."""
        return (self.base_pages_per_model_week
                + self.deploys_per_model_month * self.change_failure_rate / WEEKS_PER_MONTH)


def pages_per_incident(downstream: int, coupling: float) -> float:
    """Owners an incident pages on average: itself plus ``q^h`` at each of the
    ``downstream`` models ``h`` edges below it (a geometric sum)."""
    if coupling == 1.0:
        return float(downstream + 1)
    return (1.0 - coupling ** (downstream + 1)) / (1.0 - coupling)


def pages_per_week(portfolio: Portfolio, rates: IncidentRates) -> float:
    """Expected pages per week across the portfolio (see the module docstring)."""
    r = rates.incidents_per_model_week
    return r * sum(pages_per_incident(d, rates.coupling) for d in portfolio.depths())

"""The incident model: its closed form against an exact enumeration and against the
discrete-event simulation (:mod:`mlfleet.ops.org.incident_sim`)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlfleet.errors import InputError
from mlfleet.ops.org.incident_sim import simulate_pages
from mlfleet.ops.org.incidents import (
    WEEKS_PER_MONTH,
    IncidentRates,
    pages_per_incident,
    pages_per_week,
)
from mlfleet.ops.org.oncall import oncall_load
from mlfleet.ops.org.portfolio import Portfolio, portfolio

Z_MAX = 4.0
"""Simulated means within 4 standard errors of the closed form (a false failure ~1e-4)."""


def _enumerated_pages_per_week(p: Portfolio, rates: IncidentRates) -> float:
    """Walk each model's downstream chain, multiplying the coupling per hop (no algebra)."""
    total = 0.0
    for i in range(p.models):
        expected, chance, node = 1.0, 1.0, p.consumer_of[i]
        while node is not None:
            chance *= rates.coupling
            expected, node = expected + chance, p.consumer_of[node]
        total += rates.incidents_per_model_week * expected
    return total


@given(models=st.integers(1, 120), members=st.integers(2, 15), coupling=st.floats(0, 1),
       deploys=st.floats(0, 30), cfr=st.floats(0, 1))
def test_closed_form_equals_the_enumeration(models: int, members: int, coupling: float,
                                            deploys: float, cfr: float) -> None:
    p = portfolio(models=models, ensembles=models // (2 * members), members=members)
    rates = IncidentRates(deploys_per_model_month=deploys, change_failure_rate=cfr,
                          coupling=coupling)
    assert pages_per_week(p, rates) == pytest.approx(_enumerated_pages_per_week(p, rates),
                                                     rel=1e-12)


def test_rate_per_model_is_background_plus_failed_deploys() -> None:
    rates = IncidentRates(base_pages_per_model_week=0.1, deploys_per_model_month=4,
                          change_failure_rate=0.15)
    assert rates.incidents_per_model_week == pytest.approx(0.1 + 0.6 / WEEKS_PER_MONTH)
    assert pages_per_incident(2, 0.0) == 1.0 and pages_per_incident(2, 1.0) == 3.0
    assert pages_per_incident(2, 0.5) == pytest.approx(1.75)


@given(coupling=st.floats(0, 0.99))
def test_coupling_only_adds_pages(coupling: float) -> None:
    p = portfolio(models=40, ensembles=2, members=12)
    uncoupled = pages_per_week(p, IncidentRates(coupling=0.0))
    assert pages_per_week(p, IncidentRates(coupling=coupling)) >= uncoupled


CASES = [(1, 0, 10), (10, 1, 10), (40, 2, 12), (100, 5, 10), (300, 15, 10)]


@pytest.mark.parametrize(("models", "ensembles", "members"), CASES)
def test_simulation_agrees_with_the_closed_form(models: int, ensembles: int,
                                               members: int) -> None:
    """Validation: 2,000 simulated weeks per portfolio; the mean pages per week is within
    4 standard errors of r x sum_i (1 - q^(d_i+1)) / (1 - q). Observed errors (seed 7):
    see docs/operations-platform.md."""
    p = portfolio(models=models, ensembles=ensembles, members=members)
    rates = IncidentRates()
    sim = simulate_pages(p, rates, weeks=2000, seed=7)
    model = pages_per_week(p, rates)
    assert abs(sim.pages_per_week - model) <= Z_MAX * sim.pages_per_week_stderr, (
        sim.pages_per_week, model, sim.pages_per_week_stderr)


def test_uncoupled_shifts_over_budget_follow_the_poisson_tail() -> None:
    """Without coupling each shift's pages are Poisson: the simulated fraction of shifts with
    more than 2 pages matches the tail within 4 binomial standard errors."""
    p = portfolio(models=100)
    rates = IncidentRates(coupling=0.0)
    sim = simulate_pages(p, rates, weeks=1000, seed=3)
    tail = oncall_load(pages_per_week(p, rates)).shift_over_budget_poisson
    shifts = 1000 * 14
    se = (tail * (1 - tail) / shifts) ** 0.5
    assert abs(sim.shift_over_budget - tail) <= Z_MAX * se, (sim.shift_over_budget, tail)


def test_the_simulation_is_reproducible_from_its_seed() -> None:
    p = portfolio(models=20, ensembles=1, members=10)
    a, b = (simulate_pages(p, IncidentRates(), weeks=50, seed=5) for _ in range(2))
    assert a == b
    assert simulate_pages(p, IncidentRates(), weeks=50, seed=6) != a


@pytest.mark.parametrize(("field", "value"), [("coupling", 1.5), ("change_failure_rate", -0.1),
                                              ("deploys_per_model_month", -1.0)])
def test_bad_rates_are_refused(field: str, value: float) -> None:
    with pytest.raises(InputError, match=field):
        IncidentRates(**{field: value})

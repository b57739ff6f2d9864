"""On-call load over a range of portfolio sizes, closed form beside the simulation."""

from __future__ import annotations

from dataclasses import dataclass, replace

from mlfleet.ops.org.incident_sim import simulate_pages
from mlfleet.ops.org.incidents import IncidentRates, pages_per_week
from mlfleet.ops.org.oncall import oncall_load
from mlfleet.ops.org.portfolio import Portfolio, portfolio


@dataclass(frozen=True, kw_only=True)
class OncallRow:
    """One portfolio size."""

    models: int
    ensembles: int
    edges: int
    pages_per_week: float
    pages_per_shift: float
    rotations: int
    engineers: int
    shift_over_budget_poisson: float
    simulated_pages_per_week: float | None = None
    simulated_stderr: float | None = None
    simulated_shift_over_budget: float | None = None


def grown_portfolio(models: int, *, members: int, in_ensembles: float) -> Portfolio:
    """``models`` with ``in_ensembles`` of them (rounded down to whole ensembles) grouped
    ``members`` each."""
    return portfolio(models=models, ensembles=int(models * in_ensembles) // members,
                     members=members)


def oncall_sweep(sizes: list[int], rates: IncidentRates, *, members: int, in_ensembles: float,
                 simulate_weeks: float = 0.0, seed: int = 0) -> list[OncallRow]:
    """One row per size; with ``simulate_weeks`` the simulation's numbers beside the model's."""
    rows = []
    for m in sizes:
        p = grown_portfolio(m, members=members, in_ensembles=in_ensembles)
        load = oncall_load(pages_per_week(p, rates))
        row = OncallRow(models=m, ensembles=int(m * in_ensembles) // members, edges=p.edges,
                        pages_per_week=load.pages_per_week, pages_per_shift=load.pages_per_shift,
                        rotations=load.rotations, engineers=load.engineers,
                        shift_over_budget_poisson=load.shift_over_budget_poisson)
        if simulate_weeks > 0:
            sim = simulate_pages(p, rates, weeks=simulate_weeks, seed=seed)
            row = replace(row, simulated_pages_per_week=sim.pages_per_week,
                          simulated_stderr=sim.pages_per_week_stderr,
                          simulated_shift_over_budget=sim.shift_over_budget)
        rows.append(row)
    return rows

"""The words of the operations section: its bottleneck, recommendation and reasoning."""

from __future__ import annotations

from mlfleet.ops.org.oncall import MAX_INCIDENTS_PER_SHIFT, MIN_ROTATION_ENGINEERS
from mlfleet.plan.operations import OperationsPlan
from mlfleet.units import format_duration


def _oncall_use(result: OperationsPlan) -> float:
    """Pages per shift over the SRE book's budget of 2."""
    return result.oncall.pages_per_shift / MAX_INCIDENTS_PER_SHIFT


def _traffic_use(result: OperationsPlan) -> float | None:
    """The share of the experiment window's users one experiment takes."""
    return None if result.experiments is None else result.experiments.traffic_share


def bottleneck(result: OperationsPlan) -> str:
    """Whichever of the pager and the experiment traffic is nearer its limit."""
    oncall, traffic = _oncall_use(result), _traffic_use(result)
    if traffic is not None and traffic > oncall:
        capacity = result.experiments
        assert capacity is not None
        if not capacity.experiments_layered:
            return (f"experiment traffic: one experiment needs {capacity.users_per_experiment:,} "
                    f"users, more than its duration brings")
        return (f"experiment traffic: {capacity.experiments_layered} experiments at once "
                f"({capacity.layers} layer{'s' if capacity.layers > 1 else ''})")
    load = result.oncall
    if load.rotations > 1:
        return (f"on-call: {load.pages_per_shift:.2f} pages per 12-hour shift, over the SRE "
                f"book's {MAX_INCIDENTS_PER_SHIFT}")
    return (f"on-call: {load.pages_per_shift:.2f} of the {MAX_INCIDENTS_PER_SHIFT} pages per "
            "12-hour shift one rotation carries")


def recommendation(result: OperationsPlan) -> str:
    """The platform decision, then what the bottleneck asks for."""
    pay, load = result.payback, result.oncall
    if pay.saving_usd_per_year > 0:
        first = (f"run the portfolio on a shared platform: at {pay.models} models it saves "
                 f"${pay.saving_usd_per_year:,.0f} a year over hand-run operations")
    else:
        first = (f"operate the {pay.models} models by hand with shared conventions; a platform "
                 f"team pays back from {pay.break_even_models:.0f} models")
    tests = result.experiments
    if tests is not None and not tests.experiments_layered:
        return (f"{first}; an experiment needs {tests.days_at_full_traffic:.1f} days of all "
                f"the traffic: run it that long, or test for a larger effect (all the traffic "
                f"of its duration detects {result.mde_at_full_traffic or 0:.2%})")
    if load.rotations > 1:
        return (f"{first}; split on-call into {load.rotations} rotations of "
                f"{MIN_ROTATION_ENGINEERS} (or cut pages: fewer failed deploys, looser coupling)")
    return f"{first}; one on-call rotation of {MIN_ROTATION_ENGINEERS} engineers"


def reasoning(result: OperationsPlan) -> list[str]:
    """The numbers behind the bottleneck and the recommendation, one line each."""
    p, load, pay = result.portfolio, result.oncall, result.payback
    lines = [
        f"{p.models} models with {p.edges} dependency edges page {result.pages_per_week:.1f} "
        f"times a week (Poisson incidents per model and per failed deploy, an upstream "
        f"incident paging its consumers with the coupling probability)",
        f"{load.pages_per_shift:.2f} pages per 12-hour shift against the SRE book's "
        f"{MAX_INCIDENTS_PER_SHIFT}; {load.shift_over_budget_poisson:.1%} of shifts go over if "
        "pages were independent (coupled pages come in bursts)",
        f"by hand the toil takes {pay.manual_engineers:.1f} full-time engineers; a platform team "
        f"breaks even at {pay.break_even_models:.1f} models",
    ]
    tests = result.experiments
    if tests is not None and result.mde_at_full_traffic is not None:
        lines.append(
            f"{tests.users_per_arm:,} users per arm (alpha 0.05, power 0.8); with all the "
            f"traffic one experiment takes {format_duration(tests.days_at_full_traffic * 86400)}"
            f", {tests.experiments_disjoint} fit side by side in each of {tests.layers} "
            f"layer(s), and all the traffic detects a {result.mde_at_full_traffic:.2%} "
            "relative effect")
    canary = result.canary
    if canary is not None:
        lines.append(
            f"each of the {result.deploys_per_month:g} deploys a month is canaried in stages "
            f"{', '.join(f'{s:.0%}' for s in canary.stages)}, {canary.intervals_per_judgement} "
            f"intervals of {format_duration(canary.interval_s)} per judgement: "
            f"{format_duration(canary.time_to_full_rollout_s)} to full traffic")
    return lines

"""``mlfleet ops platform``: on-call load as the portfolio grows, platform payback, team
structures (docs/operations-platform.md)."""

from __future__ import annotations

from typing import Any

import click

from mlfleet.ops.org import cli_args as args

_CTX = {"help_option_names": ["-h", "--help"]}


@click.group("platform", context_settings=_CTX)
def platform_group() -> None:
    """Platform and organisation: on-call load, platform payback, team structures."""


@platform_group.command("oncall", context_settings=_CTX)
@click.option("--models", default="1,10,30,100,300", show_default=True,
              help="Portfolio sizes, comma-separated.")
@click.option("--deploys-per-month", type=float, default=4.0, show_default=True,
              help="Deploys of each model per month.")
@click.option("--ensemble-members", type=int, default=10, show_default=True,
              help="Models per ensemble (feature providers -> ranker -> post-processing).")
@click.option("--in-ensembles", type=float, default=0.5, show_default=True,
              help="Fraction of the models that sit in ensembles, in [0, 1].")
@click.option("--base-rate", type=float, default=0.1, show_default=True,
              help="Background incidents per model per week (an assumption).")
@click.option("--change-failure-rate", type=float, default=0.15, show_default=True,
              help="Fraction of deploys that page [DORA 2023 medium cluster].")
@click.option("--coupling", type=float, default=0.3, show_default=True,
              help="Chance an upstream incident pages its consumer, in [0, 1].")
@click.option("--simulate-weeks", type=float, default=0.0, show_default=True,
              help="Also simulate this many weeks per size (0: the closed form only).")
@click.option("--seed", type=int, default=0, show_default=True, help="Simulation seed.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def oncall_command(models: str, deploys_per_month: float, ensemble_members: int,
                   in_ensembles: float, base_rate: float, change_failure_rate: float,
                   coupling: float, simulate_weeks: float, seed: int, as_json: bool) -> None:
    """Pages per week and on-call engineers as the portfolio grows (SRE book: at most 2
    incidents per 12-hour shift, 8 engineers per 24/7 rotation).

    \b
    mlfleet ops platform oncall --models 1,10,100
    mlfleet ops platform oncall --models 10,100 --deploys-per-month 8 --simulate-weeks 200
    """
    from mlfleet.ops.org.incidents import IncidentRates
    from mlfleet.ops.org.oncall_sweep import oncall_sweep

    sizes = args.model_counts(models)
    rates = IncidentRates(base_pages_per_model_week=base_rate,
                          deploys_per_model_month=deploys_per_month,
                          change_failure_rate=change_failure_rate, coupling=coupling)
    rows = oncall_sweep(sizes, rates, members=args.members(ensemble_members),
                        in_ensembles=args.share("--in-ensembles", in_ensembles),
                        simulate_weeks=args.weeks(simulate_weeks, max(sizes)), seed=seed)
    if as_json:
        _emit({"rates": vars(rates), "rows": [vars(r) for r in rows]})
        return
    _table(["models", "edges", "pages/week", "pages/shift", "rotations", "engineers",
            "shifts > 2 (Poisson)", "simulated pages/week", "simulated shifts > 2"],
           [[r.models, r.edges, f"{r.pages_per_week:.2f}", f"{r.pages_per_shift:.2f}",
             r.rotations, r.engineers, f"{r.shift_over_budget_poisson:.1%}",
             "-" if r.simulated_pages_per_week is None
             else f"{r.simulated_pages_per_week:.2f} ± {r.simulated_stderr:.2f}",
             "-" if r.simulated_shift_over_budget is None
             else f"{r.simulated_shift_over_budget:.1%}"] for r in rows],
           "on-call load as the portfolio grows (model)")


@platform_group.command("payback", context_settings=_CTX)
@click.option("--models", default="1,10,30,100,300", show_default=True,
              help="Portfolio sizes, comma-separated.")
@click.option("--platform-engineers", type=int, default=6, show_default=True,
              help="Engineers on the platform team.")
@click.option("--engineer-cost", default="$250k", show_default=True,
              help="Loaded cost of an engineer per year.")
@click.option("--manual-hours", type=float, default=40.0, show_default=True,
              help="Engineer hours per model per month without a platform.")
@click.option("--platform-hours", type=float, default=8.0, show_default=True,
              help="Engineer hours per model per month with the platform.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def payback_command(models: str, platform_engineers: int, engineer_cost: str,
                    manual_hours: float, platform_hours: float, as_json: bool) -> None:
    """Manual vs platform operations: the number of models at which a platform pays back.

    \b
    mlfleet ops platform payback
    mlfleet ops platform payback --platform-engineers 10 --manual-hours 60 --json
    """
    from mlfleet.ops.org.payback import PlatformCosts, payback

    costs = PlatformCosts(platform_engineers=args.people("--platform-engineers",
                                                         platform_engineers),
                          engineer_usd_per_year=args.usd("--engineer-cost", engineer_cost),
                          manual_hours_per_model_month=manual_hours,
                          platform_hours_per_model_month=platform_hours)
    rows = [payback(n, costs) for n in args.model_counts(models)]
    if as_json:
        _emit({"costs": vars(costs), "break_even_models": rows[0].break_even_models,
               "rows": [vars(r) for r in rows]})
        return
    _table(["models", "by hand $/year", "with platform $/year", "saving $/year",
            "toil engineers by hand"],
           [[r.models, f"{r.manual_usd_per_year:,.0f}", f"{r.platform_usd_per_year:,.0f}",
             f"{r.saving_usd_per_year:,.0f}", f"{r.manual_engineers:.1f}"] for r in rows],
           f"platform payback: break-even at {rows[0].break_even_models:.1f} models (model)")


@platform_group.command("teams", context_settings=_CTX)
@click.option("--product-teams", default="2,5,10,20", show_default=True,
              help="Numbers of product teams, comma-separated.")
@click.option("--engineers-per-team", type=int, default=5, show_default=True,
              help="ML engineers' worth of work per product team.")
@click.option("--platform-engineers", type=int, default=6, show_default=True,
              help="Engineers on the platform team (hybrid).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def teams_command(product_teams: str, engineers_per_team: int, platform_engineers: int,
                  as_json: bool) -> None:
    """Centralized, embedded and hybrid ML teams by Brooks's n(n-1)/2 communication paths
    (illustrative).

    \b
    mlfleet ops platform teams
    mlfleet ops platform teams --product-teams 10 --engineers-per-team 4 --json
    """
    from mlfleet.ops.org.teams import structures

    rows = [(t, s) for t in args.team_counts(product_teams)
            for s in structures(
                product_teams=t,
                engineers_per_team=args.people("--engineers-per-team", engineers_per_team),
                platform_engineers=args.people("--platform-engineers", platform_engineers))]
    if as_json:
        _emit({"illustrative": True, "rows": [{"product_teams": t, **vars(s)} for t, s in rows]})
        return
    _table(["product teams", "structure", "engineers", "communication paths",
            "platform copies"],
           [[t, s.name, s.engineers, f"{s.communication_paths:,}", s.platform_copies]
            for t, s in rows], "team structures (illustrative: Brooks's n(n-1)/2)")


def _emit(payload: dict[str, Any]) -> None:
    from mlfleet.cli import emit_json

    emit_json({"fidelity": "model", **payload})


def _table(headers: list[str], rows: list[list[Any]], title: str) -> None:
    from mlfleet.report.terminal import print_table

    print_table(headers, rows, title=title)

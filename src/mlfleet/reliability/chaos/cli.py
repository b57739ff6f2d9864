"""``mlfleet chaos``: faults on a real fleet under load; what clients saw, the
simulator's prediction of it, and the SLO arithmetic."""

from __future__ import annotations

import dataclasses
from typing import Any

import click

from mlfleet.reliability.chaos.faults import FaultError
from mlfleet.reliability.chaos.recorder import EveryRetry, NoRetries, RetryGate
from mlfleet.reliability.chaos.render import format_report
from mlfleet.reliability.chaos.report import chaos_report
from mlfleet.reliability.chaos.run import ChaosSpec, run_chaos
from mlfleet.reliability.resilience.retry_budget import RetryBudget, RetryBudgetConfig
from mlfleet.serving.fleet.spec import BALANCES
from mlfleet.units import duration_option

CLIENT_RETRIES = ("budget", "none", "every")


def _gate(name: str, ratio: float) -> RetryGate:
    if name == "budget":
        return RetryBudget(RetryBudgetConfig(ratio=ratio))
    return NoRetries() if name == "none" else EveryRetry()


@click.command("chaos")
@click.option("--replicas", default=3, show_default=True, type=int, help="mlfleet serve replicas.")
@click.option("--balance", default="random2", show_default=True,
              help=f"HAProxy balancing policy: {', '.join(BALANCES)}.")
@click.option("--rate", "rate_rps", default=40.0, show_default=True, type=float,
              help="Open-loop arrivals per second.")
@click.option("--duration", default="30s", show_default=True, help="Length of the load.")
@click.option("--fault", "faults", multiple=True, metavar="[R:]ACTION@TIME,...",
              help="One fault episode on replica R (default 0): kill, drain (SIGTERM), "
                   "restart, stop, cont, slow, fast at times, e.g. kill@5s,restart@12s. "
                   "Repeatable.")
@click.option("--slow-factor", default=2.0, show_default=True, type=float,
              help="A 'slow' replica runs at 1/this of its speed.")
@click.option("--client-retries", default="budget", show_default=True,
              help="Client retries: budget (within a retry budget), none, or every "
                   "(every failure: a storm).")
@click.option("--haproxy-retries", default=2, show_default=True, type=int,
              help="HAProxy's retries (with redispatch) of a refused or dropped request; "
                   "0: none, so a killed replica's requests fail until HAProxy marks it "
                   "down (the failed fraction the simulator predicts).")
@click.option("--retry-budget", "budget_ratio", default=0.2, show_default=True, type=float,
              help="Retries per request the budget allows (Envoy's default: 0.2).")
@click.option("--slo", "slo_target", default=0.99, show_default=True, type=float,
              help="Availability SLO target for the error-budget arithmetic.")
@click.option("--seed", default=0, show_default=True, type=int, help="Arrival/content seed.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def chaos_command(replicas: int, balance: str, rate_rps: float, duration: str,
                  faults: tuple[str, ...], slow_factor: float, client_retries: str,
                  haproxy_retries: int, budget_ratio: float, slo_target: float, seed: int,
                  as_json: bool) -> None:
    """Start REPLICAS `mlfleet serve` processes behind HAProxy on 127.0.0.1, drive
    open-loop load through it, apply the --fault schedule (SIGKILL, SIGSTOP/SIGCONT,
    slow-downs, restarts) and report what clients saw: every request's final outcome
    (none lost silently, none answered twice), failed fraction, p99 during and after each
    fault, time to recover, per-replica load; beside it the serving simulator's
    prediction of the same run; and the SLO arithmetic (availability, error budget and
    burn, multi-window burn-rate pages, MTTR, RTO, RPO)."""
    from mlfleet.checks import fraction, non_negative, one_of

    fraction("--slo", slo_target, open_low=True, open_high=True, error=FaultError)
    one_of("--balance", balance, BALANCES, error=FaultError)
    one_of("--client-retries", client_retries, CLIENT_RETRIES, error=FaultError)
    spec = _spec(replicas=replicas, balance=balance, rate_rps=rate_rps,
                 duration_s=duration_option("--duration", duration), faults=faults,
                 slow_factor=slow_factor, seed=seed, haproxy_retries=haproxy_retries)
    non_negative("--retry-budget", budget_ratio, error=FaultError)
    gate = _gate(client_retries, budget_ratio)
    report = chaos_report(run_chaos(spec, gate=gate), slo_target=slo_target)
    if as_json:
        from mlfleet.cli import emit_json

        emit_json({"spec": dataclasses.asdict(spec), "client_retries": client_retries,
                   "invariant_holds": report.outcomes.holds, **_as_dict(report)})
    else:
        click.echo(format_report(spec, report))


def _spec(**fields: Any) -> ChaosSpec:
    """The spec, with field names in errors turned into the flags the user typed."""
    from mlfleet.errors import InputError

    try:
        return ChaosSpec(**fields)
    except InputError as exc:
        message = str(exc)
        for name, flag in (("rate_rps", "--rate"), ("duration_s", "--duration"),
                           ("slow_factor", "--slow-factor"), ("replicas", "--replicas"),
                           ("seed", "--seed"), ("retries", "--haproxy-retries")):
            message = message.replace(f"{name}(=", f"{flag}(=")
        raise type(exc)(message) from None


def _as_dict(report: Any) -> dict[str, Any]:
    out: dict[str, Any] = dataclasses.asdict(report)
    return out

"""``mlfleet ops cost budget|rightsize|commit``: managing spend, not only attributing it."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import click
import numpy as np

from mlfleet.errors import InputError
from mlfleet.ops.cost.cli_options import existing_file, pricing_options, rates_from


def _emit(doc: dict[str, Any], as_json: bool, headers: tuple[str, ...],
          rows: list[tuple[Any, ...]], title: str) -> None:
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(doc)
        return
    from mlfleet.report.terminal import print_table

    print_table(headers, rows, title=title)


def _numbers(path: Path, columns: tuple[str, ...], *, text: tuple[str, ...] = ()) \
        -> list[tuple[int, dict[str, Any]]]:
    """Rows of ``path`` with ``columns`` as floats >= 0 and ``text`` columns as strings."""
    from mlfleet.ops.cost.allocation_file import AllocationFileError, read_rows

    header, body = read_rows(path)
    missing = [c for c in (*text, *columns) if c not in header]
    if missing:
        raise AllocationFileError(f"{path.name}: missing column(s) {', '.join(missing)}; "
                                  f"columns: {', '.join(header)}")
    out = []
    for line, row in body:
        values: dict[str, Any] = {c: row[c] for c in text}
        for c in columns:
            try:
                values[c] = float(row[c])
            except ValueError:
                values[c] = -1.0
            if not np.isfinite(values[c]) or values[c] < 0:
                raise AllocationFileError(f"{path.name}: line {line}: {c}(={row[c]!r}) must "
                                          "be a finite number >= 0")
        out.append((line, values))
    return out


def _budgets(items: tuple[str, ...]) -> dict[str, float]:
    from mlfleet.infra.tco.cli_inputs import positive_price

    out = {}
    for item in items:
        team, sep, usd = item.partition("=")
        if not sep or not team.strip():
            raise InputError(f"--budget {item!r} must look like TEAM=USD, e.g. vision=$20000")
        value = positive_price(usd.strip(), "usd", f"--budget {team.strip()}")
        assert value is not None
        out[team.strip()] = value
    return out


@click.command("budget")
@click.argument("spend", required=False, type=click.Path(path_type=Path))
@click.option("--budget", "budget_items", multiple=True, metavar="TEAM=USD",
              help="Monthly budget of a team, e.g. vision=$20000; repeatable "
                   "[the bundled example's].")
@click.option("--day", type=float, default=None, help="Days elapsed [the file's last day].")
@click.option("--month-days", type=click.FloatRange(min=1, max=31), default=30.0,
              show_default=True)
@click.option("--warn", type=click.FloatRange(min=0, max=1, min_open=True), default=0.8,
              show_default=True, help="Warn when the forecast passes this fraction.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def budget_command(spend: Path | None, budget_items: tuple[str, ...], day: float | None,
                   month_days: float, warn: float, as_json: bool) -> None:
    """Month-to-date SPEND (CSV: team, day, cost_usd) and forecast vs each team's budget."""
    from mlfleet.ops.cost.budget import budget_status

    path = existing_file(spend, "spend.csv", "SPEND")
    rows = _numbers(path, ("day", "cost_usd"), text=("team",))
    budgets = _budgets(budget_items) if budget_items else \
        {"vision": 20_000.0, "recsys": 12_000.0, "llm": 60_000.0}
    elapsed = day if day is not None else max((r["day"] for _, r in rows), default=0.0)
    if not 0 < elapsed <= month_days:
        raise InputError(f"--day(={elapsed:g}) must be in (0, --month-days={month_days:g}]")
    spent: dict[str, float] = defaultdict(float)
    for _, r in rows:
        if r["day"] <= elapsed:
            spent[r["team"]] += r["cost_usd"]
    found = [budget_status(team=t, spent_usd=spent[t], budget_usd=b, elapsed_days=elapsed,
                           month_days=month_days, warn_at=warn) for t, b in sorted(budgets.items())]
    doc = {"fidelity": "model", "source": path.name, "elapsed_days": elapsed,
           "month_days": month_days, "warn_at": warn,
           "teams": [vars(s) for s in found],
           "unbudgeted_teams": sorted(set(spent) - set(budgets))}
    _emit(doc, as_json, ("team", "budget", "spent", "forecast", "status", "overrun day"),
          [(s.team, f"${s.budget_usd:,.0f}", f"${s.spent_usd:,.0f}", f"${s.forecast_usd:,.0f}",
            s.status, "" if s.overrun_day is None else f"{s.overrun_day:.1f}") for s in found],
          f"Budgets on day {elapsed:g} of {month_days:g} (linear run-rate forecast)")


@click.command("rightsize")
@click.argument("usage", required=False, type=click.Path(path_type=Path))
@click.option("--percentile", type=click.FloatRange(min=0, max=100, min_open=True),
              default=95.0, show_default=True)
@click.option("--headroom", type=click.FloatRange(min=1), default=1.2, show_default=True)
@click.option("--gpu-step", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Round GPU requests up to this (1: whole GPUs, 0.142857: MIG 1g slices).")
@pricing_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def rightsize_command(usage: Path | None, percentile: float, headroom: float, gpu_step: float,
                      as_json: bool, **opts: Any) -> None:
    """Recommended requests from USAGE samples (CSV: name, resource, requested, used)."""
    from mlfleet.checks import one_of
    from mlfleet.ops.cost.resources import Resource
    from mlfleet.ops.cost.rightsize import rightsize

    path = existing_file(usage, "usage.csv", "USAGE")
    rates = rates_from(opts)
    samples: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for line, r in _numbers(path, ("requested", "used"), text=("name", "resource")):
        one_of(f"{path.name}: line {line}: resource", r["resource"], [x.value for x in Resource])
        samples[r["name"], r["resource"]].append((r["requested"], r["used"]))
    found = [rightsize(name=n, resource=res, requested=max(q for q, _ in s),
                       usage=np.array([u for _, u in s]),
                       usd_per_unit_h=rates.hourly_usd(Resource(res)), percentile=percentile,
                       headroom=headroom, step=gpu_step if res == "gpu" else 0.0)
             for (n, res), s in sorted(samples.items())]
    doc = {"fidelity": "model", "source": path.name, "percentile": percentile,
           "headroom": headroom, "rates": vars(rates),
           "workloads": [{**vars(f), "action": f.action} for f in found],
           "saving_usd_per_month": sum(max(f.saving_usd_per_month, 0.0) for f in found)}
    _emit(doc, as_json, ("workload", "resource", "requested", "recommended", "action",
                         "saving / month"),
          [(f.name, f.resource, f"{f.requested:g}", f"{f.recommended:.3g}", f.action,
            f"${f.saving_usd_per_month:,.0f}") for f in found],
          f"Right-sizing: p{percentile:g} of usage x {headroom:g}")


@click.command("commit")
@click.argument("demand", required=False, type=click.Path(path_type=Path))
@click.option("--offer", default="aws-p4d", show_default=True, help="Catalog cloud offer.")
@click.option("--tier", default="reserved-1y", show_default=True,
              help="Reserved tier: reserved-1y or reserved-3y.")
@click.option("--spot/--no-spot", default=True, show_default=True,
              help="Run preemptible work on spot when cheaper.")
@click.option("--job-gpus", type=click.IntRange(min=1, max=65_536), default=8,
              show_default=True, help="GPUs of one preemptible job (its preemption rate).")
@click.option("--ckpt", default="2min", show_default=True, help="Checkpoint write time.")
@click.option("--restart", default="5min", show_default=True, help="Restart time.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def commit_command(demand: Path | None, offer: str, tier: str, spot: bool, job_gpus: int,
                   ckpt: str, restart: str, as_json: bool) -> None:
    """Reserved / on-demand / spot for DEMAND (CSV: hour, firm_gpus, preemptible_gpus)."""
    from mlfleet.ops.cost.cli_commit import commit

    path = existing_file(demand, "demand.csv", "DEMAND")
    rows = _numbers(path, ("firm_gpus", "preemptible_gpus"))
    if not rows:
        raise InputError(f"{path.name}: no hours")
    doc = commit(firm=np.array([r["firm_gpus"] for _, r in rows]),
                 preemptible=np.array([r["preemptible_gpus"] for _, r in rows]),
                 offer_name=offer, tier=tier, spot=spot, job_gpus=job_gpus, ckpt=ckpt,
                 restart=restart)
    doc["source"] = path.name
    p = doc["plan"]
    _emit(doc, as_json, ("buy", "amount", "cost"),
          [("reserved GPUs", f"{p['reserved_gpus']:g}", f"${p['reserved_usd']:,.0f}"),
           ("on-demand GPU-h", f"{p['on_demand_gpu_h']:,.0f}", f"${p['on_demand_usd']:,.0f}"),
           ("spot GPU-h (useful)", f"{p['spot_gpu_h']:,.0f}", f"${p['spot_usd']:,.0f}"),
           ("total", "", f"${p['total_usd']:,.0f} (all on-demand ${p['all_on_demand_usd']:,.0f},"
                         f" saving ${p['saving_usd']:,.0f})")],
          f"Commitments for {len(rows)} h of demand on {offer}")

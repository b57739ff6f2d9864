"""``mlfleet ops canary real``: a judged canary on two real ``mlfleet serve`` processes."""

from __future__ import annotations

from typing import Any

import click


def _totals(series: dict[str, Any]) -> dict[str, float]:
    import numpy as np

    requests = float(np.nansum(series["requests"]))
    errors = float(np.nansum(series["errors"]))
    return {"requests": requests, "errors": errors,
            "error_share": errors / requests if requests else float("nan"),
            "latency_p50_s_median": float(np.nanmedian(series["latency_p50_s"])),
            "latency_p99_s_median": float(np.nanmedian(series["latency_p99_s"]))}


@click.command("real")
@click.option("--regression", default="none", show_default=True,
              help="The canary server's fault: none, latency=F (batching deadline x F), "
                   "errors=P (token bucket at (1-P) x rate).")
@click.option("--duration", default="20s", show_default=True,
              help="How long both servers are driven (e.g. 20s, 1min).")
@click.option("--rate", "rate_rps", type=float, default=40.0, show_default=True,
              help="Poisson requests per second to each server.")
@click.option("--interval", default="1s", show_default=True, help="Metric interval.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the load.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as strict JSON.")
def real_command(regression: str, duration: str, rate_rps: float, interval: str, seed: int,
                 as_json: bool) -> None:
    """Start a baseline and a canary mlfleet serve, load both, let the judge decide."""
    from mlfleet.cli import emit_json
    from mlfleet.ops.canary.real_run import RealSetup, run_real_canary
    from mlfleet.ops.canary.regression import parse_regression
    from mlfleet.ops.canary.report import result_doc, result_lines
    from mlfleet.units import duration_option

    setup = RealSetup(duration_s=duration_option("--duration", duration), rate_rps=rate_rps,
                      interval_s=duration_option("--interval", interval), seed=seed)
    outcome = run_real_canary(parse_regression(regression), setup=setup)
    doc = {"regression": regression, "canary_args": list(outcome.canary_args),
           "decision": outcome.decision, "duration_s": setup.duration_s,
           "rate_rps": rate_rps, "interval_s": setup.interval_s,
           "baseline_seen": _totals(outcome.baseline), "canary_seen": _totals(outcome.canary),
           "judge": result_doc(outcome.result)}
    if as_json:
        emit_json(doc)
        return
    click.echo(f"{outcome.decision} (canary server: {' '.join(outcome.canary_args) or 'as baseline'})")
    click.echo("\n".join(result_lines(outcome.result)))

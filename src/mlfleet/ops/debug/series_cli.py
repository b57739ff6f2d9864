"""``mlfleet ops debug changepoints|drift|staleness``: detectors over metric and feature files.

    mlfleet ops debug changepoints latency.csv --column p99_s --window 1
    mlfleet ops debug drift reference.csv current.csv --json
    mlfleet ops debug staleness --drift 0.05 --retrain-cost 200 --error-cost 1000
    mlfleet ops debug staleness --series decay.csv --retrain-cost 200 --error-cost 1000
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import click
import numpy as np

from mlfleet.ops.debug.log_reader import DebugInputError
from mlfleet.ops.debug.series_file import read_columns


def _emit(payload: dict[str, Any]) -> None:
    from mlfleet.cli import emit_json

    emit_json(payload)


@click.command("changepoints")
@click.argument("series", metavar="SERIES.csv")
@click.option("--column", default="latency_s", show_default=True,
              help="Column of positive values (a latency, one row per window).")
@click.option("--window", default=1, show_default=True, type=int,
              help="Average this many consecutive rows first (per-request rows: e.g. 100).")
@click.option("--baseline", default=60, show_default=True, type=int,
              help="Leading values (after --window) that define normal.")
@click.option("--k", default=0.5, show_default=True, type=float, help="CUSUM reference (sigma).")
@click.option("--h", default=8.0, show_default=True, type=float, help="CUSUM threshold (sigma).")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
def changepoints_command(series: str, column: str, window: int, baseline: int, k: float,
                         h: float, as_json: bool) -> None:
    """Upward shifts (regressions) in a latency series, by a robust CUSUM."""
    from mlfleet.checks import positive, positive_int
    from mlfleet.ops.debug.changepoints import CusumConfig, cusum

    positive_int("--window", window, error=DebugInputError)
    config = CusumConfig(k=positive("--k", k, error=DebugInputError),
                         h=positive("--h", h, error=DebugInputError),
                         baseline=positive_int("--baseline", baseline, minimum=3,
                                               error=DebugInputError))
    values = read_columns(Path(series), [column], positive=True)[column]
    usable = values.size // window * window
    values = values[:usable].reshape(-1, window).mean(axis=1)
    if values.size <= config.baseline:
        raise DebugInputError(f"{series!r}: {values.size} values after --window {window}; "
                              f"need more than --baseline {config.baseline}")
    found = cusum(values, config)
    if as_json:
        _emit({"fidelity": "model", "column": column, "values": int(values.size),
               "window": window, "config": dataclasses.asdict(config),
               "change_points": [dataclasses.asdict(c) for c in found]})
        return
    click.echo(f"{values.size} values of {column}; baseline median "
               f"{float(np.median(values[:config.baseline])):.4g}")
    if not found:
        click.echo("no change point")
    for c in found:
        click.echo(f"change at index {c.change_index} (alarm at {c.alarm_index}): "
                   f"{c.before:.4g} -> {c.after:.4g} ({c.after / c.before - 1:+.0%})")


@click.command("drift")
@click.argument("reference", metavar="REFERENCE.csv")
@click.argument("current", metavar="CURRENT.csv")
@click.option("--psi-threshold", default=0.1, show_default=True, type=float,
              help="PSI from which a column has drifted (0.1 moderate, 0.25 shifted).")
@click.option("--ks-alpha", default=0.01, show_default=True, type=float)
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
def drift_command(reference: str, current: str, psi_threshold: float, ks_alpha: float,
                  as_json: bool) -> None:
    """PSI and KS per numeric column of CURRENT against REFERENCE."""
    from mlfleet.ops.debug.drift import DriftRule, table_drift

    rule = DriftRule(psi_threshold=psi_threshold, ks_alpha=ks_alpha)
    ref = read_columns(Path(reference))
    cur = read_columns(Path(current), list(ref))
    rows = table_drift(ref, cur, rule)
    if as_json:
        _emit({"fidelity": "model", "rule": dataclasses.asdict(rule),
               "columns": [dataclasses.asdict(r) for r in rows]})
        return
    for r in rows:
        flag = "DRIFT" if r.drifted_psi or r.drifted_ks else "ok"
        click.echo(f"{r.column}: PSI {r.psi:.3f} ({r.psi_verdict}), KS D {r.ks_d:.3f} "
                   f"p {r.ks_p:.2g}  {flag}")


@click.command("staleness")
@click.option("--series", default=None, metavar="DECAY.csv",
              help="Observed error vs age (columns age, error); else simulate the stream.")
@click.option("--dims", default=8, show_default=True, type=int)
@click.option("--noise", default=1.0, show_default=True, type=float, help="Label noise sd.")
@click.option("--drift", "drift_sd", default=0.05, show_default=True, type=float,
              help="Concept random-walk step per time unit.")
@click.option("--train-samples", default=500, show_default=True, type=int)
@click.option("--retrain-cost", default=200.0, show_default=True, type=float,
              help="USD per retrain.")
@click.option("--error-cost", default=1000.0, show_default=True, type=float,
              help="USD per unit of MSE per time unit.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
def staleness_command(series: str | None, dims: int, noise: float, drift_sd: float,
                      train_samples: int, retrain_cost: float, error_cost: float, seed: int,
                      as_json: bool) -> None:
    """Error vs model age on a drifting stream, and the retrain interval that pays."""
    from mlfleet.ops.debug.staleness import (
        DriftingStream,
        expected_mse,
        fit_decay,
        retrain_plan,
        simulate_decay,
    )

    if not 1 <= dims <= 1000 or not dims + 2 <= train_samples <= 100_000:
        raise DebugInputError(f"--dims(={dims}) must be in 1..1000 and --train-samples"
                              f"(={train_samples}) in dims + 2..100000")
    rows: list[dict[str, float]] = []
    if series is not None:
        data = read_columns(Path(series), ["age", "error"])
        fresh, slope = fit_decay(data["age"], data["error"])
    else:
        stream = DriftingStream(dims=dims, noise_sd=noise, drift_sd_per_unit=drift_sd,
                                train_samples=train_samples)
        ages = np.array([0, 1, 5, 10, 30, 100])
        sim = simulate_decay(stream, ages=ages, trials=200, rng=np.random.default_rng(seed))
        rows = [{"age": float(a), "simulated_mse": float(s), "model_mse": float(m)}
                for a, s, m in zip(ages, sim, expected_mse(stream, ages), strict=True)]
        fresh, slope = float(expected_mse(stream, 0)), dims * drift_sd**2
    plan = retrain_plan(fresh_mse=fresh, slope_mse_per_unit=slope,
                        retrain_cost_usd=retrain_cost, error_cost_usd=error_cost)
    if as_json:
        _emit({"fidelity": "model" if series else "simulate", "decay": rows,
               "plan": dataclasses.asdict(plan)})
        return
    for row in rows:
        click.echo(f"age {row['age']:>5g}: MSE simulated {row['simulated_mse']:.4f}, "
                   f"model {row['model_mse']:.4f}")
    click.echo(f"fresh MSE {plan.fresh_mse:.4g}, +{plan.slope_mse_per_unit:.4g} per time unit; "
               f"retrain every {plan.interval_units:.3g} time units "
               f"(${plan.cost_usd_per_unit:,.2f} per time unit)")

"""``mlfleet sim stragglers``: synchronous steps with slow ranks — the step time
(simulated vs closed form) with and without backup workers, how fast three detectors
find the slow rank, and bounded staleness (SSP) on the kernel.

``--json`` prints a strict JSON document; bad input exits 2 with one line; a study
larger than :data:`MAX_RANK_STEPS` rank-steps (or :data:`MAX_SSP_EVENTS` SSP events) is
refused up front.
"""

from __future__ import annotations

import math
from typing import Any

import click
import numpy as np

from mlfleet import units
from mlfleet.errors import InputError
from mlfleet.units import duration_option

MAX_RANK_STEPS = 50_000_000
"""Rank-steps of the synchronous simulation above which a study is refused (~10 s)."""
MAX_SSP_EVENTS = 2_000_000
"""Kernel events of the SSP runs together above which a study is refused (~40 s)."""
BATCHES = 20
"""Batches for the batch-means CI of the mean step time (slow spells correlate steps)."""


def _int_list(option: str, text: str, *, allow_inf: bool = False) -> list[float]:
    out: list[float] = []
    for part in text.split(","):
        part = part.strip()
        if allow_inf and part == "inf":
            out.append(math.inf)
            continue
        if not part.isdigit():
            raise InputError(f"{option}(={text!r}) must be a comma-separated list of integers"
                             f" >= 0{' or inf' if allow_inf else ''}")
        out.append(int(part))
    return out


def _mean_ci(values: np.ndarray) -> dict[str, float]:
    usable = len(values) // BATCHES * BATCHES
    if usable == 0:
        return {"mean": float(np.mean(values)), "ci95": math.nan}
    batch = values[:usable].reshape(BATCHES, -1).mean(axis=1)
    return {"mean": float(np.mean(values)),
            "ci95": 1.96 * float(np.std(batch, ddof=1)) / math.sqrt(BATCHES)}


def _step_times(model: Any, backups: list[float], steps: int,
                rng: np.random.Generator) -> tuple[list[dict[str, Any]], Any, Any]:
    from mlfleet.reliability.sim.stragglers import (
        expected_step_no_slow_s,
        expected_step_s,
        simulate_step_times,
        step_times,
    )

    rows, first = [], None
    for b in backups:
        times, slow = simulate_step_times(model, steps=steps, backups=int(b), rng=rng)
        if first is None:
            first = (times[:, :model.ranks], slow[:, :model.ranks])
        sim = _mean_ci(step_times(times, needed=model.ranks))
        exact = expected_step_s(model, backups=int(b))
        rows.append({"backups": int(b), "simulated_s": sim, "closed_form_s": exact,
                     "ratio": sim["mean"] / exact,
                     "no_slow_ranks_s": expected_step_no_slow_s(
                         base_s=model.base_s, jitter_s=model.jitter_s, ranks=model.ranks,
                         backups=int(b))})
    assert first is not None
    return rows, first[0], first[1]


def run_stragglers(opts: dict[str, Any]) -> dict[str, Any]:
    """The study ``mlfleet sim stragglers`` describes; its JSON document."""
    from mlfleet.reliability.sim.ssp import simulate_ssp
    from mlfleet.reliability.sim.straggler_detection import Detectors, flags, score
    from mlfleet.reliability.sim.stragglers import StepTimeModel

    model = StepTimeModel(ranks=opts["ranks"], base_s=duration_option("--base", opts["base"]),
                          jitter_s=duration_option("--jitter", opts["jitter"]),
                          slow_prob=opts["slow_prob"], factor=opts["factor"],
                          persistence_steps=opts["persistence"])
    backups = _int_list("--backups", opts["backups"])
    staleness = _int_list("--staleness", opts["staleness"], allow_inf=True)
    steps, ssp_steps = opts["steps"], opts["ssp_steps"]
    _check_size(model.ranks, steps, backups, ssp_steps, len(staleness))
    normal_s = model.base_s + model.jitter_s
    det = Detectors(timeout_s=duration_option("--timeout", opts["timeout"]) if opts["timeout"]
                    else 2.0 * normal_s, window=opts["window"], ratio=opts["ratio"],
                    z=opts["z"])
    rng = np.random.default_rng(opts["seed"])
    rows, times, slow = _step_times(model, backups, steps, rng)
    detection = {name: vars(score(f, slow, window=det.window))
                 for name, f in flags(times, det).items()}
    ssp = [_ssp_row(simulate_ssp(model, steps=ssp_steps, staleness=s, seed=opts["seed"]))
           for s in staleness]
    return {"fidelity": "simulate", "model": vars(model), "slow_share": model.slow_share,
            "steps": steps, "seed": opts["seed"], "step_time": rows,
            "detectors": vars(det), "detection": detection, "ssp_steps": ssp_steps,
            "ssp": ssp, "convergence": CONVERGENCE}


def _ssp_row(result: Any) -> dict[str, Any]:
    """One SSP run for the document: its statistics, the delays summarised."""
    row = {k: v for k, v in vars(result).items() if k != "delays"}
    row["mean_delay_updates"] = float(result.delays.mean())
    row["max_delay_updates"] = int(result.delays.max())
    return row


CONVERGENCE = {
    "backup_workers": "cited, not measured: each step still averages N gradients, so "
                      "progress per step is that of N-worker synchronous SGD; Chen et al. "
                      "2016 (Revisiting Distributed Synchronous SGD) report faster "
                      "convergence in time and better test accuracy than asynchronous SGD "
                      "with a few percent backups",
    "bounded_staleness": "cited, not measured: Ho et al. NIPS 2013 prove SSP SGD "
                         "converges (regret O(sqrt(T)), constant growing with the "
                         "staleness and the workers) and measured faster convergence in "
                         "time than BSP and asynchronous training; measured on a toy "
                         "(docs/reliability-goodput.md, stale_sgd.py): staleness costs "
                         "updates only when learning rate x delay is large",
}


def _check_size(ranks: int, steps: int, backups: list[float], ssp_steps: int,
                bounds: int) -> None:
    rank_steps = steps * sum(ranks + b for b in backups)
    if rank_steps > MAX_RANK_STEPS:
        raise InputError(f"--steps(={steps}) x ranks x --backups is {rank_steps:.3g} "
                         f"rank-steps, more than {MAX_RANK_STEPS:.0e}: fewer steps or ranks")
    events = ssp_steps * ranks * bounds
    if events > MAX_SSP_EVENTS:
        raise InputError(f"--ssp-steps(={ssp_steps}) x ranks x --staleness bounds is "
                         f"{events:.3g} events, more than {MAX_SSP_EVENTS:.0e}")


@click.command("stragglers")
@click.option("--ranks", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--base", default="100ms", show_default=True, help="Compute time per step.")
@click.option("--jitter", default="10ms", show_default=True,
              help="Mean exponential jitter per rank-step.")
@click.option("--slow-prob", type=click.FloatRange(0, 1), default=0.001, show_default=True,
              help="Probability per step that a rank turns slow.")
@click.option("--factor", type=click.FloatRange(min=0, min_open=True), default=3.0,
              show_default=True, help="Slow ranks take this many times longer.")
@click.option("--persistence", type=click.FloatRange(min=1), default=50.0, show_default=True,
              help="Mean length of a slow spell, steps.")
@click.option("--steps", type=click.IntRange(min=1), default=20_000, show_default=True)
@click.option("--backups", default="0,2,4", show_default=True,
              help="Backup workers to compare (step ends at the N-th fastest of N+b).")
@click.option("--staleness", default="0,1,4,inf", show_default=True,
              help="SSP staleness bounds to compare (0: BSP; inf: asynchronous).")
@click.option("--ssp-steps", type=click.IntRange(min=1), default=2000, show_default=True)
@click.option("--timeout", help="Timeout detector's deadline [2 x (base + jitter)].")
@click.option("--window", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--ratio", type=click.FloatRange(min=0, min_open=True), default=1.3,
              show_default=True, help="Relative-progress threshold.")
@click.option("--z", type=click.FloatRange(min=0, min_open=True), default=4.0,
              show_default=True, help="Variance (z-score) threshold.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def stragglers_command(as_json: bool, **opts: Any) -> None:
    """Slow ranks in synchronous training: step time, detection, backups, SSP."""
    doc = run_stragglers(opts)
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(doc)
        return
    _print(doc)


def _print(doc: dict[str, Any]) -> None:
    from mlfleet.report.terminal import print_table

    d = units.format_duration
    m = doc["model"]
    print_table(["backups", "simulated step (95% CI)", "closed form", "sim/closed",
                 "without slow ranks"],
                [[r["backups"], f"{d(r['simulated_s']['mean'])} ± {d(r['simulated_s']['ci95'])}",
                  d(r["closed_form_s"]), f"{r['ratio']:.4f}", d(r["no_slow_ranks_s"])]
                 for r in doc["step_time"]],
                title=(f"{m['ranks']} ranks, step {d(m['base_s'])} + Exp({d(m['jitter_s'])}); "
                       f"slow x{m['factor']:g} (share {doc['slow_share']:.2%}, spells of "
                       f"{m['persistence_steps']:g} steps); {doc['steps']:,} steps"))
    print_table(["detector", "caught", "mean delay (steps)", "false / 1000 rank-steps"],
                [[k, f"{v['caught']}/{v['spells']}", f"{v['mean_delay_steps']:.1f}",
                  f"{v['false_per_1000_rank_steps']:.3f}"]
                 for k, v in doc["detection"].items()], title="detecting the slow rank")
    print_table(["staleness", "step (slowest worker)", "updates/s", "mean staleness",
                 "blocked"],
                [[f"{r['staleness']:g}", d(r["wall_s"] / r["steps"]),
                  f"{r['updates_per_s']:.4g}", f"{r['mean_staleness']:.2f}",
                  f"{r['blocked_share']:.1%}"] for r in doc["ssp"]],
                title=f"bounded staleness (SSP), {doc['ssp_steps']:,} steps per worker")
    for name, text in doc["convergence"].items():
        click.echo(f"convergence, {name.replace('_', ' ')}: {text}")

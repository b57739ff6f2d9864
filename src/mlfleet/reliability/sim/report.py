"""The document ``mlfleet sim goodput`` prints: the job, Daly's model and the simulation."""

from __future__ import annotations

import dataclasses
from typing import Any

import click

from mlfleet import units
from mlfleet.reliability.checkpoint_interval import (
    daly_goodput,
    daly_interval_s,
    young_interval_s,
)
from mlfleet.reliability.sim.job import JobSpec
from mlfleet.reliability.sim.optimum import Optimum
from mlfleet.reliability.sim.replications import Estimate, Replications


def _estimate(e: Estimate) -> dict[str, float]:
    return {"mean": e.mean, "ci95": e.ci95}


def _job(spec: JobSpec) -> dict[str, Any]:
    ckpt = spec.checkpoint
    return {"solve_s": spec.solve_s, "nodes": spec.nodes, "mtbf_s": spec.failures.mtbf_s,
            "failure": {"process": type(spec.failures).__name__.lower(),
                        **{k: v for k, v in dataclasses.asdict(spec.failures).items()
                           if k != "mtbf_s"}},
            "interval_s": ckpt.interval_s, "ckpt_cost_s": ckpt.cost_s, "mode": ckpt.mode,
            "snapshot_s": ckpt.snapshot_s, "stall_s": ckpt.stall_s,
            "detect_s": spec.detect_s, "restart_s": spec.restart_s,
            "spares": spec.spares.spares, "repair_s": spec.spares.repair_s,
            "elastic": spec.spares.elastic}


def _model(spec: JobSpec, study: Replications) -> dict[str, Any]:
    ckpt, m = spec.checkpoint, spec.failures.mtbf_s
    stall = ckpt.stall_s
    return {"source": "Daly, FGCS 22(3) 2006, eq. 20 and 37; Young, CACM 17(9) 1974",
            "daly_interval_s": daly_interval_s(ckpt_s=stall, mtbf_s=m) if stall > 0 else None,
            "young_interval_s": young_interval_s(ckpt_s=stall, mtbf_s=m) if stall > 0 else None,
            "wall_s": study.daly.daly_wall_s,
            "goodput": daly_goodput(interval_s=ckpt.interval_s, ckpt_s=stall,
                                    restart_s=spec.recovery_s, mtbf_s=m)}


def goodput_document(spec: JobSpec, study: Replications, *, optimum: Optimum | None,
                     seed: int, wall_clock_s: float) -> dict[str, Any]:
    """The JSON document of one study (SI units)."""
    daly = study.daly
    doc: dict[str, Any] = {
        "fidelity": "simulate", "job": _job(spec), "model": _model(spec, study),
        "simulated": {"runs": study.runs, "seed": seed, "wall_s": _estimate(study.wall_s),
                      "goodput": _estimate(study.goodput),
                      "failures": _estimate(study.failures),
                      "lost_work_s": _estimate(study.lost_work_s),
                      "time_in_state_s": study.time_in_state_s, "events": study.events},
        "comparison": {"wall_ratio": daly.ratio, "wall_ratio_ci95": daly.ratio_ci95,
                       "daly_within_ci": daly.within_ci, "exact_regime": daly.exact_regime,
                       "segments": daly.segments},
        "wall_clock_s": wall_clock_s,
    }
    if optimum is not None:
        doc["optimum"] = {"interval_s": optimum.interval_s, "ci95_low_s": optimum.low_s,
                          "ci95_high_s": optimum.high_s, "grid_s": list(optimum.grid_s),
                          "mean_wall_s": list(optimum.mean_wall_s)}
    return doc


def _d(seconds: float | None) -> str:
    return "n/a" if seconds is None else units.format_duration(seconds)


def print_goodput(doc: dict[str, Any]) -> None:
    """The document as a table and a few lines."""
    from mlfleet.report.terminal import print_table

    job, model, sim, cmp_ = doc["job"], doc["model"], doc["simulated"], doc["comparison"]
    w, g = sim["wall_s"], sim["goodput"]
    rows = [["wall time", f"{_d(w['mean'])} ± {_d(w['ci95'])}", _d(model["wall_s"])],
            ["goodput", f"{g['mean']:.4f} ± {g['ci95']:.2g}", f"{model['goodput']:.4f}"],
            ["failures", f"{sim['failures']['mean']:.1f}", "—"],
            ["lost work", _d(sim["lost_work_s"]["mean"]), "—"]]
    print_table(["", f"simulated ({sim['runs']} seeds, 95% CI)", "Daly (eq. 20)"], rows,
                title=(f"{_d(job['solve_s'])} of work, MTBF {_d(job['mtbf_s'])} "
                       f"({job['failure']['process']}), {job['mode']} checkpoints every "
                       f"{_d(job['interval_s'])} (stall {_d(job['stall_s'])}), restart "
                       f"{_d(job['detect_s'] + job['restart_s'])}"))
    states = ", ".join(f"{k} {_d(v)}" for k, v in sim["time_in_state_s"].items() if v > 0)
    click.echo(f"time per state (mean): {states}")
    regime = "Daly's assumptions hold" if cmp_["exact_regime"] else \
        "outside Daly's assumptions: the model is a reference, not a prediction"
    n = cmp_["segments"]
    if cmp_["exact_regime"] and abs(n - round(n)) > 1e-9:
        regime += f"; the last of {n:.1f} segments is partial (up to ~{1 / n:.1%} apart)"
    click.echo(f"simulated / Daly wall time: {cmp_['wall_ratio']:.4f} ± "
               f"{cmp_['wall_ratio_ci95']:.2g} ({regime})")
    click.echo(f"intervals: Daly {_d(model['daly_interval_s'])}, "
               f"Young {_d(model['young_interval_s'])}")
    if "optimum" in doc:
        o = doc["optimum"]
        click.echo(f"simulated optimum interval: {_d(o['interval_s'])} "
                   f"(95% CI {_d(o['ci95_low_s'])} – {_d(o['ci95_high_s'])})")
    click.echo(f"{sim['events']:,} events in {doc['wall_clock_s']:.2f} s")

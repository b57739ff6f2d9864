"""``mlfleet run train``'s output: the ``--json`` document and the terminal summary."""

from __future__ import annotations

from typing import Any

import click

from mlfleet.reliability.train.job import TrainSpec
from mlfleet.reliability.train.report import TrainReport
from mlfleet.reliability.train.supervisor import SupervisorConfig


def payload(report: TrainReport, spec: TrainSpec, config: SupervisorConfig, *,
            ckpt_dir: str | None) -> dict[str, Any]:
    """The ``--json`` document: the report, the run's parameters, where checkpoints are."""
    return {"fidelity": "run", **report.as_dict(),
            "params": {**spec.as_dict(), "ranks": config.ranks, "elastic": config.elastic,
                       "rescale_lr": config.rescale_lr, "rejoin_after": config.rejoin_after,
                       "hang_timeout_s": config.hang_timeout_s,
                       "max_restarts": config.max_restarts,
                       "injections": [i.text() for i in config.injections]},
            "ckpt_dir": ckpt_dir,
            "model_source": "mlfleet.reliability.checkpoint_interval.daly_goodput "
                            "(Daly, FGCS 2006, eq. 20)"}


def _s(value: float | None) -> str:
    from mlfleet.units import format_duration

    return "n/a" if value is None else format_duration(value)


def render(report: TrainReport, spec: TrainSpec, config: SupervisorConfig, *,
           ckpt_dir: str | None) -> None:
    """Summary table, then one line per failure, straggler and checkpoint problem."""
    from mlfleet.report.terminal import print_table
    from mlfleet.units import format_bytes

    m = report.model
    rows = [
        ["steps (executed)", f"{report.steps} ({report.steps_executed})"],
        ["restarts / lost steps", f"{report.restarts} / {report.lost_steps}"],
        ["world size from step", ", ".join(f"{w}@{s}" for s, w, _ in report.world_sizes)],
        ["checkpoints committed", str(report.checkpoints_committed)],
        ["checkpoint stall (mean)", _s(report.ckpt_stall_s)
         + (" async" if spec.async_ckpt else " sync")],
        ["checkpoint size", "n/a" if report.ckpt_bytes is None else format_bytes(report.ckpt_bytes)],
        ["wall (first start-up)", f"{_s(report.wall_s)} ({_s(report.startup_s)})"],
        ["step cycle", _s(report.step_cycle_s)],
        ["goodput measured", f"{report.goodput:.1%}"],
        ["goodput Daly model", f"{m.predicted_goodput:.1%} ({m.relative_error:+.1%}); "
                               f"MTBF {_s(m.mtbf_s)} {m.mtbf_source}"],
        ["final loss", "n/a" if report.final_loss is None else f"{report.final_loss:.4f}"],
        ["weights sha256", report.sha256 or "n/a"],
    ]
    print_table(["quantity", "value"], rows, title=f"run train: {config.ranks} ranks, gloo, "
                f"checkpoint every {spec.ckpt_every} steps")
    for f in report.failures:
        click.echo(f"failure: {f.message} at step {f.step}; detected in {_s(f.detection_s)}, "
                   f"resumed from step {f.resumed_from_step} ({f.lost_steps} steps lost), "
                   f"recovered in {_s(f.recovery_s)}")
    for line in (*report.injected, *report.skipped_checkpoints, *report.checkpoint_errors):
        click.echo(f"note: {line}")
    for finding in report.stragglers:
        click.echo(f"straggler: {finding.text()}")
    if ckpt_dir is not None:
        click.echo(f"checkpoints kept in {ckpt_dir}")

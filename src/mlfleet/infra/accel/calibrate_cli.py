"""``mlfleet infra calibrate PROBE.json --out calib.json``: fit the kernel model to a probe."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click

from mlfleet.infra.accel.fit import KernelFit
from mlfleet.infra.accel.types import KERNEL_CLASSES, KernelModel

LAUNCH_FIELDS = ("min_kernel_s", "graph_gap_s", "graph_launch_s", "eager_issue_s",
                 "framework_op_s", "sync_s")
CLASS_FIELDS = ("compute_fraction", "memory_fraction", "fixed_s")


@dataclass(frozen=True, kw_only=True)
class ConstantRow:
    """One constant of the kernel model: the prior's value, the fitted one, and whether the
    probe determined it (else the fitted value is the prior's)."""

    name: str
    default: float
    fitted: float
    from_probe: bool


def constant_rows(fit: KernelFit, prior: KernelModel) -> list[ConstantRow]:
    """Every class and launch constant, prior against fitted."""
    names = [(f"{c}.{f}", prior.params(c), fit.model.params(c), f)
             for c in KERNEL_CLASSES for f in CLASS_FIELDS]
    rows = [ConstantRow(name=n, default=getattr(p, f), fitted=getattr(q, f),
                        from_probe=n in fit.fitted) for n, p, q, f in names]
    return rows + [ConstantRow(name=f"launch.{f}", default=getattr(prior.launch, f),
                               fitted=getattr(fit.model.launch, f),
                               from_probe=f"launch.{f}" in fit.fitted) for f in LAUNCH_FIELDS]


def _payload(fit: KernelFit, prior: KernelModel, probe: str, out: str | None) -> dict[str, Any]:
    return {"fidelity": "fit to a run", "probe": probe, "out": out,
            "accelerator": fit.model.accelerator, "precision": fit.model.precision,
            "prior": prior.origin,
            "constants": [vars(r) for r in constant_rows(fit, prior)],
            "residuals": [{**vars(r), "rel_error": r.rel_error} for r in fit.residuals]}


def _show(name: str, value: float) -> str:
    from mlfleet.report.terminal import format_value

    return f"{value:.3f}" if name.endswith("fraction") else format_value("t_s", value)


def _print(fit: KernelFit, prior: KernelModel, probe: str, out: str | None) -> None:
    from mlfleet.report.terminal import format_value, print_table

    m = fit.model
    print_table(["constant", f"default ({prior.origin})", "fitted", "from"],
                [[r.name, _show(r.name, r.default), _show(r.name, r.fitted),
                  "probe" if r.from_probe else "default"] for r in constant_rows(fit, prior)],
                title=f"kernel model of {m.accelerator} {m.precision} fitted to {probe}")
    print_table(["point", "kind", "measured", "predicted", "error"],
                [[r.label, r.kind, format_value("t_s", r.measured_s),
                  format_value("t_s", r.predicted_s), f"{r.rel_error:+.1%}"]
                 for r in fit.residuals],
                title="residual of every probe point (error = predicted/measured - 1)")
    if out is not None:
        click.echo(f"wrote {out}")


@click.command("calibrate")
@click.argument("probe", type=click.Path(dir_okay=False))
@click.option("--out", "-o", type=click.Path(dir_okay=False),
              help="Write the calibration file (mlfleet.calibration/1) here.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def calibrate_command(probe: str, out: str | None, as_json: bool) -> None:
    """Fit the kernel model's constants to PROBE (benchmarks/gpu_probe.py, or
    `mlfleet infra probe --out`) by least squares, print them next to the catalog's
    defaults with the residual of every probe point, and write a calibration file that
    `infra roofline`, `serving step`, `sim serve` and `plan` take with --calibration.
    """
    from mlfleet.infra.accel.calibration import CalibrationError, calibration_dict
    from mlfleet.infra.accel.json_file import write_json_atomic
    from mlfleet.infra.accel.probe import read_probe
    from mlfleet.infra.accel.probe_fit import fit_probe, prior_for

    measured = read_probe(probe)
    prior = prior_for(measured.device)
    fit = fit_probe(measured, prior, source=probe)
    if out is not None:
        write_json_atomic(out, calibration_dict(fit, probe=probe), error=CalibrationError)
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(_payload(fit, prior, probe, out))
    else:
        _print(fit, prior, probe, out)

"""The kernel model's side of ``mlfleet infra roofline``: its terms beside the ideal roofline.

For a ``--gemm`` or a custom ``--flop``/``--bytes`` step on a catalog accelerator, the op is
timed by :func:`mlfleet.infra.accel.op_terms.op_step` on :func:`~mlfleet.infra.accel.defaults.
kernel_model` (or the ``--calibration`` file), issued by ``--engine``. Workload steps are the
step model's (``mlfleet serving step``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from mlfleet.infra import roofline as rl
from mlfleet.infra.accel.types import KernelModel


def kernel_model_for(accelerator: str, precision: str, device: rl.Device,
                     calibration: str | None) -> KernelModel:
    """The kernel model (calibrated when ``calibration`` is given), with the device's peaks
    (so --peak-flops / --mem-bw overrides apply to both predictions)."""
    from mlfleet.infra.accel.calibration import using_calibration
    from mlfleet.infra.accel.defaults import kernel_model

    with using_calibration(calibration):
        model = kernel_model(accelerator, precision)
    if model.origin == "catalog":
        model = dataclasses.replace(model, peak_flops_per_s=device.peak_flops_per_s,
                                    mem_bw_bytes_per_s=device.mem_bw_bytes_per_s)
    return model


def kernel_terms(model: KernelModel, cost: rl.OpCost, *, engine: str,
                 gemm_rows: float | None) -> dict[str, Any]:
    """``kernel_*`` keys for the roofline's one row."""
    from mlfleet.infra.accel.op_terms import op_step, term_row

    label, step = op_step(model, flop=float(cost.flop), mem_bytes=float(cost.mem_bytes),
                          engine=engine, gemm_rows=gemm_rows)
    return term_row(label, step)


def model_summary(model: KernelModel, engine: str) -> dict[str, Any]:
    """What the prediction used: origin, engine, the classes' fractions and launch terms."""
    return {"origin": model.origin, "engine": engine, "accelerator": model.accelerator,
            "precision": model.precision,
            "classes": {c: dataclasses.asdict(p) for c, p in model.classes.items()},
            "launch": dataclasses.asdict(model.launch)}


def print_terms(row: dict[str, Any], ideal: dict[str, Any], *, model: KernelModel,
                engine: str) -> None:
    """Ideal roofline (100 % of peak) vs the kernel model, term by term."""
    from mlfleet.report.terminal import print_table

    names = [("time", "time_s"), ("compute", "compute_s"), ("memory", "memory_s"),
             ("fixed per kernel + gap", "fixed_s"), ("kernel floor", "floor_s"),
             ("device", "device_s"), (f"host ({engine})", "host_s"), ("sync", "sync_s")]
    ideal_terms = {"time_s": ideal["time_s"], "compute_s": ideal["compute_s"],
                   "memory_s": ideal["memory_s"], "device_s": ideal["time_s"]}
    body = [[label, _t(ideal_terms.get(key)), _t(row[f"kernel_{key}"])]
            for label, key in names]
    body.append(["bound", str(ideal["bound"]), str(row["kernel_bound"])])
    gemm = model.params(row["kernel_class"])
    title = (f"kernel model ({model.origin}): {row['kernel_class']} at "
             f"{gemm.compute_fraction:.0%} of peak FLOP/s, {gemm.memory_fraction:.0%} of "
             f"bandwidth, engine {engine}")
    print_table(["term", "ideal roofline", "kernel model"], body, title=title)


def _t(value: Any) -> str:
    from mlfleet.report.terminal import format_value

    if value is None:
        return "-"
    return "0" if value == 0 else format_value("t_s", value)

"""Goodput vs checkpoint interval for the plan's training job, with its interval marked.

The curve is Daly's goodput (FGCS 2006, eq. 20, :func:`mlfleet.reliability.checkpoint_policy.
safe_goodput`) with the plan's own checkpoint stall, failure cost and job MTBF
(:class:`mlfleet.plan.reliability.ReliabilityPlan`), so the marked point is the plan's
interval and goodput: Daly's optimum unless the scenario fixes the interval.
"""

from __future__ import annotations

import numpy as np

from mlfleet.plan.compose import Plan
from mlfleet.reliability.checkpoint_policy import safe_goodput
from mlfleet.report.plots.chart import Axis, Chart, Marker, RefLine, Series

SPAN = 30.0
"""The curve runs from interval / SPAN to interval x SPAN around the plan's interval."""


def chart(plan: Plan) -> Chart | None:
    """The goodput chart; None without a training job."""
    rel = plan.results.reliability
    if rel is None:
        return None
    interval_s = np.logspace(np.log10(rel.interval_s / SPAN), np.log10(rel.interval_s * SPAN), 121)
    goodput = [safe_goodput(interval_s=float(t), ckpt_s=rel.ckpt_write_s,
                            restart_s=rel.failure_cost_s, mtbf_s=rel.mtbf_s) for t in interval_s]
    minutes = rel.interval_s / 60.0
    return Chart(
        plot_id="checkpoint-goodput",
        title=f"Goodput vs checkpoint interval ({rel.gpus:,} GPUs, MTBF "
              f"{rel.mtbf_s / 3600:.3g} h)",
        caption=(f"Checkpointing too often wastes time writing ({rel.ckpt_write_s:.3g} s per "
                 "checkpoint), too rarely redoes lost work after each failure; the plan "
                 f"checkpoints every {minutes:.3g} min ({rel.interval_source}) for "
                 f"{rel.goodput:.1%} goodput."),
        x=Axis(label="checkpoint interval (min)", log=True),
        y=Axis(label="goodput (useful work / wall time)"),
        series=(Series(name="synchronous checkpoints", x=tuple((interval_s / 60.0).tolist()),
                       y=tuple(goodput)),),
        refs=(RefLine(axis="y", value=rel.async_goodput,
                      label=f"asynchronous at its optimum: {rel.async_goodput:.1%}"),),
        markers=(Marker(x=minutes, y=rel.goodput,
                        label=f"plan: {minutes:.3g} min, {rel.goodput:.1%}"),))

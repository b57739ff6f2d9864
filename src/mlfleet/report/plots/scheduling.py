"""Job completion time distributions per scheduling policy on one bundled Pollux workload.

Each policy runs through the cluster-scheduling engine (``mlfleet sim cluster``,
:func:`mlfleet.infra.scheduling.run.run_cluster`) on the Pollux artifact's ``workload-1``
at load 1.0 (160 jobs, 16 nodes x 4 GPUs; Qiao et al., OSDI 2021); the chart is each
policy's empirical CDF of JCT.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mlfleet.infra.scheduling.run import run_cluster
from mlfleet.infra.scheduling.workload import load_workload
from mlfleet.report.plots.chart import Axis, Chart, Series

WORKLOAD = "workload-1"
POLICIES = ("fifo", "sjf", "tiresias", "themis", "gandiva")
"""Policies compared (names of :data:`mlfleet.infra.scheduling.policies.POLICIES`)."""

Progress = Callable[[int, int], None]


def chart(progress: Progress | None = None) -> Chart:
    """Run every policy of :data:`POLICIES` (deterministic: the engine draws no randomness)."""
    workload = load_workload(WORKLOAD)
    series, means = [], {}
    for i, name in enumerate(POLICIES):
        jct_h = np.sort(np.asarray(list(run_cluster(workload, policy=name).result.jct_s()
                                        .values()), dtype=np.float64)) / 3600.0
        means[name] = float(jct_h.mean())
        cdf = np.arange(1, jct_h.size + 1) / jct_h.size
        series.append(Series(name=name, x=tuple(jct_h.tolist()), y=tuple(cdf.tolist()),
                             style="step"))
        if progress is not None:
            progress(i + 1, len(POLICIES))
    best, worst = min(means, key=means.__getitem__), max(means, key=means.__getitem__)
    return Chart(
        plot_id="scheduling-jct",
        title=f"JCT distribution per policy (Pollux {WORKLOAD}, {len(workload.specs)} jobs)",
        caption=(f"A curve further left finishes jobs sooner: {best} has the lowest mean JCT "
                 f"({means[best]:.2g} h), {worst} the highest ({means[worst]:.2g} h)."),
        x=Axis(label="job completion time (h)", log=True),
        y=Axis(label="fraction of jobs finished", lo=0.0, hi=1.0),
        series=tuple(series))

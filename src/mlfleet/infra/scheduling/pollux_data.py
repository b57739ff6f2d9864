"""The bundled Pollux (OSDI'21) simulator artifact: where its files are, and readers.

The data (no code) of the ``simulator/`` folder of the ``osdi21-artifact`` branch of
``petuum/adaptdl`` ships under ``mlfleet/examples/pollux_osdi21/`` (see its README):
workloads at loads 0.5 and 1.0, per-application profiles, the Philly-derived trace and
the published per-job completion times. Qiao et al., "Pollux: Co-adaptive Cluster
Scheduling for Goodput-Optimized Deep Learning", OSDI 2021, Sec. 5.3.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from mlfleet.errors import InputError

DATA_DIR = Path(__file__).resolve().parents[2] / "examples" / "pollux_osdi21"
"""Root of the bundled artifact data."""
WORKLOADS = tuple(f"workload-{i}" for i in range(1, 9))
"""The artifact's 8 workloads (160 jobs each)."""
LOADS = (0.5, 1.0)
"""Relative job loads bundled: 1.0 is ``workloads/``, 0.5 is ``workloads-0.5/``."""
PUBLISHED_POLICIES = ("tiresias", "optimus", "pollux")
"""Policies with published results (``results-jobload/<policy>-<load>/summary.json``)."""
PHILLY = DATA_DIR / "traces" / "philly.csv"
"""The 82,247-job Philly-derived trace the workloads were sampled from."""


class WorkloadNameError(InputError):
    """A bundled workload name that does not exist."""


def read_numeric_csv(path: Path) -> dict[str, npt.NDArray[np.float64]]:
    """Every column of an all-numeric CSV file (a profile or validation table)."""
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], np.array(rows[1:], dtype=np.float64).reshape(-1, len(rows[0]))
    return {name: body[:, i] for i, name in enumerate(header)}


def workload_path(name: str) -> Path:
    """The CSV of bundled workload ``name``: ``workload-3`` (load 1.0) or ``workload-3@0.5``."""
    base, _, load = name.partition("@")
    folder = {"": "workloads", "1.0": "workloads", "1": "workloads",
              "0.5": "workloads-0.5"}.get(load)
    if base not in WORKLOADS or folder is None:
        raise WorkloadNameError(
            f"workload(={name!r}) is not a bundled one; known: workload-1..workload-8, "
            f"optionally @0.5 or @1.0, or philly")
    return DATA_DIR / folder / f"{base}.csv"


@dataclass(frozen=True, kw_only=True)
class PublishedRun:
    """The artifact's published results of one policy at one load."""

    policy: str
    load: float
    avg_jct_s: dict[str, float]
    """Average JCT per workload name (``workload-1``...)."""
    jct_s: dict[str, dict[str, float]]
    """Per workload, each job's completion time (finish - submit, s)."""


def published(policy: str, load: float) -> PublishedRun:
    """The published results of ``policy`` (tiresias, optimus, pollux) at ``load``."""
    if policy not in PUBLISHED_POLICIES or load not in LOADS:
        raise InputError(f"published(policy={policy!r}, load={load!r}): known policies "
                         f"{', '.join(PUBLISHED_POLICIES)} at loads 0.5, 1.0")
    path = DATA_DIR / "results-jobload" / f"{policy}-{load:.1f}" / "summary.json"
    summary = json.loads(path.read_text())
    return PublishedRun(policy=policy, load=load,
                        avg_jct_s={k: float(v) for k, v in summary["avgs"].items()},
                        jct_s={w: {j: float(t) for j, t in jobs.items()}
                               for w, jobs in summary["jcts"].items()})

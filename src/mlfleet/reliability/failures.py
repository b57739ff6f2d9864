"""Cluster failure rate, MTBF and interruptions per day from per-component failure rates.

A synchronous training job stops when any one of its parts fails, so its parts are in
series: the job's failure rate is the sum of its components' rates (each exponential),
``lambda_job = sum_c n_c / MTBF_c`` with ``n_c`` units of component ``c`` (one per GPU or
one per node), and the job's MTBF is ``1 / lambda_job`` (e.g. Kokolis et al., HPCA 2025,
Sec. V: ``MTTF = 1 / (N_nodes r_f)``). The component rates are catalog entries of kind
``failure`` (``catalog/data/failures.yaml``), each with its source.

Everything here is a pure function of explicit arguments, vectorised over cluster sizes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from mlfleet import catalog
from mlfleet.catalog.types import FailureCause
from mlfleet.checks import fraction, positive, positive_array, positive_int

FloatArray = npt.NDArray[np.float64]

HOUR_S = 3600.0
DAY_S = 86400.0
DEFAULT_GPUS_PER_NODE = 8
"""Accelerators per server when the caller names no cluster (an 8-GPU HGX/DGX node)."""
SCALES = (8, 64, 512, 4096, 16384, 131072)
"""The spec's 'Failure Rate Analysis by Scale' sizes, extended to 131,072 GPUs."""
RISK_LEVELS = ((0.05, "Low"), (0.5, "Moderate"), (0.99, "High"), (math.inf, "Very High"))
"""Interruption risk by the chance of at least one interruption in a day: below 5% Low,
below 50% Moderate, below 99% High, else Very High (our thresholds, stated in the docs)."""


@dataclass(frozen=True, kw_only=True)
class CauseRate:
    """One failure cause's rate, per GPU, for a given number of GPUs per node."""

    name: str
    category: str
    rate_per_gpu_s: float
    """Failures per second per GPU (node-scoped causes divided among the node's GPUs)."""
    source: str


def cause_rate(cause: FailureCause, *, gpus_per_node: int = DEFAULT_GPUS_PER_NODE,
               independent: bool = False) -> CauseRate | None:
    """``cause`` as a per-GPU rate; with ``independent`` its independent value (None if none)."""
    positive_int("gpus_per_node", gpus_per_node)
    mtbf_h = cause.independent_unit_mtbf_h if independent else cause.unit_mtbf_h
    if mtbf_h is None:
        return None
    units_per_gpu = 1.0 if cause.scope == "gpu" else 1.0 / gpus_per_node
    source = cause.independent_source if independent else cause.source
    return CauseRate(name=cause.name, category=cause.category,
                     rate_per_gpu_s=units_per_gpu / (mtbf_h * HOUR_S), source=source or "")


def component_rates(*, gpus_per_node: int = DEFAULT_GPUS_PER_NODE) -> tuple[CauseRate, ...]:
    """Every component cause in the catalog (fleet totals excluded), per GPU."""
    causes = (FailureCause.from_name(n) for n in catalog.names("failure"))
    rates = (cause_rate(c, gpus_per_node=gpus_per_node) for c in causes if c.category != "fleet")
    return tuple(r for r in rates if r is not None)


def fleet_rate(name: str, *, gpus_per_node: int = DEFAULT_GPUS_PER_NODE) -> CauseRate:
    """A fleet's all-cause rate (a ``fleet-*`` catalog entry), per GPU."""
    rate = cause_rate(FailureCause.from_name(name), gpus_per_node=gpus_per_node)
    assert rate is not None
    return rate


def total_rate_per_gpu_s(rates: tuple[CauseRate, ...]) -> float:
    """Sum of the causes' per-GPU rates (components in series)."""
    return float(sum(r.rate_per_gpu_s for r in rates))


def cluster_rate_per_s(gpus: npt.ArrayLike, rate_per_gpu_s: float) -> FloatArray:
    """Job-interrupting failures per second of ``gpus`` GPUs (vectorised)."""
    n = positive_array("gpus", gpus)
    positive("rate_per_gpu_s", rate_per_gpu_s)
    return n * rate_per_gpu_s


def mtbf_s(gpus: npt.ArrayLike, rate_per_gpu_s: float) -> FloatArray:
    """Mean time between job interruptions, seconds: ``1 / (gpus * rate)``."""
    return 1.0 / cluster_rate_per_s(gpus, rate_per_gpu_s)


def interruptions_per_day(gpus: npt.ArrayLike, rate_per_gpu_s: float) -> FloatArray:
    """Expected job interruptions per day."""
    return cluster_rate_per_s(gpus, rate_per_gpu_s) * DAY_S


def p_interrupted(gpus: npt.ArrayLike, rate_per_gpu_s: float, *, window_s: float) -> FloatArray:
    """Chance of at least one interruption within ``window_s``: ``1 - exp(-lambda t)``."""
    positive("window_s", window_s)
    return -np.expm1(-cluster_rate_per_s(gpus, rate_per_gpu_s) * window_s)


def risk_label(p_per_day: float) -> str:
    """'Low' ... 'Very High' from the chance of an interruption in a day (see RISK_LEVELS)."""
    fraction("p_per_day", p_per_day)
    return next(label for bound, label in RISK_LEVELS if p_per_day < bound)


def poisson_interval(mean: float, *, level: float = 0.95) -> tuple[int, int]:
    """Central ``level`` interval of a Poisson count with this mean (equal tails)."""
    positive("mean", mean)
    fraction("level", level, open_low=True, open_high=True)
    tail = (1.0 - level) / 2.0
    low, high = stats.poisson.ppf([tail, 1.0 - tail], mean)
    return int(low), int(high)


@dataclass(frozen=True, kw_only=True)
class ScaleRow:
    """One row of the failure-rate-by-scale table."""

    gpus: int
    failures_per_day: float
    mtbf_s: float
    p_interrupt_per_day: float
    risk: str


def scale_table(*, rate_per_gpu_s: float, gpus: tuple[int, ...] = SCALES) -> tuple[ScaleRow, ...]:
    """Failures per day, MTBF and interruption risk at each cluster size."""
    per_day = interruptions_per_day(gpus, rate_per_gpu_s)
    p_day = p_interrupted(gpus, rate_per_gpu_s, window_s=DAY_S)
    return tuple(ScaleRow(gpus=int(n), failures_per_day=float(f), mtbf_s=DAY_S / float(f),
                          p_interrupt_per_day=float(p), risk=risk_label(float(p)))
                 for n, f, p in zip(gpus, per_day, p_day, strict=True))

"""Gradient anomalies: NaN/Inf, loss spikes and gradient-norm outliers per rank and step.

Each series (a rank's loss, a rank's own gradient norm before the allreduce) is judged
value by value against a robust rolling baseline of the ``window`` finite values before
it, in log space (loss and norm are positive and spike multiplicatively)::

    z_t = (ln x_t - median(ln x_{t-w..t-1})) / max(1.4826 · MAD, floor)

A loss spike or a norm outlier is ``z > z_threshold`` (an exploding gradient; a one-step
drop is not judged: with a 20-value window the MAD can be half of σ, and drops alarmed
falsely about once per 15 000 values in the synthetic trials). A median and MAD over the previous window follow the training
curve's trend and are not moved by the spikes they judge (Hampel's filter; Hampel,
"The influence curve and its role in robust estimation", JASA 1974). A non-finite value
is always an anomaly; the rank whose *own* gradient was non-finite is where a NaN began
(after the allreduce every rank holds it). The first ``min_history`` values are not judged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlfleet.checks import positive, positive_int
from mlfleet.ops.debug.log_reader import RankSpans
from mlfleet.ops.debug.robust import median_sigma


@dataclass(frozen=True, kw_only=True)
class GradientConfig:
    """Thresholds of :func:`series_anomalies`."""

    z_threshold: float = 6.0
    window: int = 20
    min_history: int = 8
    log_mad_floor: float = 0.02
    """Smallest MAD in log space (2%): a perfectly flat series must not alarm on noise."""

    def __post_init__(self) -> None:
        positive("z_threshold", self.z_threshold)
        positive_int("window", self.window, minimum=2)
        positive_int("min_history", self.min_history, minimum=2)
        positive("log_mad_floor", self.log_mad_floor)


@dataclass(frozen=True, kw_only=True)
class Anomaly:
    """One anomalous value."""

    rank: int
    step: int
    series: str
    """``loss`` or ``grad_norm``."""
    kind: str
    """``nonfinite`` or ``spike``."""
    value: float
    z: float
    """Robust z-score (NaN for non-finite values)."""


def robust_rolling_z(values: npt.NDArray[np.float64], *, window: int, min_history: int,
                     log_mad_floor: float) -> npt.NDArray[np.float64]:
    """z_t of each value against the finite values before it (NaN where not judged)."""
    logs = np.log(np.where(values > 0, values, np.nan))
    z = np.full(values.shape, np.nan)
    history: list[float] = []
    for t, value in enumerate(logs):
        if len(history) >= min_history and math.isfinite(value):
            median, sigma = median_sigma(np.asarray(history[-window:]))
            z[t] = (value - median) / max(sigma, log_mad_floor)
        if math.isfinite(value):
            history.append(float(value))
    return z


def series_anomalies(values: Sequence[float], *, steps: Sequence[int], rank: int, series: str,
                     config: GradientConfig | None = None) -> list[Anomaly]:
    """Anomalies of one series (see the module docstring)."""
    config = config or GradientConfig()
    x = np.asarray(values, dtype=np.float64)
    z = robust_rolling_z(x, window=config.window, min_history=config.min_history,
                         log_mad_floor=config.log_mad_floor)
    out = []
    for t, (step, value, score) in enumerate(zip(steps, x, z, strict=True)):
        kind = None
        if not math.isfinite(value):
            kind = "nonfinite"
        elif score > config.z_threshold:
            kind = "spike"
        if kind is not None:
            out.append(Anomaly(rank=rank, step=int(step), series=series, kind=kind,
                               value=float(x[t]), z=float(score)))
    return out


def anomalies_from_logs(spans: RankSpans, config: GradientConfig | None = None) -> list[Anomaly]:
    """Every rank's loss (forward spans) and own gradient norm (backward spans) judged."""
    found: list[Anomaly] = []
    for rank in sorted(spans):
        for phase, series in (("forward", "loss"), ("backward", "grad_norm")):
            last = {s.step: getattr(s, series) for s in spans[rank]
                    if s.phase == phase and getattr(s, series) is not None}
            steps = sorted(last)
            found += series_anomalies([last[s] for s in steps], steps=steps, rank=rank,
                                      series=series, config=config)
    return sorted(found, key=lambda a: (a.step, a.rank, a.series))

"""What one training interruption costs: lost work, detection and restart, in GPU-hours and USD.

When a synchronous job of ``gpus`` GPUs is interrupted, every GPU loses the work done since
the last checkpoint, then idles while the failure is detected and the job restarts (new
node, process group, checkpoint load). With exponential failures of mean ``mtbf_s`` and a
checkpoint every ``segment_s`` (work plus the checkpoint write), the work lost is the time
since the segment began given that the failure fell inside it:
``E[t | t < L] = M - L / (exp(L / M) - 1)``, which tends to ``L / 2`` for ``L << M``
(Daly, FGCS 2006, Sec. 3: the same conditional expectation underlies eq. 20).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mlfleet.checks import non_negative, positive, positive_int

HOUR_S = 3600.0


@dataclass(frozen=True, kw_only=True)
class InterruptionCost:
    """The expected cost of one interruption of a whole job."""

    lost_work_s: float
    """Work redone: time since the last checkpoint, expected."""
    detection_s: float
    restart_s: float
    gpus: int

    @property
    def downtime_s(self) -> float:
        """Wall time the job makes no progress: lost work + detection + restart."""
        return self.lost_work_s + self.detection_s + self.restart_s

    @property
    def gpu_hours(self) -> float:
        return self.gpus * self.downtime_s / HOUR_S

    def usd(self, usd_per_gpu_h: float) -> float:
        """Cost at a price per GPU-hour."""
        non_negative("usd_per_gpu_h", usd_per_gpu_h)
        return self.gpu_hours * usd_per_gpu_h


def expected_lost_work_s(*, segment_s: float, mtbf_s: float | None = None) -> float:
    """Expected work lost to one failure in a segment of ``segment_s`` (``L/2`` without MTBF)."""
    positive("segment_s", segment_s)
    if mtbf_s is None:
        return segment_s / 2.0
    positive("mtbf_s", mtbf_s)
    ratio = segment_s / mtbf_s
    if ratio < 1e-6:  # series limit: L/2 - L^2/(12 M), avoids cancellation
        return segment_s / 2.0 - segment_s * ratio / 12.0
    if ratio > 700.0:  # exp overflows; the failure almost surely comes within the first M
        return mtbf_s
    return mtbf_s - segment_s / math.expm1(ratio)


def interruption_cost(*, gpus: int, segment_s: float, detection_s: float, restart_s: float,
                      mtbf_s: float | None = None) -> InterruptionCost:
    """Cost of one interruption of ``gpus`` GPUs checkpointing every ``segment_s``."""
    positive_int("gpus", gpus)
    return InterruptionCost(lost_work_s=expected_lost_work_s(segment_s=segment_s, mtbf_s=mtbf_s),
                            detection_s=non_negative("detection_s", detection_s),
                            restart_s=non_negative("restart_s", restart_s), gpus=gpus)

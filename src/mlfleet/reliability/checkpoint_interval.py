"""Optimal checkpoint intervals and the expected wall time of a job that checkpoints.

Failures arrive as a Poisson process with mean time between failures ``mtbf_s`` (the
whole job's MTBF, not one component's). The job does ``solve_s`` of useful work; every
``interval_s`` of work it writes a checkpoint that takes ``ckpt_s``; after a failure it
restarts (``restart_s``: detection, rescheduling, loading) and redoes the work since the
last checkpoint.

Sources:
* Young, "A first order approximation to the optimum checkpoint interval", CACM 17(9),
  1974: ``tau = sqrt(2 * delta * M)``.
* Daly, "A higher order estimate of the optimum checkpoint interval for restart dumps",
  Future Generation Computer Systems 22(3), 2006, eq. (20) (expected wall time, exact for
  exponential failures when a failure can also strike during a checkpoint or a restart)
  and eq. (37) (the higher-order optimum). Daly's Table/figure points: solve 500 h,
  restart 10 min, checkpoint 5 min; MTBF 24 h / 6 h / 15 min -> 117 / 57 / 9.1 min.
"""

from __future__ import annotations

import math

from mlfleet.checks import non_negative, positive


def young_interval_s(*, ckpt_s: float, mtbf_s: float) -> float:
    """Young's first-order optimum: ``sqrt(2 * ckpt_s * mtbf_s)`` seconds of work."""
    positive("ckpt_s", ckpt_s)
    positive("mtbf_s", mtbf_s)
    return math.sqrt(2.0 * ckpt_s * mtbf_s)


def daly_interval_s(*, ckpt_s: float, mtbf_s: float) -> float:
    """Daly's higher-order optimum (FGCS 2006, eq. 37), seconds of work between checkpoints.

    ``sqrt(2 d M) * (1 + sqrt(d / 2M) / 3 + (d / 2M) / 9) - d`` for ``d < 2M``, else ``M``.
    """
    positive("ckpt_s", ckpt_s)
    positive("mtbf_s", mtbf_s)
    if ckpt_s >= 2.0 * mtbf_s:
        return mtbf_s
    x = ckpt_s / (2.0 * mtbf_s)
    return math.sqrt(2.0 * ckpt_s * mtbf_s) * (1.0 + math.sqrt(x) / 3.0 + x / 9.0) - ckpt_s


def daly_expected_wall_s(*, solve_s: float, interval_s: float, ckpt_s: float,
                         restart_s: float, mtbf_s: float) -> float:
    """Expected wall time of the job (Daly 2006, eq. 20; exponential failures).

    ``T_w = M * exp(R / M) * (exp((tau + d) / M) - 1) * T_s / tau``. Failures may strike
    during work, checkpoint writes and restarts alike; the last segment is treated like
    every other (it also writes a checkpoint), as in Daly's derivation.
    """
    positive("solve_s", solve_s)
    positive("interval_s", interval_s)
    non_negative("ckpt_s", ckpt_s)
    non_negative("restart_s", restart_s)
    positive("mtbf_s", mtbf_s)
    m = mtbf_s
    return m * math.exp(restart_s / m) * math.expm1((interval_s + ckpt_s) / m) * solve_s / interval_s


def daly_goodput(*, interval_s: float, ckpt_s: float, restart_s: float, mtbf_s: float) -> float:
    """Useful work / wall time under Daly's model (independent of the solve time)."""
    wall_per_work = daly_expected_wall_s(solve_s=1.0, interval_s=interval_s, ckpt_s=ckpt_s,
                                         restart_s=restart_s, mtbf_s=mtbf_s)
    return 1.0 / wall_per_work

"""Validation provider of the fault-tolerance chapter (``mlfleet validate``).

Daly's optimum checkpoint interval (FGCS 2006) against the optima he published, and his
expected wall time (eq. 20) and the goodput it implies against the seeded goodput
simulation (:mod:`mlfleet.reliability.sim`) where his assumptions hold. Computed live.
"""

from __future__ import annotations

from functools import partial

from mlfleet.reliability.checkpoint_interval import (
    daly_expected_wall_s,
    daly_goodput,
    daly_interval_s,
)
from mlfleet.reliability.sim.failure_process import Exponential
from mlfleet.reliability.sim.job import JobSpec
from mlfleet.reliability.sim.policies import CheckpointPolicy
from mlfleet.reliability.sim.replications import replicate
from mlfleet.validate.registry import Check, Context

_check = partial(Check, chapter="reliability")
H, MIN = 3600.0, 60.0
CKPT_S, RESTART_S = 5 * MIN, 10 * MIN
DALY_OPTIMA_MIN = ((24 * H, 117.0, 0.5), (6 * H, 57.0, 0.5), (15 * MIN, 9.1, 0.05))
"""(MTBF, Daly's published optimum interval in minutes, half a unit of its last printed
digit): Daly, "A higher order estimate of the optimum checkpoint interval for restart
dumps", FGCS 22(3) 2006 (checkpoint 5 min, restart 10 min)."""
SIM_CASES = ((24 * H, 125 * MIN, 500 * H, 100), (6 * H, 60 * MIN, 500 * H, 100),
             (15 * MIN, 10 * MIN, 100 * H, 40))
"""(MTBF, interval, solve time, runs): whole segments, exponential failures — Daly's
assumptions — from rare to ~5 failures per hour of work."""
SIM_BOUND = 0.02
"""Observed 95 % CI half-widths: 0.2-0.3 % at 100 runs, 1.3 % at 40 runs (15 min MTBF)."""


def optimum_checks() -> list[Check]:
    return [_check(id=f"reliability.daly.optimum.mtbf-{mtbf_s / H:g}h",
                   quantity=f"optimum checkpoint interval at MTBF {mtbf_s / H:g} h (min)",
                   model="reliability.checkpoint_interval.daly_interval_s",
                   reference="Daly 2006 (FGCS 22(3)), published optima",
                   reference_kind="published", reference_value=published,
                   predicted=daly_interval_s(ckpt_s=CKPT_S, mtbf_s=mtbf_s) / MIN,
                   bound=half_digit, absolute=True)
            for mtbf_s, published, half_digit in DALY_OPTIMA_MIN]


def simulation_checks(seed: int) -> list[Check]:
    out = []
    for mtbf_s, interval_s, solve_s, runs in SIM_CASES:
        spec = JobSpec(solve_s=solve_s, failures=Exponential(mtbf_s=mtbf_s),
                       restart_s=RESTART_S,
                       checkpoint=CheckpointPolicy(interval_s=interval_s, cost_s=CKPT_S))
        study = replicate(spec, runs=runs, seed=seed)
        label = f"mtbf-{mtbf_s / H:g}h-interval-{interval_s / MIN:g}min"
        reference = f"seeded goodput simulation, {runs} runs from seed {seed}"
        out.append(_check(
            id=f"reliability.daly.wall.{label}", quantity="expected wall time of the job (s)",
            model="reliability.checkpoint_interval.daly_expected_wall_s (eq. 20)",
            reference=reference, reference_kind="simulation",
            reference_value=study.wall_s.mean,
            predicted=daly_expected_wall_s(solve_s=solve_s, interval_s=interval_s,
                                           ckpt_s=CKPT_S, restart_s=RESTART_S, mtbf_s=mtbf_s),
            bound=SIM_BOUND))
        out.append(_check(
            id=f"reliability.daly.goodput.{label}", quantity="goodput (useful / wall time)",
            model="reliability.checkpoint_interval.daly_goodput", reference=reference,
            reference_kind="simulation", reference_value=study.goodput.mean,
            predicted=daly_goodput(interval_s=interval_s, ckpt_s=CKPT_S, restart_s=RESTART_S,
                                   mtbf_s=mtbf_s), bound=SIM_BOUND))
    return out


def provide(ctx: Context) -> list[Check]:
    return [*optimum_checks(), *simulation_checks(ctx.seed)]

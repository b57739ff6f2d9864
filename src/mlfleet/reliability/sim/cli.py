"""``mlfleet sim goodput``: a weeks-long training job with failures, many seeds, set
against Daly's model.

Defaults are Daly's published case (FGCS 2006): 500 h of work, 5 min checkpoints,
10 min restarts, a 24 h MTBF, the interval at Daly's optimum. ``--optimum`` also
locates the interval that minimises the simulated wall time. ``--json`` prints a
strict JSON document; a progress bar goes to stderr on a terminal (never with
``--json``). Bad input exits 2 with one line; a run that would take more than
:data:`MAX_EVENTS` kernel events is refused up front.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from mlfleet.errors import InputError
from mlfleet.report.progress import progress_bar
from mlfleet.units import duration_option

if TYPE_CHECKING:
    from mlfleet.reliability.sim.job import JobSpec
    from mlfleet.reliability.sim.optimum import Optimum

MAX_EVENTS = 20_000_000
"""Expected kernel events above which a run is refused (about a minute on one core:
1,200 events per ms-scale run were measured at about 0.3 M events/s)."""


def _job_mtbf_s(opts: dict[str, Any], nodes: int) -> float:
    if opts["mtbf"] is not None and opts["node_mtbf"] is not None:
        raise InputError("--mtbf (the job's) and --node-mtbf (one node's) exclude each other")
    if opts["node_mtbf"] is not None:
        return duration_option("--node-mtbf", opts["node_mtbf"]) / nodes
    return duration_option("--mtbf", opts["mtbf"] or "24h")


def _interval_s(text: str, *, ckpt_s: float, mtbf_s: float) -> float:
    from mlfleet.reliability.checkpoint_interval import daly_interval_s, young_interval_s

    if text in ("daly", "young") and ckpt_s <= 0:
        raise InputError(f"--interval {text} needs a checkpoint stall > 0")
    if text == "daly":
        return daly_interval_s(ckpt_s=ckpt_s, mtbf_s=mtbf_s)
    if text == "young":
        return young_interval_s(ckpt_s=ckpt_s, mtbf_s=mtbf_s)
    return duration_option("--interval", text)


def build_spec(opts: dict[str, Any]) -> JobSpec:
    """The :class:`~mlfleet.reliability.sim.job.JobSpec` the options describe."""
    from mlfleet.reliability.sim.failure_process import parse_failure
    from mlfleet.reliability.sim.job import JobSpec
    from mlfleet.reliability.sim.policies import CheckpointPolicy, SparePolicy

    if opts["gpus"] % opts["gpus_per_node"]:
        raise InputError(f"--gpus(={opts['gpus']}) must be a multiple of --gpus-per-node"
                         f"(={opts['gpus_per_node']})")
    nodes = opts["gpus"] // opts["gpus_per_node"]
    mtbf_s = _job_mtbf_s(opts, nodes)
    ckpt_s = duration_option("--ckpt-cost", opts["ckpt_cost"], allow_zero=True)
    snapshot_s = duration_option("--snapshot", opts["snapshot"], allow_zero=True)
    stall_s = ckpt_s if opts["mode"] == "sync" else snapshot_s
    policy = CheckpointPolicy(interval_s=_interval_s(opts["interval"], ckpt_s=stall_s,
                                                     mtbf_s=mtbf_s),
                              cost_s=ckpt_s, mode=opts["mode"], snapshot_s=snapshot_s)
    spares = SparePolicy(spares=opts["spares"], repair_s=duration_option("--repair", opts["repair"]),
                         elastic=opts["elastic"])
    return JobSpec(solve_s=duration_option("--solve", opts["solve"]), checkpoint=policy,
                   failures=parse_failure(opts["failure"], mtbf_s=mtbf_s),
                   detect_s=duration_option("--detect", opts["detect"], allow_zero=True),
                   restart_s=duration_option("--restart", opts["restart"], allow_zero=True),
                   nodes=nodes, spares=spares)


def expected_events(spec: JobSpec, runs: int) -> float:
    """Kernel events a study should take: per run, two per segment and two per failure
    over Daly's expected wall time (inf when that overflows)."""
    from mlfleet.reliability.checkpoint_interval import daly_expected_wall_s

    ckpt = spec.checkpoint
    try:
        wall_s = daly_expected_wall_s(solve_s=spec.solve_s, interval_s=ckpt.interval_s,
                                      ckpt_s=ckpt.stall_s, restart_s=spec.recovery_s,
                                      mtbf_s=spec.failures.mtbf_s)
    except OverflowError:
        return math.inf
    if spec.spares.spares is not None:
        wall_s += spec.spares.repair_s * wall_s / spec.failures.mtbf_s  # waits, at worst
    per_run = 2.0 * spec.solve_s / ckpt.interval_s + 2.0 * wall_s / spec.failures.mtbf_s
    return float(runs * per_run)


def run_goodput(opts: dict[str, Any],
                progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Build, check and run the study ``mlfleet sim goodput`` describes; its document."""
    from mlfleet.reliability.sim.replications import replicate
    from mlfleet.reliability.sim.report import goodput_document

    spec = build_spec(opts)
    runs = opts["seeds"]
    grid = 9 if opts["optimum"] else 0
    events = expected_events(spec, runs * (1 + grid))
    if not events <= MAX_EVENTS:
        raise InputError(f"this study would take about {events:.3g} kernel events (more than "
                         f"{MAX_EVENTS:.0e}): fewer --seeds, a shorter --solve, a longer "
                         "--interval or --mtbf")
    # A run may take many times its expected events (variance, a waiting pool the
    # estimate underrates) but not without bound: a job that never finishes is refused.
    cap = int(min(MAX_EVENTS, max(20.0 * events / (runs * (1 + grid)), 200_000)))
    start = time.perf_counter()
    study = replicate(spec, runs=runs, seed=opts["seed"], max_events=cap, progress=progress)
    optimum = None
    if opts["optimum"]:
        optimum = _optimum(spec, runs, opts["seed"], cap, progress)
    return goodput_document(spec, study, optimum=optimum, seed=opts["seed"],
                            wall_clock_s=time.perf_counter() - start)


def _optimum(spec: JobSpec, runs: int, seed: int, max_events: int,
             progress: Callable[[int, int], None] | None) -> Optimum:
    import numpy as np

    from mlfleet.reliability.checkpoint_interval import daly_interval_s
    from mlfleet.reliability.sim.optimum import locate_optimum

    guess_s = daly_interval_s(ckpt_s=max(spec.checkpoint.stall_s, 1e-9),
                              mtbf_s=spec.failures.mtbf_s)
    grid = np.geomspace(0.7 * guess_s, 1.4 * guess_s, 9)
    return locate_optimum(spec, list(grid), runs=runs, seed=seed, max_events=max_events,
                          progress=progress)


@click.command("goodput")
@click.option("--solve", default="500h", show_default=True,
              help="Useful work at full speed, e.g. 500h or 21d.")
@click.option("--gpus", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--gpus-per-node", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--mtbf", help="The job's mean time between failures [24h].")
@click.option("--node-mtbf", help="One node's MTBF (the job's is this / nodes).")
@click.option("--failure", default="exponential", show_default=True,
              help="exponential | weibull:shape=0.7 | burst:switch_prob=0.1,nodes=8,"
                   "follow_prob=0.3,follow_gap=30min")
@click.option("--interval", default="daly", show_default=True,
              help="Work between checkpoints: daly, young or a duration (e.g. 117min).")
@click.option("--ckpt-cost", default="5min", show_default=True,
              help="Checkpoint write time (sync: the stall; async: the background write).")
@click.option("--mode", type=click.Choice(("sync", "async")), default="sync",
              show_default=True)
@click.option("--snapshot", default="0s", show_default=True,
              help="Async: the in-memory snapshot on the critical path.")
@click.option("--restart", default="10min", show_default=True,
              help="Restart time after detection (reschedule + load).")
@click.option("--detect", default="0s", show_default=True, help="Failure detection time.")
@click.option("--spares", type=click.IntRange(min=0),
              help="Hot spare nodes [unlimited: replaced at once].")
@click.option("--repair", default="24h", show_default=True,
              help="Time until a failed node is back in the spare pool.")
@click.option("--elastic", is_flag=True,
              help="Continue on fewer nodes when no spare is left, grow back later.")
@click.option("--seeds", type=click.IntRange(min=1), default=100, show_default=True,
              help="Runs (seeds seed, seed+1, ...).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--optimum", is_flag=True,
              help="Also locate the interval minimising the simulated wall time.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def goodput_command(as_json: bool, **opts: Any) -> None:
    """Simulate a training job with failures and checkpoints; goodput vs Daly's model."""
    from mlfleet.reliability.sim.report import print_goodput

    with progress_bar(not as_json, "simulating") as bar:
        doc = run_goodput(opts, bar)
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(doc)
    else:
        print_goodput(doc)

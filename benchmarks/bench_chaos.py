"""Chaos on a real fleet vs the simulator's prediction, over several seeds; and HAProxy's
detection of a paused (SIGSTOP) replica vs :func:`~mlfleet.reliability.chaos.prediction.detection_s`.

Part 1 (``--trials``): a 2-replica fleet; SIGSTOP replica 1, poll HAProxy's stats socket
until it reads DOWN; SIGCONT, poll until UP. Prints each time beside the formula and
their ratio.

Part 2 (``--seeds``): ``mlfleet chaos`` with a SIGKILL+restart and a SIGSTOP+SIGCONT
episode per seed; prints per seed the stop episode's time to recover (real, sim, error),
the per-replica replies (real, sim, largest error) and whether the invariant held.

Part 3 (``--part failed``): SIGKILL with HAProxy retries and client retries off, per
seed: the failed requests (real, the simulator's interval over the probe phase and its
seeds, the prediction at the run's observed phase, its error), the detection seen from
the records vs the health-check arithmetic, the time to recover likewise.

Part 3b (``--part failed-many``): the same, six SIGKILLs per run (replicas 0, 1, 2 in
turn, 6 s apart, each restarted 1.5 s after its kill), so one run holds ~100-150 failures
and its own count's noise is ~10 % instead of ~20 %: per run, the sum over episodes of
real failures vs the phase-conditioned prediction.

Part 4 (``--part drain``): a drain (SIGTERM) and restart without client retries: failed
requests (0 expected), when HAProxy last sent to the replica vs the arithmetic.

Part 5 (``--part stop``): the gray failure's time to recover vs the interval over the
probe phase and the phase-conditioned prediction.

Part 6 (``--part slow``): the duty-cycled replica (factor 4): p99 during the episode and
time to recover, real vs the simulator's delay model.

    python benchmarks/bench_chaos.py [--part detect|seeds|failed|failed-many|drain|stop|all]
                                     [--trials 4] [--seeds 3] [--rate 60]
"""

from __future__ import annotations

import argparse
import math
import signal
import statistics
import time

from mlfleet.reliability.chaos.prediction import HealthCheck, detection_s, rejoin_s
from mlfleet.reliability.chaos.recorder import NoRetries
from mlfleet.reliability.chaos.report import chaos_report, relative_error, work_fraction
from mlfleet.reliability.chaos.run import ChaosSpec, run_chaos
from mlfleet.serving.fleet.launcher import Fleet
from mlfleet.serving.fleet.spec import FleetSpec


def _wait_status(fleet: Fleet, index: int, prefix: str) -> float:
    start = time.monotonic()
    while not fleet.stats()[index].status.startswith(prefix):
        time.sleep(0.01)
    return time.monotonic() - start


def detection_trials(trials: int) -> None:
    spec = FleetSpec(replicas=2, check_interval_s=0.5, fall=2, rise=2)
    check = HealthCheck(inter_s=0.5, fall=2, rise=2, timeout_s=spec.connect_timeout_s)
    down, up = [], []
    with Fleet.start(spec) as fleet:
        for k in range(trials):
            time.sleep(0.37 * (k + 1))  # a different probe phase each trial
            fleet.replicas[1].kill(signal.SIGSTOP)
            down.append(_wait_status(fleet, 1, "DOWN"))
            fleet.replicas[1].kill(signal.SIGCONT)
            up.append(_wait_status(fleet, 1, "UP"))
    predicted_down, predicted_up = detection_s("stop", check), rejoin_s(check)
    for d, u in zip(down, up, strict=True):
        print(f"stop->DOWN {d:.3f} s (formula {predicted_down:.3f}, ratio {d / predicted_down:.2f})"
              f"   cont->UP {u:.3f} s (formula {predicted_up:.3f}, ratio {u / predicted_up:.2f})")
    print(f"mean stop->DOWN {statistics.mean(down):.3f} s, cont->UP {statistics.mean(up):.3f} s")


def chaos_seeds(seeds: int, rate_rps: float) -> None:
    for seed in range(1, seeds + 1):
        spec = ChaosSpec(rate_rps=rate_rps, duration_s=24, seed=seed,
                         faults=("kill@4s,restart@8s", "1:stop@13s,cont@17s"))
        rep = chaos_report(run_chaos(spec))
        stop = rep.episodes[1]
        real, sim = stop.real.time_to_recover_s, stop.sim.time_to_recover_s
        load_err = max(relative_error(r, s)
                       for r, s in zip(rep.replica_load, rep.sim_replica_load, strict=True))
        print(f"seed {seed}: stop TTR real {real:.2f} s sim {sim:.2f} s "
              f"(error {relative_error(real, sim):+.0%}); replies real {rep.replica_load} "
              f"sim {rep.sim_replica_load} (largest error {load_err:.0%}); failed real "
              f"{rep.failed_fraction:.3f} sim {rep.sim_failed_fraction:.3f}; "
              f"invariant {'holds' if rep.outcomes.holds else 'BROKEN'}")


FAULTS = {"failed": ("kill@4s",), "drain": ("drain@4s,restart@7s",),
          "stop": ("1:stop@4s,cont@9s",), "slow": ("2:slow@4s,fast@10s",)}


def episode_seeds(part: str, seeds: int, rate_rps: float) -> None:
    errors = []
    for seed in range(1, seeds + 1):
        spec = ChaosSpec(rate_rps=rate_rps, duration_s=14, seed=seed, faults=FAULTS[part],
                         haproxy_retries=0 if part == "failed" else 2, slow_factor=4.0)
        run = run_chaos(spec, gate=NoRetries())
        rep = chaos_report(run)
        e = rep.episodes[0]
        lo, hi = e.sim_detected_range_s
        ttr_lo, ttr_hi = e.sim_ttr_range_s
        err = relative_error(e.failed, e.sim_failed_at_phase) if e.failed else math.nan
        errors.append((e.failed, e.sim_failed_at_phase))
        print(f"{part} seed {seed}: failed real {e.failed} of {rep.outcomes.counts['ok'] + e.failed}"
              f" sim interval [{e.sim_failed_range[0]}, {e.sim_failed_range[1]}] at phase "
              f"{e.sim_failed_at_phase:.1f} (error {err:+.0%}); last sent {e.detected_s:.2f} s "
              f"after the fault, predicted [{lo:.2f}, {hi:.2f}] (phase {e.phase_s}); TTR real "
              f"{e.real.time_to_recover_s:.2f} s, sim [{ttr_lo:.2f}, {ttr_hi:.2f}] at phase "
              f"{e.sim_ttr_at_phase_s:.2f} (expected-phase {e.sim.time_to_recover_s:.2f}); "
              f"p99 during real {e.real.during.p99_s * 1e3:.0f} ms sim "
              f"{e.sim.during.p99_s * 1e3:.0f} ms (error "
              f"{relative_error(e.real.during.p99_s, e.sim.during.p99_s):.0%}); "
              f"work fraction {work_fraction(run):.2f}; "
              f"invariant {'holds' if rep.outcomes.holds else 'BROKEN'}")
    real, sim = sum(r for r, _ in errors), sum(s for _, s in errors)
    if real:
        print(f"{part}: pooled failed real {real} sim at phase {sim:.1f} "
              f"(error {relative_error(real, sim):+.0%})")


MANY_KILLS = tuple(f"{k % 3}:kill@{4 + 6 * k}s,restart@{5.5 + 6 * k}s" for k in range(6))


def failed_many(seeds: int, rate_rps: float) -> None:
    runs = []
    for seed in range(1, seeds + 1):
        spec = ChaosSpec(rate_rps=rate_rps, duration_s=44, seed=seed, faults=MANY_KILLS,
                         haproxy_retries=0)
        rep = chaos_report(run_chaos(spec, gate=NoRetries()))
        real = sum(e.failed for e in rep.episodes)
        sim = sum(e.sim_failed_at_phase for e in rep.episodes)
        lo = sum(e.sim_failed_range[0] for e in rep.episodes)
        hi = sum(e.sim_failed_range[1] for e in rep.episodes)
        runs.append((real, sim))
        per = ", ".join(f"{e.failed}/{e.sim_failed_at_phase:.1f}" for e in rep.episodes)
        print(f"failed-many seed {seed}: failed real {real} sim at phase {sim:.1f} "
              f"(error {relative_error(real, sim):+.0%}; the count's own noise "
              f"±{math.sqrt(real) / max(real, 1):.0%}), sum of intervals [{lo}, {hi}]; "
              f"per episode real/sim {per}; invariant "
              f"{'holds' if rep.outcomes.holds else 'BROKEN'}")
    real, sim = sum(r for r, _ in runs), sum(s for _, s in runs)
    print(f"failed-many: pooled real {real} sim {sim:.1f} (error {relative_error(real, sim):+.0%})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", default="all",
                        choices=["detect", "seeds", "failed", "failed-many", "drain", "stop", "slow",
                                 "all"])
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=60.0)
    args = parser.parse_args()
    if args.part in ("detect", "all"):
        detection_trials(args.trials)
    if args.part in ("seeds", "all"):
        chaos_seeds(args.seeds, args.rate)
    if args.part in ("failed-many", "all"):
        failed_many(args.seeds, args.rate)
    for part in ("failed", "drain", "stop", "slow"):
        if args.part in (part, "all"):
            episode_seeds(part, args.seeds, args.rate)


if __name__ == "__main__":
    main()

"""Chaos on a real fleet vs the simulator's prediction, over several seeds; and HAProxy's
detection of a paused (SIGSTOP) replica vs :func:`~mlfleet.reliability.chaos.prediction.detection_s`.

Part 1 (``--trials``): a 2-replica fleet; SIGSTOP replica 1, poll HAProxy's stats socket
until it reads DOWN; SIGCONT, poll until UP. Prints each time beside the formula and
their ratio.

Part 2 (``--seeds``): ``mlfleet chaos`` with a SIGKILL+restart and a SIGSTOP+SIGCONT
episode per seed; prints per seed the stop episode's time to recover (real, sim, error),
the per-replica replies (real, sim, largest error) and whether the invariant held.

    python benchmarks/bench_chaos.py [--trials 4] [--seeds 3] [--rate 60]
"""

from __future__ import annotations

import argparse
import signal
import statistics
import time

from mlfleet.reliability.chaos.prediction import HealthCheck, detection_s, rejoin_s
from mlfleet.reliability.chaos.report import chaos_report, relative_error
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=60.0)
    args = parser.parse_args()
    detection_trials(args.trials)
    chaos_seeds(args.seeds, args.rate)


if __name__ == "__main__":
    main()

"""The numbers of a chaos run: the invariant, each fault as clients saw it, the
simulator's prediction of the same, per-replica load and the SLO arithmetic."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mlfleet.reliability.chaos.faults import FaultStep
from mlfleet.reliability.chaos.outcomes import Outcomes, outcomes
from mlfleet.reliability.chaos.prediction import HealthCheck, SimRecords, predict
from mlfleet.reliability.chaos.run import ChaosRun
from mlfleet.reliability.chaos.slo import SloReport, slo_report
from mlfleet.reliability.chaos.timeline import (
    BoolArray,
    EpisodeImpact,
    FloatArray,
    Phase,
    Tolerance,
    bad_requests,
    phase,
    replica_load,
    time_to_recover_s,
)
from mlfleet.serving.loadgen import arrival_trace

DEFAULT_RESTART_S = 3.0
"""Restart time the prediction assumes when the run restarted nothing."""


@dataclass(frozen=True, kw_only=True)
class EpisodeComparison:
    """One episode, measured and predicted."""

    real: EpisodeImpact
    sim: EpisodeImpact


@dataclass(frozen=True, kw_only=True)
class ChaosReport:
    """Everything ``mlfleet chaos`` prints."""

    outcomes: Outcomes
    baseline: Phase
    episodes: tuple[EpisodeComparison, ...]
    failed_fraction: float
    """Requests that ended without a reply (shed, timed out, failed) / requests sent."""
    sim_failed_fraction: float
    replica_load: list[int]
    """Successful replies per replica (client side)."""
    sim_replica_load: list[int]
    haproxy_retries: int
    haproxy_redispatches: int
    restart_s: float
    """Measured: restart command until the replica said it was ready (mean)."""
    slo: SloReport


def _impacts(t_s: FloatArray, lat_s: FloatArray, ok: BoolArray, *, baseline: Phase,
             tol: Tolerance, episodes: Sequence[Sequence[FaultStep]],
             end_s: float) -> list[EpisodeImpact]:
    out = []
    bad = bad_requests(lat_s, ok, baseline=baseline, tol=tol)
    baseline_bad = float(bad[t_s < baseline.end_s].mean()) if baseline.requests else 0.0
    starts = [ep[0].at_s for ep in episodes] + [end_s]
    for k, ep in enumerate(episodes):
        fault_s, horizon_s = ep[0].at_s, starts[k + 1]
        undo_s = ep[-1].at_s if len(ep) > 1 else horizon_s
        out.append(EpisodeImpact(
            replica=ep[0].replica, fault=ep[0].action, fault_s=fault_s,
            during=phase(t_s, lat_s, ok, fault_s, undo_s),
            after=phase(t_s, lat_s, ok, undo_s, horizon_s),
            time_to_recover_s=time_to_recover_s(t_s, bad, baseline_bad=baseline_bad, tol=tol,
                                                fault_s=fault_s, horizon_s=horizon_s)))
    return out


def _restart_s(run: ChaosRun) -> float:
    times = [a.done_s - a.applied_s for a in run.applied if a.step.action == "restart"]
    return float(np.mean(times)) if times else DEFAULT_RESTART_S


def _failed(ok: BoolArray, sent: BoolArray) -> float:
    return float(np.sum(sent & ~ok)) / max(1, int(sent.sum()))


def chaos_report(run: ChaosRun, *, tol: Tolerance | None = None,
                 slo_target: float = 0.99) -> ChaosReport:
    """Measure the run, simulate it, and put the two side by side."""
    tol = tol or Tolerance()
    spec, rec = run.spec, run.records
    episodes = spec.episodes()
    first_s = episodes[0][0].at_s if episodes else spec.duration_s
    t, lat, ok = rec.intended_s, rec.latency_s, rec.ok
    base = phase(t, lat, ok, 0.0, first_s)
    real = _impacts(t, lat, ok, baseline=base, tol=tol, episodes=episodes,
                    end_s=spec.duration_s)
    sim = _simulate(run, base_latency_s=lat[(t < first_s) & ok])
    sim_base = phase(sim.intended_s, sim.latency_s, sim.ok, 0.0, first_s)
    predicted = _impacts(sim.intended_s, sim.latency_s, sim.ok, baseline=sim_base, tol=tol,
                         episodes=episodes, end_s=spec.duration_s)
    sent = ~np.isnan(rec.sent_s)
    return ChaosReport(
        outcomes=outcomes(rec, run.servers), baseline=base,
        episodes=tuple(EpisodeComparison(real=r, sim=s)
                       for r, s in zip(real, predicted, strict=True)),
        failed_fraction=_failed(ok, sent),
        sim_failed_fraction=_failed(sim.ok, np.ones(sim.ok.size, dtype=bool)),
        replica_load=replica_load(rec.replica, ok, spec.replicas),
        sim_replica_load=replica_load(sim.replica, sim.ok, spec.replicas),
        haproxy_retries=sum(s.retries for s in run.servers),
        haproxy_redispatches=sum(s.redispatches for s in run.servers),
        restart_s=_restart_s(run),
        slo=slo_report(end_s=rec.end_s[sent], bad=~ok[sent], target=slo_target,
                       run_s=spec.duration_s, recover_s=[r.time_to_recover_s for r in real],
                       retried=int(np.sum(rec.attempts - 1)) + _haproxy_retried(run)))


def _haproxy_retried(run: ChaosRun) -> int:
    return sum(s.retries + s.redispatches for s in run.servers)


def _simulate(run: ChaosRun, *, base_latency_s: FloatArray) -> SimRecords:
    spec = run.spec
    samples = base_latency_s if base_latency_s.size else np.array([0.01])
    check = HealthCheck(inter_s=spec.check_interval_s, fall=spec.fall, rise=spec.rise,
                        timeout_s=spec.fleet_spec().connect_timeout_s)
    arrivals = arrival_trace(spec.load_spec("http://127.0.0.1:1"))
    sim = predict(arrival_s=arrivals, baseline_latency_s=samples, replicas=spec.replicas,
                  balance=spec.balance, steps=spec.steps(), check=check,
                  slow_factor=spec.slow_factor, restart_s=_restart_s(run), seed=spec.seed)
    # HAProxy answers 504 to a request its replica holds past `timeout server`.
    late = sim.latency_s > spec.server_timeout_s
    return dataclasses.replace(sim, ok=sim.ok & ~late,
                               latency_s=np.minimum(sim.latency_s, spec.server_timeout_s))


def relative_error(measured: float, predicted: float) -> float:
    """|predicted − measured| / measured (nan when the measurement is 0 and they differ,
    0 when both are 0)."""
    if measured == predicted:
        return 0.0
    return abs(predicted - measured) / abs(measured) if measured else math.nan

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
from mlfleet.reliability.chaos.prediction import (
    HealthCheck,
    SimRecords,
    detection_range_s,
    predict,
)
from mlfleet.reliability.chaos.probe_phase import (
    expected_gap_s,
    observed_detection_s,
    observed_phase_s,
    step_phases,
)
from mlfleet.reliability.chaos.run import MAX_BATCH, ChaosRun, ChaosSpec
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
SIM_SEEDS = 8
"""Simulations per probe phase: the routing's own spread in the prediction interval."""


@dataclass(frozen=True, kw_only=True)
class EpisodeComparison:
    """One episode, measured and predicted (:mod:`.probe_phase` for the phase)."""

    real: EpisodeImpact
    sim: EpisodeImpact
    """The prediction at the expected probe phase (inter/2), the run's seed."""
    failed: int
    """Real: requests scheduled from the fault to the next episode that failed."""
    sim_failed_range: tuple[int, int]
    """Lowest and highest over probe phases 0 and ``inter`` × :data:`SIM_SEEDS` seeds."""
    sim_failed_at_phase: float
    """Mean over :data:`SIM_SEEDS` seeds at the phase the run had (expected if unseen)."""
    detected_s: float
    """Real: fault to the last request HAProxy sent the replica (nan: not observable)."""
    sim_detected_range_s: tuple[float, float]
    """The detection at probe phases 0 and ``inter``."""
    phase_s: float | None
    """The probe phase the run had, from ``detected_s`` (None: not observed)."""
    sim_ttr_range_s: tuple[float, float]
    """Time to recover: lowest and highest over the same simulations as the failures."""
    sim_ttr_at_phase_s: float
    """Time to recover: mean over the seeds at the run's phase."""


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
    samples = lat[(t < first_s) & ok]
    sim = _simulate(run, base_latency_s=samples)
    predicted = _sim_impacts(run, sim, tol=tol)
    sent = ~np.isnan(rec.sent_s)
    return ChaosReport(
        outcomes=outcomes(rec, run.servers), baseline=base,
        episodes=_comparisons(run, real, predicted, base_latency_s=samples, tol=tol),
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


def _check(spec: ChaosSpec) -> HealthCheck:
    return HealthCheck(inter_s=spec.check_interval_s, fall=spec.fall, rise=spec.rise,
                       timeout_s=spec.fleet_spec().connect_timeout_s)


def _sim_impacts(run: ChaosRun, sim: SimRecords, *, tol: Tolerance) -> list[EpisodeImpact]:
    spec = run.spec
    episodes = spec.episodes()
    first_s = episodes[0][0].at_s if episodes else spec.duration_s
    sim_base = phase(sim.intended_s, sim.latency_s, sim.ok, 0.0, first_s)
    return _impacts(sim.intended_s, sim.latency_s, sim.ok, baseline=sim_base, tol=tol,
                    episodes=episodes, end_s=spec.duration_s)


def _failed_count(impact: EpisodeImpact) -> int:
    return round(impact.during.failed_fraction * impact.during.requests
                 + impact.after.failed_fraction * impact.after.requests)


def _comparisons(run: ChaosRun, real: Sequence[EpisodeImpact],
                 predicted: Sequence[EpisodeImpact], *, base_latency_s: FloatArray,
                 tol: Tolerance) -> tuple[EpisodeComparison, ...]:
    """Each episode beside its prediction, its interval over the probe phase and seeds,
    and the prediction at the phase the run had (:mod:`.probe_phase`)."""
    spec, check, redispatch = run.spec, _check(run.spec), run.spec.haproxy_retries > 0
    episodes, steps = spec.episodes(), spec.steps()
    detected = [observed_detection_s(run.records, ep, end_s=spec.duration_s) for ep in episodes]
    gaps = [expected_gap_s(run.records, ep, end_s=spec.duration_s) for ep in episodes]
    phases = [observed_phase_s(d + g, ep[0].action, check, redispatch=redispatch)
              for d, g, ep in zip(detected, gaps, episodes, strict=True)]

    def sims(per_episode: Sequence[float | None]) -> list[list[EpisodeImpact]]:
        laid = step_phases(steps, episodes, per_episode)
        return [_sim_impacts(run, _simulate(run, base_latency_s=base_latency_s, phases_s=laid,
                                            seed=spec.seed + k), tol=tol)
                for k in range(SIM_SEEDS)]

    spread = [*sims([0.0] * len(episodes)), *sims([check.inter_s] * len(episodes))]
    at_phase = sims(phases)
    out = []
    for k, (r, p) in enumerate(zip(real, predicted, strict=True)):
        fails = [_failed_count(s[k]) for s in spread]
        ttrs = [s[k].time_to_recover_s for s in spread]
        out.append(EpisodeComparison(
            real=r, sim=p, failed=_failed_count(r), sim_failed_range=(min(fails), max(fails)),
            sim_failed_at_phase=float(np.mean([_failed_count(s[k]) for s in at_phase])),
            detected_s=detected[k], phase_s=phases[k],
            sim_detected_range_s=detection_range_s(episodes[k][0].action, check,
                                                   redispatch=redispatch),
            sim_ttr_range_s=(min(ttrs), max(ttrs)),
            sim_ttr_at_phase_s=float(np.mean([s[k].time_to_recover_s for s in at_phase]))))
    return tuple(out)


def work_fraction(run: ChaosRun) -> float:
    """Share of a baseline request's latency spent inside its replica (``Server-Timing``
    ``app`` over the client's latency, means over the successes before the first fault);
    1 when the replies carried no timing."""
    rec, spec = run.records, run.spec
    episodes = spec.episodes()
    first_s = episodes[0][0].at_s if episodes else spec.duration_s
    base = rec.ok & (rec.intended_s < first_s) & ~np.isnan(rec.server_s)
    if not base.any():
        return 1.0
    return float(np.clip(rec.server_s[base].mean() / rec.latency_s[base].mean(), 0.0, 1.0))


def _simulate(run: ChaosRun, *, base_latency_s: FloatArray,
              phases_s: Sequence[float | None] = (), seed: int | None = None) -> SimRecords:
    spec = run.spec
    samples = base_latency_s if base_latency_s.size else np.array([0.01])
    arrivals = arrival_trace(spec.load_spec("http://127.0.0.1:1"))
    sim = predict(arrival_s=arrivals, baseline_latency_s=samples, replicas=spec.replicas,
                  balance=spec.balance, steps=spec.steps(), check=_check(spec),
                  slow_factor=spec.slow_factor, restart_s=_restart_s(run),
                  seed=spec.seed if seed is None else seed,
                  redispatch=spec.haproxy_retries > 0, phases_s=phases_s,
                  batch_slots=MAX_BATCH, work_fraction=work_fraction(run))
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

"""The terminal rendering of a chaos report."""

from __future__ import annotations

import math

from mlfleet.reliability.chaos.report import ChaosReport, EpisodeComparison
from mlfleet.reliability.chaos.run import ChaosSpec
from mlfleet.reliability.chaos.slo import SloReport


def _ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1e3:.0f} ms"


def _pct(x: float) -> str:
    return f"{x * 100:.2f}%"


def _episode_line(e: EpisodeComparison) -> str:
    r, s = e.real, e.sim
    return (f"  r{r.replica} {r.fault}@{r.fault_s:g}s: failed {_pct(r.during.failed_fraction)}"
            f" (sim {_pct(s.during.failed_fraction)}); p99 during {_ms(r.during.p99_s)}"
            f" (sim {_ms(s.during.p99_s)}), after {_ms(r.after.p99_s)}"
            f" (sim {_ms(s.after.p99_s)}); time to recover {r.time_to_recover_s:.2f} s"
            f" (sim {s.time_to_recover_s:.2f} s, over the probe phase "
            f"{_range(e.sim_ttr_range_s, '.2f')} s, at this run's phase "
            f"{e.sim_ttr_at_phase_s:.2f} s)\n"
            f"    failed {e.failed} (sim {_range(e.sim_failed_range, 'd')}, at this run's phase "
            f"{e.sim_failed_at_phase:.1f}); HAProxy last sent to it {_s(e.detected_s)} after the "
            f"fault (predicted {_range(e.sim_detected_range_s, '.2f')} s)")


def _range(bounds: tuple[float, float], fmt: str) -> str:
    return f"[{bounds[0]:{fmt}}, {bounds[1]:{fmt}}]"


def _s(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds:.2f} s"


def _slo_lines(slo: SloReport) -> list[str]:
    page = "never" if slo.first_page_s is None else f"at {slo.first_page_s:.1f} s"
    return [
        f"SLO {slo.target:.4g}: availability {_pct(slo.availability)} ({slo.nines:.2f} nines), "
        f"error budget {slo.error_budget_requests:.1f} requests, spent "
        f"{_pct(slo.budget_spent)}, burn rate {slo.burn_rate:.2f}",
        f"  burn-rate pages (workbook windows x {slo.time_scale:.3g}): first {page}, "
        f"firing {slo.paging_s:.1f} s",
        f"  MTTR {slo.mttr_s:.2f} s, RTO observed {slo.rto_observed_s:.2f} s, RPO 0 s for model "
        f"state; {slo.requests_retried} attempts retried (work lost with a replica is redone)",
    ]


def format_report(spec: ChaosSpec, rep: ChaosReport) -> str:
    """Lines for the terminal."""
    o = rep.outcomes
    verdict = "holds" if o.holds else "BROKEN: " + "; ".join(o.violations())
    lines = [
        f"chaos: {spec.replicas} replicas behind HAProxy ({spec.balance}), "
        f"{spec.rate_rps:g} req/s for {spec.duration_s:g} s, seed {spec.seed}",
        "requests: " + ", ".join(f"{k} {v}" for k, v in o.counts.items())
        + f" (ok after a client retry: {o.retried_ok})",
        f"invariant: {verdict} (replicas' 2xx {o.server_2xx}, client {o.client_2xx})",
        f"failed fraction {_pct(rep.failed_fraction)} (sim {_pct(rep.sim_failed_fraction)}); "
        f"baseline p99 {_ms(rep.baseline.p99_s)}; HAProxy retries {rep.haproxy_retries}, "
        f"redispatches {rep.haproxy_redispatches}",
        "faults (real, with the simulator's prediction):",
        *(_episode_line(e) for e in rep.episodes),
        f"per-replica replies: {rep.replica_load} (sim {rep.sim_replica_load}); "
        f"restart took {rep.restart_s:.2f} s",
        *_slo_lines(rep.slo),
    ]
    return "\n".join(lines)

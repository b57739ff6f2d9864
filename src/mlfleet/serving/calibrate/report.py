"""The experiment's result as text: calibration, comparison table, overload check."""
from __future__ import annotations

from mlfleet.serving.calibrate.spec import ExperimentResult, LoadCalibration, LoadComparison

MS = 1e3


def _calibration_lines(cal: LoadCalibration) -> list[str]:
    k = cal.slowdown
    lines = [f"slowdown under load k(rate) = {k.intercept:.3f} {k.per_rps * 1e3:+.3f}e-3/(req/s),"
             f" drift between runs (sd) {k.drift_sd:.3f}"]
    for r in cal.runs:
        lines.append(
            f"  calibration run {r.fraction:.0%} ({r.rate_rps:.1f} req/s, {r.requests}): "
            f"speed {r.speed:.3f} ± {r.speed_se:.3f}, batch {r.mean_batch:.2f}, overhead "
            f"p50/p99 {r.overhead_p50_s * MS:.2f}/{r.overhead_p99_s * MS:.2f} ms, per response "
            f"{r.per_response_s * MS:.2f} ms, other CPU {r.others_cores:.2f} cores "
            f"({r.attempts} run{'s' if r.attempts > 1 else ''})")
    return lines


def _comparison_row(c: LoadComparison) -> str:
    e50, e99 = c.errors("per_run")
    lo, hi = c.real_p99_ci_s
    row = (f"{c.load_fraction:>4.0%}{'*' if c.attempt > 1 else ' '}"
           f"{c.rate_rps:6.1f} {c.real.requests:5d} "
           f"| {c.real.e2e.p50_s * MS:7.2f} {c.real.e2e.p99_s * MS:7.2f} "
           f"| {lo * MS:6.1f}-{hi * MS:6.1f} "
           f"| {c.per_run.p50_s * MS:7.2f} ({e50:+6.1%}) {c.per_run.p99_s * MS:7.2f} ({e99:+6.1%}) "
           f"| {c.real_mean_batch:5.2f}/{c.per_run.mean_batch:5.2f} "
           f"| {c.real_speed:.3f} | {c.others_cores:5.2f}")
    p = c.predictive
    if p is not None:
        hit = c.covered() or (False, False)
        row += (f" | p50 {p.p50_low_s * MS:6.1f}-{p.p50_high_s * MS:6.1f} {'in ' if hit[0] else 'OUT'}"
                f" p99 {p.p99_low_s * MS:6.1f}-{p.p99_high_s * MS:6.1f} {'in ' if hit[1] else 'OUT'}"
                f" (speed {p.speed.low:.3f}-{p.speed.high:.3f})")
    return row


def format_result(result: ExperimentResult) -> str:
    """The calibration, the comparison table and the overload check, as text."""
    svc = result.service
    lines = [f"capacity {result.capacity_rps:.1f} req/s measured, "
             f"{result.model_capacity_rps:.1f} req/s from the service model "
             f"(a={svc.intercept_s * MS:.2f} ms, b={svc.per_request_s * MS:.2f} ms/request; "
             f"sweep: other CPU {result.sweep_others_cores:.2f} cores)"]
    if result.calibration is not None:
        lines += _calibration_lines(result.calibration)
    lines.append("load   rate  n     | real p50   p99    | real p99 95% CI | trace-driven p50 "
                 "(err)  p99 (err)     | batch real/sim | speed | other CPU"
                 + (" | predictive 95% intervals" if result.calibration is not None else ""))
    lines += [_comparison_row(c) for c in result.comparisons]
    if any(c.attempt > 1 for c in result.comparisons):
        lines.append("* a repeated measurement of the load point above it")
    if result.overload is not None:
        o = result.overload
        real_shed = o.report.rejected / max(o.report.requests, 1)
        lines.append(
            f"overload {o.factor:g}x ({o.rate_rps:.0f} req/s): status {o.report.status_counts}, "
            f"admitted queue+service max {o.admitted_max_wait_s * MS:.1f} ms "
            f"(p99 {o.admitted_p99_wait_s * MS:.1f}) vs bound {o.wait_bound_s * MS:.1f} ms; "
            f"client admitted p99 {o.client_admitted_p99_s * MS:.1f} ms (client lag p99 "
            f"{o.report.client_lag_p99_s * MS:.1f}); all admitted completed: "
            f"{o.all_admitted_completed}, 429 with Retry-After: {o.every_429_has_retry_after}, "
            f"alive: {o.alive_after} -> {'holds' if o.holds else 'FAILS'}")
        lines.append(f"  simulated (trace-driven): shed {o.sim.shed_fraction:.1%} "
                     f"(real {real_shed:.1%}), admitted p99 {o.sim.p99_s * MS:.1f} ms "
                     f"(real {o.client_admitted_p99_s * MS:.1f} ms)")
    return "\n".join(lines)

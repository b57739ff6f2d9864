"""``mlfleet sim autoscale``: HPA vs predictive vs a fixed fleet over a diurnal day.

Runs :func:`mlfleet.infra.autoscale.simulate.compare` and prints, per policy, the
peak replicas, pod-hours, cost, SLO violations and p99, then a per-window table; with
``--json`` a strict JSON document instead. A progress bar goes to stderr on a
terminal. Bad input exits 2 with one line.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

import click

from mlfleet import units
from mlfleet.errors import InputError
from mlfleet.report.progress import progress_bar
from mlfleet.units import duration_option

if TYPE_CHECKING:
    from mlfleet.infra.autoscale.simulate import AutoscaleSpec, PolicyRun

MAX_REQUESTS = 20_000_000
"""Expected requests (all policies together) above which a run is refused: the engine
keeps every request (about 500 bytes each, docs/serving-simulator.md)."""
DEFAULT_ACCELERATOR = "H100-SXM"


def _price(accelerator: str, price: float | None) -> float:
    if price is not None:
        if not (math.isfinite(price) and price >= 0):
            raise InputError(f"--price-per-hour(={price:g}) must be a finite number >= 0")
        return price
    from mlfleet.catalog.types import Accelerator

    low_high = Accelerator.from_name(accelerator).cloud_usd_per_h
    if low_high is None:
        raise InputError(f"--accelerator {accelerator!r} has no cloud price in the catalog; "
                         "give --price-per-hour")
    return sum(low_high) / 2.0


def build_spec(opts: dict[str, Any]) -> AutoscaleSpec:
    """The :class:`AutoscaleSpec` the options describe (InputError naming the option)."""
    from mlfleet.infra.autoscale.diurnal import DiurnalLoad
    from mlfleet.infra.autoscale.simulate import AutoscaleSpec

    if not 0 < opts["target_util"] <= 1:
        raise InputError(f"--target-util(={opts['target_util']:g}) must be in (0, 1]")
    if opts["min_replicas"] > opts["max_replicas"]:
        raise InputError(f"--min-replicas(={opts['min_replicas']}) must be <= "
                         f"--max-replicas(={opts['max_replicas']})")
    if not opts["hours"] > 0:
        raise InputError(f"--hours(={opts['hours']:g}) must be > 0")
    if not 0 <= opts["amplitude"] < 1:
        raise InputError(f"--amplitude(={opts['amplitude']:g}) must be in [0, 1)")
    if not opts["rate"] > 0:
        raise InputError(f"--rate(={opts['rate']:g}) must be > 0 requests per second")
    if not 0 <= opts["noise"] <= 3:
        raise InputError(f"--noise(={opts['noise']:g}) must be in [0, 3]")
    period_s = duration_option("--period", opts["period"])
    if period_s < 600:
        raise InputError(f"--period(={opts['period']!r}) must be at least 10min")
    if duration_option("--window", opts["window"]) < 60:
        raise InputError(f"--window(={opts['window']!r}) must be at least 1min")
    load = DiurnalLoad(mean_rate_per_s=opts["rate"], amplitude=opts["amplitude"],
                       period_s=period_s, peak_at_s=period_s * 14 / 24,
                       noise_sigma=opts["noise"], bin_s=min(300.0, period_s / 24))
    return AutoscaleSpec(
        load=load, duration_s=opts["hours"] * 3600.0,
        service_s=duration_option("--service-time", opts["service_time"]), servers=opts["servers"],
        slo_s=duration_option("--slo", opts["slo"]), target_utilization=opts["target_util"],
        min_replicas=opts["min_replicas"], max_replicas=opts["max_replicas"],
        cold_start_s=duration_option("--cold-start", opts["cold_start"], allow_zero=True),
        lead_s=duration_option("--lead", opts["lead"], allow_zero=True),
        usd_per_replica_h=_price(opts["accelerator"], opts["price_per_hour"]),
        window_s=duration_option("--window", opts["window"]))


@click.command("autoscale")
@click.option("--policy", type=click.Choice(["all", "hpa", "predictive", "fixed"]),
              default="all", show_default=True, help="Which policy (all: side by side).")
@click.option("--target-util", type=float, default=0.6, show_default=True,
              help="HPA/predictive target utilisation of a replica, in (0, 1].")
@click.option("--slo", default="2s", show_default=True, help="Response-time SLO (p99).")
@click.option("--hours", type=float, default=24.0, show_default=True, help="Simulated time.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--rate", type=float, default=20.0, show_default=True,
              help="Mean arrival rate over the day, requests per second.")
@click.option("--amplitude", type=float, default=0.8, show_default=True,
              help="Diurnal swing: peak = rate·(1 + A), trough = rate·(1 - A).")
@click.option("--noise", type=float, default=0.1, show_default=True,
              help="σ of the log-normal noise of each 5-minute bin.")
@click.option("--period", default="24h", show_default=True, help="Length of a 'day'.")
@click.option("--service-time", default="100ms", show_default=True,
              help="Mean service demand of a request (exponential).")
@click.option("--servers", type=click.IntRange(1, 1024), default=1, show_default=True,
              help="Requests a replica serves at once.")
@click.option("--min-replicas", type=click.IntRange(1, 10_000), default=1, show_default=True)
@click.option("--max-replicas", type=click.IntRange(1, 10_000), default=200, show_default=True)
@click.option("--cold-start", default="2min", show_default=True,
              help="From asking for a replica to its serving.")
@click.option("--lead", default="10min", show_default=True,
              help="Predictive: how far ahead the plan provisions.")
@click.option("--accelerator", "-a", default=DEFAULT_ACCELERATOR, show_default=True,
              help="Catalog accelerator whose cloud price (mid-range) a replica-hour costs.")
@click.option("--price-per-hour", type=float, default=None, help="Override: USD per replica-hour.")
@click.option("--window", default="1h", show_default=True, help="Report window.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def autoscale_command(**opts: Any) -> None:
    """Replicas over a diurnal day: Kubernetes HPA vs predictive vs fixed-at-peak.

    \b
    mlfleet sim autoscale
    mlfleet sim autoscale --policy hpa --target-util 0.6 --slo 2s --hours 24 --seed 0
    mlfleet sim autoscale --period 1h --hours 2 --cold-start 5min --amplitude 0.9 --noise 0
    """
    from mlfleet.infra.autoscale.simulate import POLICIES, compare

    spec = build_spec(opts)
    policies = POLICIES if opts["policy"] == "all" else (opts["policy"],)
    expected = spec.load.mean_rate_per_s * spec.duration_s * len(policies)
    if expected < 100 * len(policies):
        raise InputError(f"--rate x --hours = {expected / len(policies):.3g} requests: "
                         "give at least 100")
    if expected > MAX_REQUESTS:
        raise InputError(f"--rate x --hours x policies = {expected:.3g} requests is over "
                         f"{MAX_REQUESTS:.0e} (memory); lower --rate or --hours")
    with progress_bar(not opts["as_json"], "autoscale") as bar:
        runs = compare(spec, seed=opts["seed"], policies=policies, progress=bar)
    if opts["as_json"]:
        from mlfleet.cli import emit_json

        emit_json({"fidelity": "simulate", "spec": _spec_dict(spec),
                   "policies": [_run_dict(r) for r in runs]},
                  null_reasons={"p99_s": "fewer than 100 requests in the window",
                                "violation_fraction": "no request in the window"})
        return
    _print(spec, runs)


def _spec_dict(spec: AutoscaleSpec) -> dict[str, Any]:
    return {**dataclasses.asdict(spec), "capacity_per_s": spec.capacity_per_s}


def _run_dict(run: PolicyRun) -> dict[str, Any]:
    out = dataclasses.asdict(run)
    out["timeline"] = [{"t_s": t, "replicas": n} for t, n in run.timeline]
    return out


def _print(spec: AutoscaleSpec, runs: list[PolicyRun]) -> None:
    from mlfleet.report.terminal import print_table

    print_table(["policy", "peak replicas", "replica-hours", "cost", "over SLO", "p99",
                 "VPA target (busy servers/pod)"],
                [[r.policy, r.peak_replicas, f"{r.replica_hours:,.1f}", f"${r.cost_usd:,.0f}",
                  f"{r.violation_fraction:.3%}", units.format_duration(r.p99_s),
                  "n/a" if r.vpa is None else f"{r.vpa.target:.2f}"] for r in runs],
                title=f"autoscaling (simulate): {spec.load.mean_rate_per_s:g} req/s mean, "
                      f"SLO p99 {units.format_duration(spec.slo_s)}, "
                      f"${spec.usd_per_replica_h:.2f}/replica-hour")
    headers = ["from"] + [f"{r.policy} replicas / over SLO" for r in runs]
    body = []
    for i, row in enumerate(runs[0].rows):
        cells = [f"{row.start_s / 3600:g} h"]
        for run in runs:
            w = run.rows[i]
            viol = "n/a" if w.violation_fraction is None else f"{w.violation_fraction:.2%}"
            cells.append(f"{w.mean_replicas:.1f} / {viol}")
        body.append(cells)
    print_table(headers, body, title="per window (time-mean replicas billed / fraction of "
                                     "requests over the SLO)")

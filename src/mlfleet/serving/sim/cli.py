"""``mlfleet sim``: the serving simulator from the command line.

* ``mlfleet sim serve [SCENARIO]`` — requests through a fleet of replicas (batching,
  load balancing), with TTFT / TPOT / end-to-end percentiles, throughput, goodput
  within the SLO and utilisation. Traffic comes from the scenario's ``serving``
  section when one is given; options override it.
* ``mlfleet sim mmc`` — M/M/c through the engine next to Erlang C, with 95 %
  confidence intervals.

``sim serve`` exits 3 when an SLO it was given is not met at p99, and warns on stderr
when the offered load is above what the fleet serves. ``--json`` prints a stable JSON
document. A progress bar goes to stderr for long runs
when stderr is a terminal (never with ``--json``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import click
import numpy as np

from mlfleet import units
from mlfleet.errors import ConstraintViolation, InputError
from mlfleet.report.progress import progress_bar

SERVE_DEFAULTS: dict[str, Any] = {"workload": "Llama-3-8B", "accelerator": "A100-80GB",
                                  "qps": 4.0, "prompt_tokens": 1000, "output_tokens": 130,
                                  "precision": "bf16"}
"""Traffic when neither a scenario nor an option says otherwise (a Vidur-like setup)."""
SERVE_BYTES_PER_REQUEST = 600
"""Peak memory per simulated request of ``sim serve``: 460 bytes per extra request from
2·10⁴ to 2·10⁵ requests (Llama-3-8B, paged, 4 req/s; ``/usr/bin/time`` peak RSS) and
515 at 10⁹ req/s offered; rounded up."""
OVERLOAD_GROWTH = 2.0
"""Late-over-early median latency (:meth:`SimResult.latency_growth`) above which a fleet
serving less than it is offered is overloaded: a stable queue's latency does not grow
with the run, so a short run's drain time alone (throughput below the offered rate)
is not taken for overload."""


# --------------------------------------------------------------------------- progress



def _quantity(text: str | None, target: str, option: str) -> float | None:
    if text is None:
        return None
    value = units.parse_quantity(text, target)
    if value <= 0:
        raise InputError(f"{option}(={text!r}) must be > 0")
    return value


def _traffic(scenario: str | None, opts: dict[str, Any]) -> dict[str, Any]:
    """Defaults < scenario < options, for workload, accelerator, rate, sizes and SLOs."""
    merged = dict(SERVE_DEFAULTS)
    if scenario is not None:
        from mlfleet.scenario import load_scenario

        sc = load_scenario(scenario)
        if sc.serving is None:
            raise InputError(f"scenario {scenario!r} has no serving section to simulate")
        sv = sc.serving
        merged.update(workload=sc.workload, accelerator=sc.cluster.accelerator, qps=sv.qps,
                      precision=sv.precision, items_per_request=sv.items_per_request)
        merged.update({k: getattr(sv, k) for k in ("prompt_tokens", "output_tokens")
                       if getattr(sv, k) is not None})
        if sv.slo is not None:
            merged.update(slo_e2e_s=sv.slo.p99_s, slo_ttft_s=sv.slo.ttft_p99_s,
                          slo_tpot_s=sv.slo.tpot_p99_s)
    for key in ("workload", "accelerator", "precision", "prompt_tokens", "output_tokens"):
        if opts.get(key) is not None:
            merged[key] = opts[key]
    if opts.get("qps") is not None:
        merged["qps"] = _quantity(opts["qps"], "per_s", "--qps")
    for key in ("slo_e2e", "slo_ttft", "slo_tpot"):
        value = _quantity(opts.get(key), "s", "--" + key.replace("_", "-"))
        if value is not None:
            merged[key + "_s"] = value
    return merged


def _stream(traffic: dict[str, Any], opts: dict[str, Any], llm: bool,
            rng: np.random.Generator) -> Any:
    from mlfleet.serving.sim import arrivals as arr

    if opts["trace"] is not None:
        return arr.read_trace(opts["trace"], limit=opts["requests"])
    rate = float(traffic["qps"])
    process: arr.ArrivalProcess
    if opts["arrivals"] == "gamma":
        process = arr.GammaArrivals(rate_per_s=rate, cv=opts["cv"])
    elif opts["arrivals"] == "diurnal":
        process = arr.DiurnalArrivals(mean_rate_per_s=rate, period_s=opts["period"] or 86400.0)
    else:
        process = arr.PoissonArrivals(rate_per_s=rate)
    if not llm:
        return arr.make_requests(opts["requests"], arrivals=process, rng=rng)
    sigma, longest = opts["length_sigma"], traffic.get("context_tokens")

    def lengths(median: int) -> arr.LengthDistribution:
        if sigma == 0:
            return arr.Fixed(tokens=median)
        cap = max(median, longest // 2) if longest else 1_000_000
        return arr.LogNormal(median=median, sigma=sigma, max_tokens=cap)

    return arr.make_requests(opts["requests"], arrivals=process, rng=rng,
                             prompt=lengths(int(traffic["prompt_tokens"])),
                             output=lengths(int(traffic["output_tokens"])))


def run_serve(scenario: str | None, opts: dict[str, Any],
              progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Build and run the simulation ``mlfleet sim serve`` describes; its JSON document."""
    from mlfleet.catalog.types import Workload
    from mlfleet.serving.lb.registry import make_load_balancer
    from mlfleet.serving.sim.engine import Engine
    from mlfleet.serving.sim.fleet import FleetSpec, build_fleet
    from mlfleet.serving.sim.results import Slo

    traffic = _traffic(scenario, opts)
    workload = Workload.from_name(traffic["workload"])
    traffic["context_tokens"] = int(workload.shape.get("seq_len", 0)) or None
    spec = FleetSpec(workload=traffic["workload"], accelerator=traffic["accelerator"],
                     precision=traffic["precision"], batching=opts["batching"],
                     replicas=opts["replicas"], tp=opts["tp"], max_batch=opts["max_batch"],
                     items_per_request=int(traffic.get("items_per_request", 1)))
    llm = workload.unit == "token"
    if opts["trace"] is None:
        from mlfleet.host_memory import available_bytes
        from mlfleet.serving.sim.memory import check_memory

        check_memory(opts["requests"], available_bytes(),
                     bytes_per_request=SERVE_BYTES_PER_REQUEST)
    r_stream, r_engine = np.random.default_rng(opts["seed"]).spawn(2)
    start = time.perf_counter()
    stream = _stream(traffic, opts, llm, r_stream)
    engine = Engine(requests=stream, replicas=build_fleet(spec), rng=r_engine,
                    lb=make_load_balancer(opts["lb"]), progress=progress)
    result = engine.run()
    wall = time.perf_counter() - start
    slo = Slo(e2e_s=traffic.get("slo_e2e_s"), ttft_s=traffic.get("slo_ttft_s"),
              tpot_s=traffic.get("slo_tpot_s"))
    metrics = result.summary(slo=slo)
    counts, edges = result.histogram(result.e2e_s, bins=20)
    qps = _trace_rate(stream.arrival_s) if opts["trace"] else float(traffic["qps"])
    return {"fidelity": "simulate", "workload": spec.workload,
            "accelerator": spec.accelerator, "precision": spec.precision,
            "batching": spec.batching, "replicas": spec.replicas, "lb": opts["lb"],
            "qps": qps, "requests": len(stream), "seed": opts["seed"],
            "arrivals": "trace" if opts["trace"] else opts["arrivals"],
            "slo": {k: v for k, v in vars(slo).items() if v is not None},
            "slo_check": _slo_check(slo, metrics), "overload": _overload(qps, metrics.throughput_per_s, result.latency_growth()),
            "metrics": metrics.as_dict(),
            "e2e_histogram": {"counts": counts.tolist(), "edges_s": edges.tolist()},
            "wall_s": wall, "simulated_requests_per_wall_s": len(stream) / wall}


def _trace_rate(arrival_s: Any) -> float:
    """A trace's own mean rate: (n - 1) gaps over its first-to-last arrival (NaN if none)."""
    n = len(arrival_s)
    span_s = float(arrival_s[-1] - arrival_s[0]) if n > 1 else 0.0
    return (n - 1) / span_s if span_s > 0 else math.nan


def _slo_check(slo: Any, metrics: Any) -> dict[str, Any]:
    """Each SLO given against its simulated p99: True / False, or None and a reason when
    the p99 rests on too few samples."""
    out: dict[str, Any] = {}
    for key, limit_s in vars(slo).items():
        if limit_s is None:
            continue
        stats, name = getattr(metrics, key[:-2]), f"{key[:-2]}_p99_met"
        reason = stats.too_few_samples(99.0)
        out[name] = None if reason is not None else bool(stats.p99_s <= limit_s)
        if reason is not None:
            out[name + "_null_reason"] = reason
    return out


def _overload(offered_per_s: float, served_per_s: float,
              growth: float) -> dict[str, Any] | None:
    """Offered and served rates when the fleet is overloaded (latency grows over the run
    and it serves less than it is offered), else None."""
    if not (growth > OVERLOAD_GROWTH and 0 < served_per_s < offered_per_s):
        return None
    return {"offered_per_s": offered_per_s, "served_per_s": served_per_s,
            "ratio": offered_per_s / served_per_s, "latency_growth": growth}


@click.command("serve")
@click.argument("scenario", required=False)
@click.option("--workload", "-w", help="Catalog workload [scenario's, else Llama-3-8B].")
@click.option("--accelerator", "-a", help="Catalog accelerator [scenario's, else A100-80GB].")
@click.option("--precision", help="Serving precision [scenario's, else bf16].")
@click.option("--qps", help="Mean requests per second, e.g. 4 or 50k [scenario's, else 4].")
@click.option("--requests", "-n", type=click.IntRange(min=1), default=10_000, show_default=True)
@click.option("--batching", type=click.Choice(("none", "static", "dynamic", "continuous",
                                               "paged", "chunked")),
              default="paged", show_default=True)
@click.option("--replicas", "-r", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--lb", default="round_robin", show_default=True,
              help="Load balancer (round_robin, random, least_outstanding, power_of_two, ...).")
@click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True)
@click.option("--prompt-tokens", type=click.IntRange(min=1), help="Median prompt length.")
@click.option("--output-tokens", type=click.IntRange(min=1), help="Median output length.")
@click.option("--length-sigma", type=click.FloatRange(min=0), default=0.6, show_default=True,
              help="Log-space sigma of the lognormal lengths (0: fixed lengths).")
@click.option("--arrivals", type=click.Choice(("poisson", "gamma", "diurnal")),
              default="poisson", show_default=True)
@click.option("--cv", type=click.FloatRange(min=0, min_open=True), default=2.0,
              show_default=True, help="Gap coefficient of variation (gamma arrivals).")
@click.option("--period", type=click.FloatRange(min=0, min_open=True),
              help="Diurnal period in seconds [86400].")
@click.option("--trace", type=click.Path(dir_okay=False),
              help="CSV trace (arrival_s, prompt_tokens, output_tokens, ...) to replay.")
@click.option("--max-batch", type=click.IntRange(min=1), default=256, show_default=True,
              help="Max sequences (iteration-level) or requests (static/dynamic) per batch.")
@click.option("--tp", type=click.IntRange(min=1), default=1, show_default=True,
              help="Tensor-parallel GPUs per LLM replica.")
@click.option("--slo-e2e", help="End-to-end latency SLO per request, e.g. 10s.")
@click.option("--slo-ttft", help="Time-to-first-token SLO, e.g. 500ms.")
@click.option("--slo-tpot", help="Time-per-output-token SLO, e.g. 50ms.")
@click.option("--calibration", type=click.Path(dir_okay=False),
              help="Calibration file (mlfleet infra calibrate) for the kernel model.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def serve_command(scenario: str | None, as_json: bool, calibration: str | None,
                  **opts: Any) -> None:
    """Simulate requests through a fleet of replicas and report latency and goodput.

    Exits 3 (after the report) when an SLO given (--slo-*, or the scenario's) is not met
    at p99; warns on stderr when the offered load is above what the fleet serves.
    """
    from mlfleet.infra.accel import calibration as cal

    with cal.using_calibration(calibration), \
            progress_bar(not as_json and opts["requests"] >= 100_000, "simulating") as bar:
        doc = run_serve(scenario, opts, bar)
        cal.check_calibration_for(doc["accelerator"], doc["precision"])
        if calibration is not None and not cal.calibration_consulted():
            click.echo(cal.UNUSED_WARNING, err=True)
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(doc)
    else:
        _print_serve(doc)
    _warn_and_judge(doc)


def _warn_and_judge(doc: dict[str, Any]) -> None:
    """The overload warning and too-few-samples notes on stderr; ConstraintViolation
    (exit 3) for an SLO that is not met."""
    over = doc["overload"]
    if over is not None:
        click.echo(f"warning: overloaded: offered {over['offered_per_s']:.3g} req/s is "
                   f"{over['ratio']:.3g}x the {over['served_per_s']:.3g} req/s the fleet "
                   f"served, and the median latency grew {over['latency_growth']:.3g}x from "
                   "the first to the last tenth of requests: latencies depend on the run's "
                   "length",
                   err=True)
    checks = doc["slo_check"]
    for name in [k for k in checks if k.endswith("_null_reason")]:
        click.echo(f"warning: SLO {name[:-len('_met_null_reason')]} not judged: "
                   f"{checks[name]}", err=True)
    unmet = [name[:-len("_met")] for name, met in checks.items() if met is False]
    if unmet:
        m = doc["metrics"]
        raise ConstraintViolation("SLO not met: " + "; ".join(
            f"{n} {units.format_duration(m[n[:-4]]['p99_s'])} > "
            f"{units.format_duration(doc['slo'][n[:-4] + '_s'])}" for n in unmet))


def _print_serve(doc: dict[str, Any]) -> None:
    from mlfleet.report.terminal import print_table

    m = doc["metrics"]
    rows = [[name, *(_cell(m[key], k) for k in ("mean_s", "p50_s", "p99_s", "p999_s"))]
            for name, key in (("TTFT", "ttft"), ("TPOT", "tpot"), ("end-to-end", "e2e"),
                              ("queue", "queue"), ("service", "service"))
            if m[key]["mean_s"] == m[key]["mean_s"]]
    rate = f"{doc['qps']:.3g} req/s" if doc["qps"] == doc["qps"] else "rate n/a"
    source = " (the trace's)" if doc["arrivals"] == "trace" else ""
    print_table(["latency", "mean", "p50", "p99", "p99.9"], rows,
                title=(f"{doc['workload']} on {doc['replicas']} x {doc['accelerator']}, "
                       f"{doc['batching']} batching, {rate}{source} (simulated)"))
    click.echo(f"completed {m['completed']:,} of {m['requests']:,} (rejected {m['rejected']}, "
               f"failed {m['failed']}); throughput {m['throughput_per_s']:.3g} req/s, "
               f"{m['tokens_per_s']:.3g} tokens/s; goodput {m['goodput_per_s']:.3g} req/s "
               f"({_attainment(doc)}); utilisation "
               f"{m['utilization']:.0%}; preemptions {m['preemptions']}")
    for name, met in doc["slo_check"].items():
        if not name.endswith("_null_reason"):
            verdict = "n/a (too few samples)" if met is None else "met" if met else "NOT met"
            click.echo(f"SLO {name.replace('_met', '')}: {verdict}")
    click.echo(f"simulated {doc['requests']:,} requests in {doc['wall_s']:.2f} s "
               f"({doc['simulated_requests_per_wall_s']:,.0f} per wall-second)")


def _cell(stats: dict[str, Any], key: str) -> str:
    """A latency figure, or "n/a (3 samples)" for a percentile with too few samples."""
    if stats[key] is None:
        return f"n/a ({stats['samples']} samples)"
    return units.format_duration(stats[key])


def _attainment(doc: dict[str, Any]) -> str:
    if not doc["slo"]:
        return "no SLO set"
    return f"{doc['metrics']['slo_attainment']:.1%} within SLO"


# --------------------------------------------------------------------------- mmc


@click.command("mmc")
@click.option("--servers", "-c", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--utilization", "-u", type=float, default=0.9, show_default=True,
              help="ρ = λ / (c μ), in (0, 1).")
@click.option("--requests", "-n", type=click.IntRange(min=1), default=1_000_000,
              show_default=True)
@click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True)
@click.option("--batches", type=click.IntRange(min=2), default=20, show_default=True,
              help="Batches for the batch-means confidence intervals.")
@click.option("--engine", is_flag=True,
              help="Run it through the serving engine (every request kept in memory, exact "
              "percentiles) instead of the streaming FIFO recursion; the same waits.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def mmc_command(servers: int, utilization: float, requests: int, seed: int, batches: int,
                engine: bool, as_json: bool) -> None:
    """M/M/c through the simulator next to Erlang C (waits, with 95 % CIs)."""
    from mlfleet.serving.sim.mmc import STATISTICS, simulate_mmc

    with progress_bar(not as_json and requests >= 100_000, "simulating M/M/c") as bar:
        cmp = simulate_mmc(servers=servers, utilization=utilization, requests=requests,
                           seed=seed, batches=batches, engine=engine, progress=bar)
    doc = {"fidelity": "simulate", "path": "engine" if engine else "streaming FIFO recursion",
           **cmp.as_dict()}
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(doc)
        return
    from mlfleet.report.terminal import print_table

    rows = []
    for name in STATISTICS:
        row = doc["statistics"][name]
        rows.append([name, f"{row['simulated']:.4g} ± {row['ci95_half_width']:.2g}",
                     f"{row['erlang_c']:.4g}", _verdict(row["within_ci"])])
    print_table(["statistic", "simulated (95% CI)", "Erlang C", "within CI"], rows,
                title=f"M/M/{servers} at utilisation {utilization:g}, "
                      f"{requests:,} requests, seed {seed}")
    reasons = {row.get("within_ci_null_reason") for row in doc["statistics"].values()}
    for reason in sorted(r for r in reasons if r):
        click.echo(f"too short for a confidence interval: {reason}")
    click.echo(f"simulated in {doc['wall_s']:.2f} s "
               f"({doc['requests_per_wall_s']:,.0f} requests per wall-second)")


def _verdict(within: bool | None) -> str:
    return "too short" if within is None else "yes" if within else "no"

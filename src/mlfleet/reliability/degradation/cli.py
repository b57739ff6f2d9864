"""``mlfleet sim degrade``: graceful degradation, each model next to its simulation.

    mlfleet sim degrade feature-fallback --store-availability 0.99 --staleness 10min
    mlfleet sim degrade llm-inflight --workload Llama-3-8B --accelerator H100 --prompt 1000
    mlfleet sim degrade ensemble --members 3 --member-availability 0.99
    mlfleet sim degrade geo --mode active-passive --failover 5min
    mlfleet sim degrade quality --delta 0.3 --window 500
"""

from __future__ import annotations

import dataclasses
from typing import Any

import click
import numpy as np

from mlfleet.units import duration_option

_SEED = click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
_JSON = click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
_SAMPLES = click.option("--samples", default=100_000, show_default=True,
                        type=click.IntRange(min=100, max=1_000_000),
                        help="Monte-Carlo requests for the simulation beside the closed form.")


def _out(payload: dict[str, Any], as_json: bool) -> None:
    from mlfleet.cli import emit_json

    if as_json:
        emit_json(payload)
        return
    for key, value in _flat(payload):
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        click.echo(f"{key:<48} {shown}")


def _flat(payload: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested dicts and lists as (dotted.key, value) rows for the text output."""
    if isinstance(payload, dict):
        items = list(payload.items())
    elif isinstance(payload, list):
        items = [(str(i), v) for i, v in enumerate(payload)]
    else:
        return [(prefix, payload)]
    return [row for k, v in items for row in _flat(v, f"{prefix}.{k}" if prefix else str(k))]


def _duration(option: str, text: str, *, allow_zero: bool = False) -> float:
    """A finite duration in seconds (``inf`` is refused: the simulations need an end)."""
    from mlfleet.checks import finite
    from mlfleet.reliability.errors import ReliabilityInputError

    return finite(option, duration_option(option, text, allow_zero=allow_zero),
                  error=ReliabilityInputError)


@click.group("degrade", context_settings={"help_option_names": ["-h", "--help"]})
def degrade_group() -> None:
    """Graceful degradation: feature fallback, lost KV state, ensembles, regions, drift."""


@degrade_group.command("feature-fallback")
@click.option("--store-availability", default=0.99, show_default=True, type=float)
@click.option("--cache-hit", default=0.8, show_default=True, type=float,
              help="Share of lookups the local cache can answer when the store is down.")
@click.option("--staleness", default="10min", show_default=True,
              help="Age of the cached values.")
@click.option("--decorrelation", default="1h", show_default=True,
              help="τ of the entity features (OU time constant).")
@click.option("--mttr", default="5min", show_default=True, help="Store outage length (mean).")
@_SAMPLES
@_SEED
@_JSON
def feature_fallback_command(store_availability: float, cache_hit: float, staleness: str,
                             decorrelation: str, mttr: str, samples: int, seed: int,
                             as_json: bool) -> None:
    """Requests answered and AUC served with no fallback, cache, default, or both."""
    from mlfleet.checks import fraction
    from mlfleet.reliability.degradation import feature_fallback as ff
    from mlfleet.reliability.errors import ReliabilityInputError

    a = fraction("--store-availability", store_availability, open_low=True, open_high=True,
                 error=ReliabilityInputError)
    world = ff.RankingWorld(decorrelation_s=_duration("--decorrelation", decorrelation))
    age_s = _duration("--staleness", staleness, allow_zero=True)
    mttr_s = _duration("--mttr", mttr)
    rows = {}
    for fallback in ff.FALLBACKS:
        model = ff.expected_mix(world, store_availability=a, cache_hit=cache_hit,
                                staleness_s=age_s, fallback=fallback)
        sim = ff.simulated_mix(world, mtbf_s=mttr_s * a / (1 - a), mttr_s=mttr_s,
                               cache_hit=cache_hit, staleness_s=age_s, fallback=fallback,
                               n=samples, horizon_s=mttr_s / (1 - a) * 500,
                               rng=np.random.default_rng(seed))
        rows[fallback] = {"model": dataclasses.asdict(model), "simulated": dataclasses.asdict(sim)}
    _out({"auc_fresh": float(ff.auc_cached(world, 0.0)),
          "auc_cached": float(ff.auc_cached(world, age_s)), "auc_default": ff.auc_default(world),
          "break_even_staleness_s": ff.break_even_staleness_s(world), "fallbacks": rows}, as_json)


@degrade_group.command("llm-inflight")
@click.option("--workload", default="Llama-3-8B", show_default=True)
@click.option("--accelerator", default="H100", show_default=True)
@click.option("--prompt", "prompt_tokens", default=1000, show_default=True,
              type=click.IntRange(1, 1_000_000))
@click.option("--output", "output_tokens", default=200, show_default=True,
              type=click.IntRange(1, 100_000))
@click.option("--points", default=5, show_default=True, type=click.IntRange(2, 50),
              help="Death points, evenly spread over the generation.")
@click.option("--detect", default="0s", show_default=True, help="Time to notice and re-route.")
@click.option("--simulate", is_flag=True, help="Check each point in the serving simulator.")
@_JSON
def llm_inflight_command(workload: str, accelerator: str, prompt_tokens: int,
                         output_tokens: int, points: int, detect: str, simulate: bool,
                         as_json: bool) -> None:
    """Regenerate vs resume for a request whose replica dies after g tokens."""
    from mlfleet.reliability.degradation.llm_inflight import recovery_costs
    from mlfleet.reliability.degradation.llm_inflight_sim import simulated_extra_latency_s
    from mlfleet.serving.models.llm_step import llm_step_model

    model = llm_step_model(workload=workload, accelerator=accelerator)
    detect_s = _duration("--detect", detect, allow_zero=True)
    rows = []
    for g in sorted({int(x) for x in np.linspace(0, max(output_tokens - 1, 0), points)}):
        regen, resume = recovery_costs(model, prompt_tokens=prompt_tokens,
                                       output_tokens=output_tokens, streamed_tokens=g,
                                       detect_s=detect_s)
        row: dict[str, Any] = {"streamed_tokens": g, "regenerate": dataclasses.asdict(regen),
                               "resume": dataclasses.asdict(resume)}
        if simulate and g >= 1:
            sim = simulated_extra_latency_s(model, prompt_tokens=prompt_tokens,
                                            output_tokens=output_tokens, streamed_tokens=g)
            row["simulated_extra_latency_s"] = {"regenerate": sim[0] + detect_s,
                                                "resume": sim[1] + detect_s}
        rows.append(row)
    _out({"model": model.name, "points": rows}, as_json)


@degrade_group.command("ensemble")
@click.option("--members", default=3, show_default=True, type=click.IntRange(1, 20))
@click.option("--member-availability", default=0.99, show_default=True, type=float)
@click.option("--member-noise", default=1.0, show_default=True, type=float,
              help="σ of each member's score noise (latent sd = 1).")
@_SAMPLES
@_SEED
@_JSON
def ensemble_command(members: int, member_availability: float, member_noise: float,
                     samples: int, seed: int, as_json: bool) -> None:
    """Availability and AUC with members required (series) or optional (parallel)."""
    from mlfleet.reliability.degradation import ensemble as ens

    rows = {}
    for mode in ens.MODES:
        model = ens.ensemble_outcome(members=members, member_availability=member_availability,
                                     mode=mode, member_noise_sd=member_noise)
        share, auc = ens.simulated_outcome(members=members, mode=mode,
                                           member_availability=member_availability,
                                           member_noise_sd=member_noise, n=samples,
                                           rng=np.random.default_rng(seed))
        rows[mode] = {"model": dataclasses.asdict(model),
                      "simulated": {"availability": share, "auc_served": auc}}
    _out(rows, as_json)


@degrade_group.command("geo")
@click.option("--mode", type=click.Choice(["active-active", "active-passive"]),
              default="active-active", show_default=True)
@click.option("--mtbf", default="7d", show_default=True, help="Region time between outages.")
@click.option("--mttr", default="2h", show_default=True, help="Region outage length (mean).")
@click.option("--failover", default="5min", show_default=True,
              help="Detection + DNS TTL before clients move.")
@click.option("--rtt-ms", default=None,
              help="Square RTT table, rows ';'-separated (default: 3 regions, see docs).")
@_SAMPLES
@_SEED
@_JSON
def geo_command(mode: str, mtbf: str, mttr: str, failover: str, rtt_ms: str | None,
                samples: int, seed: int, as_json: bool) -> None:
    """Multi-region availability and latency, with and without failover."""
    from mlfleet.reliability.degradation import geo
    from mlfleet.reliability.errors import ReliabilityInputError

    kw: dict[str, Any] = {"mode": mode, "mtbf_s": _duration("--mtbf", mtbf),
                          "mttr_s": _duration("--mttr", mttr),
                          "failover_s": _duration("--failover", failover, allow_zero=True)}
    if rtt_ms is not None:
        try:
            kw["rtt_s"] = geo.rtt_table([[float(v) for v in row.split(",")]
                                         for row in rtt_ms.split(";")])
        except ValueError:
            raise ReliabilityInputError(f"--rtt-ms(={rtt_ms!r}) must be a square table of "
                                        "numbers, e.g. '5,65;65,5'") from None
    rows = {}
    for fo in (True, False):
        spec = geo.GeoSpec(failover=fo, **kw)
        sim = geo.simulated_outcome(spec, n=samples, rng=np.random.default_rng(seed),
                                    horizon_s=(spec.mtbf_s + spec.mttr_s) * 200)
        rows["with_failover" if fo else "without_failover"] = {
            "model": dataclasses.asdict(geo.geo_outcome(spec)),
            "simulated": dataclasses.asdict(sim)}
    _out(rows, as_json)


@degrade_group.command("quality")
@click.option("--delta", default="0.1,0.2,0.3,0.5", show_default=True,
              help="Mean shifts to try, in σ (comma-separated).")
@click.option("--window", default=500, show_default=True, type=click.IntRange(20, 100_000),
              help="Requests per check.")
@click.option("--reference", default=2000, show_default=True, type=click.IntRange(20, 100_000))
@click.option("--rate", default=10.0, show_default=True, type=float, help="Requests per second.")
@click.option("--max-windows", default=20, show_default=True, type=click.IntRange(1, 200))
@click.option("--trials", default=20, show_default=True, type=click.IntRange(1, 500))
@click.option("--since-deploy", default=None, help="Drift began this long after a deploy.")
@_SEED
@_JSON
def quality_command(delta: str, window: int, reference: int, rate: float, max_windows: int,
                    trials: int, since_deploy: str | None, seed: int, as_json: bool) -> None:
    """Time to detect a drifting input (PSI), model vs simulation, and the decision."""
    from mlfleet.checks import positive
    from mlfleet.reliability.errors import ReliabilityInputError

    positive("--rate", rate, error=ReliabilityInputError)
    try:
        deltas = [float(d) for d in delta.split(",")]
    except ValueError:
        raise ReliabilityInputError(f"--delta(={delta!r}) must be numbers, e.g. 0.1,0.3") from None
    after = None if since_deploy is None else _duration("--since-deploy", since_deploy,
                                                              allow_zero=True)
    rows = [_quality_row(d, window=window, reference=reference, rate=rate, trials=trials,
                         max_windows=max_windows, since_deploy_s=after, seed=seed)
            for d in deltas]
    _out({"window_s": window / rate, "shifts": rows}, as_json)


def _quality_row(d: float, *, window: int, reference: int, rate: float, trials: int,
                 max_windows: int, since_deploy_s: float | None, seed: int) -> dict[str, Any]:
    from mlfleet.reliability.degradation import quality_drift as qd

    p = qd.window_alert_probability(d, window=window, reference=reference)
    runs = [qd.simulate_drift(d, window=window, reference=reference, windows_before=1,
                              max_windows=max_windows, since_deploy_s=since_deploy_s,
                              rng=np.random.default_rng([seed, k])) for k in range(trials)]
    sim_windows = float(np.mean([r.windows_to_detect or max_windows for r in runs]))
    return {"delta": d, "window_alert_probability": p,
            "model_time_to_detect_s": qd.expected_windows_to_detect(p, max_windows=max_windows)
            * window / rate, "simulated_time_to_detect_s": sim_windows * window / rate,
            "detected_share": float(np.mean([r.windows_to_detect is not None for r in runs])),
            "decision": runs[0].decision}

"""The autoscaling simulation: validated against M/M/c, and its sanity properties."""

from __future__ import annotations

import numpy as np
import pytest

from mlfleet.infra.autoscale.diurnal import DiurnalLoad, realise
from mlfleet.infra.autoscale.simulate import (
    AutoscaleSpec,
    PolicyRun,
    compare,
    fixed_replicas,
    make_stream,
    pod_seconds,
    run_policy,
)
from mlfleet.infra.autoscale.sizing import slo_capacity_per_s, violation_probability


def _steep(**overrides: object) -> AutoscaleSpec:
    """A compressed day (1 h period, swing ±90 %, no noise): ramps steep against a 5 min
    cold start, as a morning rush is against a slow model load."""
    fields: dict[str, object] = {
        "load": DiurnalLoad(mean_rate_per_s=40.0, amplitude=0.9, period_s=3600.0,
                            peak_at_s=1800.0, noise_sigma=0.0, bin_s=60.0),
        "duration_s": 7200.0, "service_s": 0.05, "slo_s": 1.0, "cold_start_s": 300.0,
        "lead_s": 600.0, "window_s": 900.0}
    fields.update(overrides)
    return AutoscaleSpec(**fields)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def steep_runs() -> dict[str, PolicyRun]:
    return {r.policy: r for r in compare(_steep(), seed=0)}


def test_fixed_fleet_matches_erlang_c_at_a_constant_rate() -> None:
    """40 req/s on replicas of 4 servers, 200 ms exponential service, SLO 1 s: the fleet
    sized for p99 <= SLO is 4 replicas; random routing makes each M/M/4 at 10 req/s,
    whose P(T > 1 s) is 0.790 %. Simulated over 2 h (288,000 requests): 0.792 % (+0.3 %;
    seeds 0-4: -1.6 % to +5.2 %)."""
    spec = AutoscaleSpec(load=DiurnalLoad(mean_rate_per_s=40.0, amplitude=0.0,
                                          noise_sigma=0.0, period_s=3600.0),
                         duration_s=7200.0, service_s=0.2, servers=4, slo_s=1.0)
    load_rng, demand_rng = np.random.default_rng(0).spawn(2)
    realised = realise(spec.load, end_s=spec.duration_s, history_s=3600.0, rng=load_rng)
    run = run_policy(spec, "fixed", realised, make_stream(realised.arrival_s, 0.2, demand_rng),
                     seed=100)
    replicas = fixed_replicas(spec, realised)
    model = violation_probability(40.0 / replicas, servers=4, service_s=0.2, slo_s=1.0)
    assert replicas == 4
    assert run.violation_fraction == pytest.approx(model, rel=0.10)


def test_slo_capacity_meets_the_slo_exactly_at_the_p99() -> None:
    """M/M/1, 50 ms service, SLO 1 s: P(T > t) = exp(-(μ - λ)t) = 1 % at μ - λ = ln 100,
    so λ = 20 - 4.605 = 15.395 req/s."""
    rate = slo_capacity_per_s(servers=1, service_s=0.05, slo_s=1.0)
    assert rate == pytest.approx(20.0 - np.log(100.0), rel=1e-9)


@pytest.mark.slow
def test_fixed_at_peak_meets_the_slo_and_costs_the_most(
        steep_runs: dict[str, PolicyRun]) -> None:
    """Sized for the peak at the SLO capacity, the fixed fleet keeps violations under
    1 % (its p99 meets the SLO) and pays for the peak all day."""
    fixed = steep_runs["fixed"]
    assert fixed.violation_fraction < 0.01 and fixed.p99_s <= 1.0
    assert fixed.cost_usd > max(steep_runs["hpa"].cost_usd, steep_runs["predictive"].cost_usd)


@pytest.mark.slow
def test_predictive_violates_less_when_its_lead_beats_the_reaction_delay(
        steep_runs: dict[str, PolicyRun]) -> None:
    """Lead 600 s > HPA's reaction (15 s sync + 15 s metric window + 300 s cold start):
    predictive is ready before the ramp, the HPA behind it."""
    assert steep_runs["predictive"].violation_fraction < steep_runs["hpa"].violation_fraction


@pytest.mark.slow
def test_predictive_without_lead_is_late_like_the_hpa() -> None:
    """Lead 0 with a 300 s cold start: ordered when needed, ready 5 min late."""
    late = compare(_steep(lead_s=0.0), seed=0, policies=("predictive",))[0]
    early = compare(_steep(), seed=0, policies=("predictive",))[0]
    assert late.violation_fraction > 5 * early.violation_fraction


def test_same_seed_same_runs() -> None:
    spec = _steep(duration_s=1200.0, window_s=600.0)
    a, b = compare(spec, seed=3), compare(spec, seed=3)
    assert a == b


@pytest.mark.slow
def test_replica_hours_add_up_over_windows(steep_runs: dict[str, PolicyRun]) -> None:
    for run in steep_runs.values():
        assert sum(r.replica_hours for r in run.rows) == pytest.approx(run.replica_hours)
        assert sum(r.requests for r in run.rows) == run.requests
    assert steep_runs["fixed"].replica_hours == pytest.approx(
        steep_runs["fixed"].peak_replicas * 2.0)


def test_pod_seconds_integrates_a_step_function() -> None:
    """2 pods from 0, 5 from 10 s, 3 from 25 s; windows [0, 20), [20, 40):
    2·10 + 5·10 = 70 and 5·5 + 3·15 = 70."""
    billed = [(0.0, 2), (10.0, 5), (25.0, 3)]
    assert pod_seconds(billed, np.array([0.0, 20.0, 40.0])).tolist() == [70.0, 70.0]

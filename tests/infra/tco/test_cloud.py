"""Cloud tiers and the spot model, the latter against a Monte-Carlo simulation on mlfleet.sim."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.errors import InputError
from mlfleet.infra.tco import cloud
from mlfleet.infra.tco.offers import offer, spot_terms
from mlfleet.infra.tco.spot_sim import simulate_spot_jobs
from mlfleet.reliability.checkpoint_interval import daly_expected_wall_s, daly_interval_s


def test_monthly_interruption_fraction_becomes_a_poisson_rate() -> None:
    rate = cloud.instance_rate_per_s(0.10)
    month_s = 365.2425 * 86400 / 12
    assert 1 - math.exp(-rate * month_s) == pytest.approx(0.10)  # 10 % reclaimed in a month


def test_spot_job_uses_daly_and_counts_every_instance() -> None:
    job = cloud.spot_job(on_demand_usd_per_gpu_h=10.0, discount=0.6, interruption_per_month=0.1,
                         gpus=64, gpus_per_instance=8, ckpt_s=120.0, restart_s=600.0)
    assert job.usd_per_gpu_h == pytest.approx(4.0)
    assert job.preemptions_per_s == pytest.approx(8 * cloud.instance_rate_per_s(0.1))
    assert job.interval_s == pytest.approx(daly_interval_s(ckpt_s=120.0, mtbf_s=job.mtbp_s))
    wall = daly_expected_wall_s(solve_s=1.0, interval_s=job.interval_s, ckpt_s=120.0,
                                restart_s=600.0, mtbf_s=job.mtbp_s)
    assert job.usd_per_useful_gpu_h == pytest.approx(4.0 * wall)
    assert job.wall_per_work > 1.0


def test_no_interruptions_cost_only_the_spot_price() -> None:
    job = cloud.spot_job(on_demand_usd_per_gpu_h=10.0, discount=0.5, interruption_per_month=0.0,
                         gpus=8, gpus_per_instance=8, ckpt_s=60.0, restart_s=0.0)
    assert (job.usd_per_useful_gpu_h, job.preemptions_per_s) == (5.0, 0.0)


def test_tiers_price_reserved_capacity_per_used_hour() -> None:
    p5 = offer("aws-p5")
    rows = {t.name: t for t in cloud.tiers(p5, utilization=0.5)}
    assert rows["on-demand"].usd_per_used_gpu_h == p5.on_demand_usd_per_h
    assert p5.reserved_3y_usd_per_h is not None
    assert rows["reserved-3y"].usd_per_used_gpu_h == pytest.approx(p5.reserved_3y_usd_per_h / 0.5)
    assert "spot" not in rows


def test_catalog_spot_terms_are_sourced_fractions() -> None:
    terms = spot_terms()
    assert 0 < terms.discount <= terms.discount_max < 1
    assert terms.interruption_bands == (0.05, 0.10, 0.15, 0.20)
    assert "Spot Instance Advisor" in terms.interruption_source


@pytest.mark.parametrize(("mtbp_s", "interval_s", "ckpt_s", "restart_s"), [
    (3600.0, 1200.0, 120.0, 300.0),    # preempted about hourly: 10 preemptions per job
    (6 * 3600.0, 3600.0, 300.0, 600.0),  # every 6 h
    (1800.0, 600.0, 60.0, 600.0),      # restarts as long as a segment
])
def test_spot_model_matches_monte_carlo(mtbp_s: float, interval_s: float, ckpt_s: float,
                                        restart_s: float) -> None:
    # 2,000 simulated jobs of 20 segments each; Daly's eq. 20 is exact for Poisson
    # preemptions, so the model must sit within 4 standard errors (observed: |error| <= 0.6 %,
    # printed below and stated in docs/infrastructure-tco.md).
    solve_s = 20 * interval_s
    sim = simulate_spot_jobs(solve_s=solve_s, interval_s=interval_s, ckpt_s=ckpt_s,
                             restart_s=restart_s, rate_per_s=1 / mtbp_s, jobs=2000, seed=7)
    model = daly_expected_wall_s(solve_s=solve_s, interval_s=interval_s, ckpt_s=ckpt_s,
                                 restart_s=restart_s, mtbf_s=mtbp_s)
    error = sim.mean_wall_s / model - 1
    print(f"spot MC: mtbp {mtbp_s:.0f}s model {model:.0f}s sim {sim.mean_wall_s:.0f}s "
          f"error {error:+.3%} ({(sim.mean_wall_s - model) / sim.stderr_wall_s:+.2f} sigma)")
    assert abs(sim.mean_wall_s - model) < 4 * sim.stderr_wall_s
    assert abs(error) < 0.01


def test_simulation_is_reproducible_from_its_seed() -> None:
    def run(seed: int) -> object:
        return simulate_spot_jobs(solve_s=4000.0, interval_s=1000.0, ckpt_s=50.0,
                                  restart_s=100.0, rate_per_s=1 / 2000.0, jobs=50, seed=seed)

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_simulation_refuses_a_partial_last_segment() -> None:
    with pytest.raises(InputError, match="whole number"):
        simulate_spot_jobs(solve_s=1500.0, interval_s=1000.0, ckpt_s=1.0, restart_s=1.0,
                           rate_per_s=1e-3, jobs=2, seed=0)


def test_a_job_that_can_never_finish_costs_without_bound() -> None:
    job = cloud.spot_job(on_demand_usd_per_gpu_h=10.0, discount=0.6, interruption_per_month=0.5,
                         gpus=64, gpus_per_instance=8, ckpt_s=60.0, restart_s=1e9)
    assert math.isinf(job.usd_per_useful_gpu_h)


@settings(max_examples=40, deadline=None)
@given(p=st.floats(0.0, 0.9), dp=st.floats(0.01, 0.09), ckpt_s=st.floats(10.0, 1800.0),
       restart_s=st.floats(0.0, 3600.0))
def test_spot_costs_more_per_useful_hour_as_preemptions_rise(p: float, dp: float, ckpt_s: float,
                                                             restart_s: float) -> None:
    def useful(interruption: float) -> float:
        return cloud.spot_job(on_demand_usd_per_gpu_h=10.0, discount=0.6,
                              interruption_per_month=interruption, gpus=512, gpus_per_instance=8,
                              ckpt_s=ckpt_s, restart_s=restart_s).usd_per_useful_gpu_h

    assert useful(p) >= 4.0 * (1 - 1e-12)  # the spot price itself, up to rounding
    assert useful(p + dp) > useful(p)

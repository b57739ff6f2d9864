"""Power of two choices vs random: balls into bins, and queueing in the simulator.

Known results compared against: with n balls in n bins the fullest bin holds
~ ln n / ln ln n balls under one random choice (Gonnet 1981) and ln ln n / ln 2 + O(1)
under two (Azar et al. 1999); in the supermarket model at utilisation λ the mean time in
system is 1/(1 − λ) for random and Σ λ^(2^i − 2) for two choices (Mitzenmacher 2001).
"""

from __future__ import annotations

import numpy as np
import pytest
from policy_fakes import fleet, request

from mlfleet.serving.lb.power_of_two import (
    PowerOfTwoBalancer,
    max_load_d_choices,
    max_load_one_choice,
    mean_sojourn_supermarket,
    tail_fraction_supermarket,
)
from mlfleet.serving.lb.random import RandomBalancer
from mlfleet.serving.lb.registry import make_load_balancer
from mlfleet.serving.sim.arrivals import Exponential, PoissonArrivals, make_requests
from mlfleet.serving.sim.engine import Engine
from mlfleet.serving.sim.replicas.request_level import RequestLevelReplica
from mlfleet.serving.sim.results import ServingMetrics


def max_load(lb: object, n: int, seed: int) -> int:
    """Throw n balls (requests that never leave) into n bins with ``lb``."""
    rng, replicas, r = np.random.default_rng(seed), fleet(n), request()
    for _ in range(n):
        replicas[lb.choose(r, replicas, rng)].outstanding += 1  # type: ignore[attr-defined]
    return max(x.outstanding for x in replicas)


def test_balls_into_bins_two_choices_cut_the_max_load_exponentially() -> None:
    """n = 10⁴, 3 seeds. Observed max load: random 6, 7, 7; two choices 3, 3, 3.
    Leading-order predictions: ln n/ln ln n = 4.1 (the o(1) term is large at this n),
    ln ln n/ln 2 = 3.2."""
    n = 10_000
    random_max = [max_load(RandomBalancer(), n, s) for s in range(3)]
    two_max = [max_load(PowerOfTwoBalancer(), n, s) for s in range(3)]
    assert min(random_max) >= max_load_one_choice(n)  # ≥ 4.1
    assert max(two_max) <= max_load_d_choices(n) + 1.5  # ≤ 4.7: ln ln n/ln 2 + O(1)
    assert np.mean(random_max) >= 1.6 * np.mean(two_max)


def test_sampling_picks_distinct_alive_replicas_and_the_less_loaded() -> None:
    rng = np.random.default_rng(3)
    replicas = fleet(3)
    replicas[1].alive = False
    replicas[0].outstanding, replicas[2].outstanding = 5, 1
    # Only two are alive, so both are sampled and the less loaded always wins.
    assert {PowerOfTwoBalancer().choose(request(), replicas, rng) for _ in range(50)} == {2}


def test_supermarket_formulas_match_the_paper() -> None:
    assert mean_sojourn_supermarket(0.9, 1) == pytest.approx(10.0)
    assert mean_sojourn_supermarket(0.9, 2) == pytest.approx(2.614, abs=1e-3)
    assert tail_fraction_supermarket(0.9, 3, d=2) == pytest.approx(0.9 ** 7)
    assert tail_fraction_supermarket(0.9, 3, d=1) == pytest.approx(0.9 ** 3)


def run_mm1_fleet(lb_name: str, *, n_replicas: int = 20, utilisation: float = 0.9,
                  n_requests: int = 30_000, seed: int = 0) -> ServingMetrics:
    stream = make_requests(n_requests, arrivals=PoissonArrivals(rate_per_s=utilisation * n_replicas),
                           rng=np.random.default_rng(seed), service=Exponential(mean_s=1.0))
    engine = Engine(requests=stream, replicas=[RequestLevelReplica() for _ in range(n_replicas)],
                    rng=np.random.default_rng(seed + 1), lb=make_load_balancer(lb_name))
    return engine.run().summary()


def test_in_the_simulator_two_choices_beat_random_by_the_known_margin() -> None:
    """20 single-server replicas, Poisson arrivals, exponential service, λ = 0.9, 30k
    requests, seed 0. Observed: random mean 10.1 s, p99 41.5 s; two choices mean 2.89 s,
    p99 9.9 s (round-robin 5.9 / 27.8, least-outstanding 1.52 / 6.5). Theory (n → ∞):
    10 s and 2.61 s mean time in system (Mitzenmacher 2001); M/M/1 p99 = ln 100 · 10 s
    = 46 s."""
    rnd, two = run_mm1_fleet("random"), run_mm1_fleet("power_of_two")
    assert rnd.completed == two.completed == 30_000
    assert rnd.e2e.mean_s == pytest.approx(mean_sojourn_supermarket(0.9, 1), rel=0.2)
    # A finite fleet (n = 20) sits a little above the n → ∞ limit.
    assert two.e2e.mean_s == pytest.approx(mean_sojourn_supermarket(0.9, 2), rel=0.15)
    assert two.e2e.p99_s < 0.35 * rnd.e2e.p99_s

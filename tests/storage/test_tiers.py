"""Tier costs: break-even against brute force, the tiering closed form against Monte Carlo."""

from __future__ import annotations

import numpy as np
import pytest

from mlfleet.storage.io_budget import StorageModelError
from mlfleet.storage.tiers import (
    DEFAULT_TIERS,
    INTELLIGENT_TIERING_IDLE_S,
    MONTH_S,
    FrequencyPolicy,
    Tier,
    TieringPolicy,
    break_even_reads_per_month,
    cheapest_tier,
    dataset_costs,
    frequency_cost_per_month,
    tiered_cost_per_month,
)

HOT, WARM, COLD = (Tier.from_name(n) for n in DEFAULT_TIERS)


def test_a_terabyte_month_in_s3_standard_costs_its_list_price() -> None:
    [cost] = dataset_costs([HOT], dataset_bytes=1e12, epochs_per_month=10, object_bytes=100e3)
    assert cost.storage_usd == pytest.approx(23.0)
    assert cost.request_usd == pytest.approx(10 * 1e7 * 0.0004 / 1000)  # 1e8 GETs: $40
    assert cost.retrieval_usd == 0.0


@pytest.mark.parametrize("object_bytes", [4e3, 1e6, 256e6])
@pytest.mark.parametrize(("hot", "cold"), [(HOT, WARM), (WARM, COLD), (HOT, COLD)])
def test_break_even_is_where_the_brute_force_cheapest_tier_flips(
        object_bytes: float, hot: Tier, cold: Tier) -> None:
    k_star = break_even_reads_per_month(hot, cold, object_bytes)
    rates = np.array([k_star * 0.999, k_star * 1.001])
    assert cheapest_tier([hot, cold], object_bytes=object_bytes, reads_per_month=rates).tolist() \
        == [1, 0]


def _monte_carlo_cost(policy: TieringPolicy, *, object_bytes: float, reads_per_month: float,
                      gaps: int, seed: int) -> float:
    """Replay Poisson read gaps: time in each tier between reads, each read priced where it lands."""
    x = np.random.default_rng(seed).exponential(MONTH_S / reads_per_month, size=gaps)
    edges = [0.0, *policy.idle_s, np.inf]
    usd = 0.0
    for i, tier in enumerate(policy.tiers):
        time_in = np.clip(x - edges[i], 0.0, edges[i + 1] - edges[i])
        usd += time_in.sum() / MONTH_S * object_bytes / 1e9 * tier.usd_per_gb_month
        lands = (x > edges[i]) & (x <= edges[i + 1])
        usd += lands.sum() * float(tier.read_usd(object_bytes))
    return float(usd / (x.sum() / MONTH_S))


@pytest.mark.parametrize("reads_per_month", [0.2, 1.0, 5.0, 60.0])
def test_tiering_closed_form_matches_a_monte_carlo_replay(reads_per_month: float) -> None:
    policy = TieringPolicy(tiers=(HOT, WARM, COLD), idle_s=INTELLIGENT_TIERING_IDLE_S)
    closed = float(tiered_cost_per_month(policy, object_bytes=1e9, reads_per_month=reads_per_month))
    replayed = _monte_carlo_cost(policy, object_bytes=1e9, reads_per_month=reads_per_month,
                                 gaps=400_000, seed=11)
    assert replayed == pytest.approx(closed, rel=0.01)


def test_tiering_costs_between_the_oracle_and_all_hot_for_rarely_read_data() -> None:
    policy = TieringPolicy(tiers=(HOT, WARM, COLD), idle_s=INTELLIGENT_TIERING_IDLE_S)
    rates = np.array([0.05, 0.2])
    auto = tiered_cost_per_month(policy, object_bytes=1e9, reads_per_month=rates)
    all_hot = 1.0 * HOT.usd_per_gb_month + rates * float(HOT.read_usd(1e9))
    assert np.all(auto < all_hot)


def test_bad_policy_and_unpriced_tier_are_input_errors() -> None:
    with pytest.raises(StorageModelError, match="idle_s"):
        TieringPolicy(tiers=(HOT, WARM), idle_s=(1.0, 2.0))
    with pytest.raises(StorageModelError, match="tier\\(='nvme'\\) has no cost_usd_per_gb_month"):
        Tier.from_name("nvme")


def _monte_carlo_frequency(policy: FrequencyPolicy, *, object_bytes: float,
                           reads_per_month: float, reads: int, seed: int) -> float:
    """Poisson reads; the tier at sampled instants (time share) and just before each read."""
    rng = np.random.default_rng(seed)
    times = np.cumsum(rng.exponential(MONTH_S / reads_per_month, size=reads))
    horizon_s = times[-1]

    def tier_of(at: np.ndarray, strict: bool) -> np.ndarray:
        upto = np.searchsorted(times, at, side="left" if strict else "right")
        count = upto - np.searchsorted(times, at - policy.window_s, side="right")
        index = np.full(len(at), len(policy.min_reads))
        for i, m in reversed(list(enumerate(policy.min_reads))):
            index[count >= m] = i
        return index

    usable = times[times > policy.window_s]
    instants = rng.uniform(policy.window_s, horizon_s, size=200_000)
    time_tier, read_tier = tier_of(instants, False), tier_of(usable, True)
    usd = 0.0
    for i, tier in enumerate(policy.tiers):
        usd += np.mean(time_tier == i) * object_bytes / 1e9 * tier.usd_per_gb_month
        usd += np.mean(read_tier == i) * reads_per_month * float(tier.read_usd(object_bytes))
    return float(usd)


@pytest.mark.parametrize("reads_per_month", [0.5, 2.0, 8.0])
def test_frequency_tiering_closed_form_matches_a_monte_carlo_replay(
        reads_per_month: float) -> None:
    policy = FrequencyPolicy(tiers=(HOT, WARM, COLD), window_s=MONTH_S, min_reads=(2, 1))
    closed = float(frequency_cost_per_month(policy, object_bytes=1e9,
                                            reads_per_month=reads_per_month))
    replayed = _monte_carlo_frequency(policy, object_bytes=1e9, reads_per_month=reads_per_month,
                                      reads=200_000, seed=5)
    assert replayed == pytest.approx(closed, rel=0.01)


def test_bad_frequency_policy_is_an_input_error() -> None:
    with pytest.raises(StorageModelError, match="min_reads"):
        FrequencyPolicy(tiers=(HOT, WARM, COLD), window_s=MONTH_S, min_reads=(1, 2))

"""The simulated search users: position-based clicks, noisy rankers, heterogeneous users."""

from __future__ import annotations

import numpy as np
import pytest

from mlfleet.errors import InputError
from mlfleet.ops.experiment.click_model import (
    SearchModel,
    click_probabilities,
    clicks,
    draw_queries,
    draw_users,
    expected_clicks,
    rank,
)


def test_click_frequencies_match_the_position_based_model() -> None:
    """200,000 impressions of one fixed list: each rank's click rate is within 4 SE of
    propensity · r^-1 · a(grade)."""
    model = SearchModel(list_len=5, pool_size=5)
    grades = np.tile(np.array([4, 0, 2, 3, 1]), (200_000, 1))
    propensity = np.full(200_000, 0.5)
    observed = clicks(model, grades, propensity, np.random.default_rng(0)).mean(axis=0)
    expected = click_probabilities(model, grades[:1], propensity[:1])[0]
    assert np.allclose(expected, 0.5 * np.array([0.95, 0.05 / 2, 0.5 / 3, 0.7 / 4, 0.3 / 5]))
    assert np.all(np.abs(observed - expected) <= 4 * np.sqrt(expected * (1 - expected) / 200_000))


def test_a_noiseless_ranker_sorts_by_grade_and_more_noise_costs_clicks() -> None:
    rng = np.random.default_rng(1)
    model = SearchModel()
    grades = draw_queries(model, 1000, rng)
    shown = np.take_along_axis(grades, rank(grades, 0.0, rng, 10), axis=1)
    assert np.all(np.diff(shown, axis=1) <= 0)
    gaps = [expected_clicks(SearchModel(gap=g), queries=50_000, rng=np.random.default_rng(2))
            for g in (0.1, 0.5, 1.0)]
    assert all(q.clicks_a > q.clicks_b + 3 * q.gap_se for q in gaps)
    assert gaps[0].clicks_b > gaps[1].clicks_b > gaps[2].clicks_b


def test_users_differ_in_activity_and_propensity() -> None:
    queries, propensity = draw_users(SearchModel(mean_queries=5.0), 100_000,
                                     np.random.default_rng(3))
    assert queries.min() >= 1 and queries.mean() == pytest.approx(5.0, rel=0.02)
    assert propensity.mean() == pytest.approx(0.5, abs=0.005)  # Beta(2, 2)
    assert propensity.std() == pytest.approx(np.sqrt(1 / 20), rel=0.02)


@pytest.mark.parametrize("kwargs", [dict(list_len=0), dict(pool_size=5), dict(gap=-1.0),
                                    dict(grade_probs=(0.5, 0.6)), dict(mean_queries=0.5),
                                    dict(attractiveness=(0.1, 0.2)), dict(propensity_a=0.0),
                                    dict(attractiveness=(0.1, 0.2, 0.3, 0.4, 1.5))])
def test_bad_models_are_input_errors(kwargs: dict[str, object]) -> None:
    with pytest.raises(InputError):
        SearchModel(**kwargs)  # type: ignore[arg-type]

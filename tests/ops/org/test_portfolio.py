"""The portfolio's dependency forest: ensemble shape, edges, depths, errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlfleet.errors import InputError
from mlfleet.ops.org.portfolio import portfolio


def test_an_ensemble_is_providers_to_ranker_to_post_processing() -> None:
    """12 members: the head post-processes, one ranker feeds it, ten providers feed the ranker."""
    p = portfolio(models=12, ensembles=1, members=12)
    assert p.consumer_of == (None, 0, *[1] * 10)
    assert p.depths() == (0, 1, *[2] * 10)
    assert p.edges == 11


def test_standalone_models_have_no_edges() -> None:
    p = portfolio(models=5)
    assert p.edges == 0 and p.depths() == (0,) * 5


@given(models=st.integers(1, 300), members=st.integers(2, 20), share=st.floats(0, 1))
def test_edges_are_members_minus_one_per_ensemble(models: int, members: int,
                                                  share: float) -> None:
    ensembles = int(models * share) // members
    p = portfolio(models=models, ensembles=ensembles, members=members)
    assert p.models == models
    assert p.edges == ensembles * (members - 1)
    assert max(p.depths()) <= 2


def test_more_ensemble_members_than_models_is_refused() -> None:
    with pytest.raises(InputError, match=r"ensembles x members\(=2 x 10\) must be at most "
                                         r"models \(15\)"):
        portfolio(models=15, ensembles=2, members=10)

"""Model cards: columns, metrics and resources, and their MLflow tags."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlfleet.ops.registry.card import (
    Column,
    ModelCard,
    Resources,
    card_from_tags,
    card_tags,
    model_name,
    parse_columns,
    parse_metrics,
)
from mlfleet.ops.registry.errors import RegistryInputError


def test_columns_parse_names_and_types() -> None:
    assert parse_columns("inputs", "user_id:int64, emb:float32[64]") == (
        Column(name="user_id", dtype="int64"), Column(name="emb", dtype="float32[64]"))


@pytest.mark.parametrize("text", ["user_id", "user_id:", ":int64", "a:int64,a:int64"])
def test_bad_columns_are_refused(text: str) -> None:
    with pytest.raises(RegistryInputError, match=r"inputs\(="):
        parse_columns("inputs", text)


@pytest.mark.parametrize("item", ["ndcg", "ndcg=", "ndcg=x", "ndcg=nan", "=1", "ndcg=inf"])
def test_bad_metrics_are_refused(item: str) -> None:
    with pytest.raises(RegistryInputError, match=r"metric\(="):
        parse_metrics([item])


@pytest.mark.parametrize("name", ["", "a/b", "a:b", "-a", "x" * 101, "a b"])
def test_bad_model_names_are_refused(name: str) -> None:
    with pytest.raises(RegistryInputError, match=r"name\(="):
        model_name("name", name)


def test_resources_sum_over_replicas_and_refuse_bad_values() -> None:
    res = Resources(replicas=8, gpus_per_replica=1, cpus_per_replica=4)
    assert (res.gpus, res.cpus) == (8, 32)
    with pytest.raises(RegistryInputError, match=r"replicas\(=0\)"):
        Resources(replicas=0)
    with pytest.raises(RegistryInputError, match=r"gpus\(=-1\)"):
        Resources(gpus_per_replica=-1)


_names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)


@given(inputs=st.lists(_names, unique=True, max_size=5),
       metrics=st.dictionaries(_names, st.floats(-1e9, 1e9), max_size=4),
       replicas=st.integers(1, 1000), gpus=st.floats(0, 8))
def test_a_card_survives_its_tags(inputs: list[str], metrics: dict[str, float], replicas: int,
                                  gpus: float) -> None:
    card = ModelCard(name="m", version=3, source_uri="s3://b/m",
                     inputs=tuple(Column(name=n, dtype="int64") for n in inputs),
                     outputs=(Column(name="score", dtype="float32"),), metrics=metrics,
                     resources=Resources(replicas=replicas, gpus_per_replica=gpus), team="t")
    back = card_from_tags(name="m", version=3, source_uri="s3://b/m", tags=card_tags(card))
    assert back == card

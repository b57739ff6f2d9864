"""Ensemble specs: a DAG of pinned members; cycles and dangling edges are refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlfleet.ops.registry.ensemble import (
    EnsembleSpec,
    Member,
    find_cycle,
    load_spec,
    manifest_from_tags,
    manifest_tags,
    spec_from_data,
    topological_order,
    with_member,
)
from mlfleet.ops.registry.errors import RegistryInputError
from mlfleet.ops.registry.model_file import EXAMPLES


def _spec(names: list[str], edges: list[tuple[str, str]]) -> EnsembleSpec:
    return EnsembleSpec(members=tuple(Member(name=n, version=1) for n in names),
                        edges=tuple(edges))


def test_bundled_example_is_a_twelve_model_dag_from_features_to_post_processing() -> None:
    spec = load_spec(EXAMPLES / "recsys-12.yaml")
    order = topological_order(spec)
    assert len(spec.members) == 12 and len(order) == 12
    assert order.index("user-features") < order.index("ranker-dnn") < order.index("business-rules")
    assert all(order.index(p) < order.index(c) for p, c in spec.edges)


def test_a_cycle_is_refused_and_named() -> None:
    with pytest.raises(RegistryInputError, match=r"cycle: b -> c -> d -> b"):
        _spec(["a", "b", "c", "d"], [("a", "b"), ("b", "c"), ("c", "d"), ("d", "b")])


def test_a_self_loop_is_a_cycle() -> None:
    with pytest.raises(RegistryInputError, match=r"cycle: a -> a"):
        _spec(["a"], [("a", "a")])


def test_a_dangling_edge_names_the_missing_end() -> None:
    with pytest.raises(RegistryInputError, match=r"edge\(=a -> ghost\) is dangling: 'ghost'"):
        _spec(["a", "b"], [("a", "ghost")])


def test_a_member_listed_twice_is_refused() -> None:
    with pytest.raises(RegistryInputError, match=r"member\(='a'\) is listed twice"):
        _spec(["a", "a"], [])


@pytest.mark.parametrize(("data", "fragment"), [
    ([], "must be a mapping with a 'members' list"),
    ({"members": [{"name": "a"}]}, "keys name, version"),
    ({"members": [{"name": "a", "version": 0}]}, "version(=0) must be an integer >= 1"),
    ({"members": [{"name": "a", "version": True}]}, "version(=True)"),
    ({"members": [{"name": "a/b", "version": 1}]}, "member(='a/b')"),
    ({"members": [{"name": "a", "version": 1}], "edges": [["a"]]}, "edge(=['a'])"),
    ({"members": [{"name": "a", "version": 1}], "extra": 1}, "unknown key 'extra'"),
])
def test_malformed_specs_say_what_is_allowed(data: object, fragment: str) -> None:
    with pytest.raises(RegistryInputError) as info:
        spec_from_data(data, source="spec.yaml")
    assert fragment in str(info.value)


def test_unreadable_and_invalid_yaml_files_are_input_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("members: [\n")
    with pytest.raises(RegistryInputError, match="not valid YAML"):
        load_spec(bad)
    with pytest.raises(RegistryInputError, match="cannot be read"):
        load_spec(tmp_path / "missing.yaml")


def test_edges_may_be_written_as_from_to_mappings() -> None:
    spec = spec_from_data({"members": [{"name": "a", "version": 1}, {"name": "b", "version": 2}],
                           "edges": [{"from": "a", "to": "b"}]}, source="x")
    assert spec.edges == (("a", "b"),) and spec.producers("b") == ["a"]


def test_manifest_tags_round_trip_and_pin_every_member() -> None:
    spec = with_member(load_spec(EXAMPLES / "recsys-12.yaml"), "ranker-dnn", 7)
    tags = manifest_tags(spec)
    assert tags["pin.ranker-dnn"] == "7" and sum(k.startswith("pin.") for k in tags) == 12
    assert manifest_from_tags("recsys", 3, tags).spec == spec


def test_an_edited_manifest_fails_its_digest() -> None:
    tags = manifest_tags(_spec(["a", "b"], [("a", "b")]))
    tags["mlfleet.manifest"] = tags["mlfleet.manifest"].replace('"a",1', '"a",2')
    with pytest.raises(AssertionError, match="digest"):
        manifest_from_tags("x", 1, tags)


@st.composite
def _dags(draw: st.DrawFn) -> tuple[list[str], list[tuple[str, str]]]:
    n = draw(st.integers(1, 14))
    names = [f"m{i}" for i in range(n)]
    pairs = [(names[i], names[j]) for i in range(n) for j in range(i + 1, n)]
    edges = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=30)) if pairs else []
    order = draw(st.permutations(names))
    return list(order), edges


@given(_dags())
def test_a_dag_has_no_cycle_and_a_topological_order(dag: tuple[list[str], list[tuple[str, str]]]) -> None:
    names, edges = dag
    spec = _spec(names, edges)
    order = topological_order(spec)
    assert sorted(order) == sorted(names)
    assert all(order.index(p) < order.index(c) for p, c in edges)


@given(_dags(), st.data())
def test_a_back_edge_makes_a_cycle_that_is_found_and_real(
        dag: tuple[list[str], list[tuple[str, str]]], data: st.DataObject) -> None:
    names, edges = dag
    if not edges:
        return
    producer, consumer = data.draw(st.sampled_from(edges))
    cyclic = [*edges, (consumer, producer)]
    cycle = find_cycle(names, tuple(cyclic))
    assert cycle is not None and cycle[0] == cycle[-1]
    assert all((a, b) in cyclic for a, b in zip(cycle, cycle[1:], strict=False))


def test_a_version_without_a_manifest_is_not_an_ensemble() -> None:
    with pytest.raises(RegistryInputError, match="has no mlfleet manifest"):
        manifest_from_tags("x", 1, {"other": "tag"})

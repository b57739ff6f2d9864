"""Promotion, canary and rollback on a real MLflow registry (SQLite): gates first, one
transaction, and a refused or failed promotion leaves every row of the file as it was."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlfleet.ops.registry import audit
from mlfleet.ops.registry.card import Column
from mlfleet.ops.registry.ensemble import (
    EnsembleSpec,
    Manifest,
    create_version,
    read_manifest,
    with_member,
)
from mlfleet.ops.registry.errors import ConcurrentChange, GateFailed, RegistryInputError
from mlfleet.ops.registry.gates import parse_gate
from mlfleet.ops.registry.promote import canary, promote, rollback
from mlfleet.ops.registry.resolve import resolve, resolve_alias, unit_bucket
from mlfleet.ops.registry.store import RegistryStore

E = "recsys"
Snapshot = Callable[[Path], dict[str, list[tuple[Any, ...]]]]
"""The ``snapshot`` fixture: every row of every table of a SQLite file."""


def _better_dnn(store: RegistryStore, spec: EnsembleSpec, ndcg: float = 0.36) -> Manifest:
    dnn = store.register(dataclasses.replace(store.card("ranker-dnn", 1), metrics={"ndcg": ndcg}))
    return create_version(store, E, with_member(spec, "ranker-dnn", dnn.version))


def test_promotion_flips_one_alias_and_records_it(store: RegistryStore,
                                                  spec: EnsembleSpec) -> None:
    v1 = create_version(store, E, spec)
    done = promote(store, E, v1.version, gates=[parse_gate("ndcg>=0.30")], who="ana", why="go")
    assert done.to_version == 1 and all(g.passed for g in done.gates)
    assert store.aliases("ensemble.recsys") == {"production": 1}
    assert resolve_alias(store, E).manifest == v1
    [row] = audit.rows(store, E)
    assert (row.alias, row.from_version, row.to_version, row.who, row.why) == (
        "production", None, 1, "ana", "go")


def test_a_failed_metric_gate_changes_nothing(store: RegistryStore, spec: EnsembleSpec,
                                              snapshot: Snapshot) -> None:
    promote(store, E, create_version(store, E, spec).version, who="a", why="")
    worse = _better_dnn(store, spec, ndcg=0.25)
    before = snapshot(store.path)
    with pytest.raises(GateFailed, match=r"gate ranker-dnn.ndcg>=0.3 failed: ranker-dnn@v2 has "
                                         r"ndcg=0.25; the registry is unchanged"):
        promote(store, E, worse.version, gates=[parse_gate("ranker-dnn.ndcg>=0.30")],
                who="a", why="")
    assert snapshot(store.path) == before


def test_a_schema_mismatch_along_an_edge_is_refused(store: RegistryStore, spec: EnsembleSpec,
                                                    snapshot: Snapshot) -> None:
    mtl = store.card("ranker-mtl", 1)
    inputs = tuple(Column(name=c.name, dtype="float16[64]") if c.name == "user_emb" else c
                   for c in mtl.inputs)
    bad = store.register(dataclasses.replace(mtl, inputs=inputs))
    version = create_version(store, E, with_member(spec, "ranker-mtl", bad.version)).version
    before = snapshot(store.path)
    with pytest.raises(GateFailed, match=r"user-features outputs user_emb:float32\[64\], "
                                         r"ranker-mtl reads user_emb:float16\[64\]"):
        promote(store, E, version, who="a", why="")
    assert snapshot(store.path) == before


def test_an_input_no_producer_offers_is_refused(store: RegistryStore, spec: EnsembleSpec) -> None:
    rules = store.card("business-rules", 1)
    bad = store.register(dataclasses.replace(
        rules, inputs=(*rules.inputs, Column(name="price", dtype="float32"))))
    version = create_version(store, E, with_member(spec, "business-rules", bad.version)).version
    with pytest.raises(GateFailed, match=r"input price:float32 is produced by none of "
                                         r"diversity-rerank"):
        promote(store, E, version, who="a", why="")


def test_a_retired_member_fails_the_member_gate(store: RegistryStore, spec: EnsembleSpec) -> None:
    version = create_version(store, E, spec).version
    store.set_version_tag("ranker-light", 1, "mlfleet.status", "retired")
    with pytest.raises(GateFailed, match=r"gate member ranker-light@v1 failed: retired"):
        promote(store, E, version, who="a", why="")


def test_a_failure_injected_inside_the_transaction_rolls_everything_back(
        store: RegistryStore, spec: EnsembleSpec, snapshot: Snapshot) -> None:
    promote(store, E, create_version(store, E, spec).version, who="a", why="")
    promote(store, E, _better_dnn(store, spec).version, who="a", why="")
    v3 = _better_dnn(store, spec, ndcg=0.37)
    canary(store, E, v3.version, share=0.2, who="a", why="")
    before = snapshot(store.path)

    def crash() -> None:  # after the alias rows and the audit rows are written, before commit
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError, match="power cut"):
        promote(store, E, v3.version, who="a", why="", before_commit=crash)
    assert snapshot(store.path) == before
    with pytest.raises(RuntimeError, match="power cut"):
        rollback(store, E, who="a", why="", before_commit=crash)
    assert snapshot(store.path) == before


def test_a_stale_expectation_is_a_concurrent_change_and_writes_nothing(
        store: RegistryStore, spec: EnsembleSpec, snapshot: Snapshot) -> None:
    from mlfleet.ops.registry.alias_write import AliasMove, apply_moves

    promote(store, E, create_version(store, E, spec).version, who="a", why="")
    v2 = _better_dnn(store, spec)
    before = snapshot(store.path)
    stale = AliasMove(ensemble=E, model="ensemble.recsys", alias="production", expected=None,
                      target=v2.version, action="promote")
    with pytest.raises(ConcurrentChange, match="is v1, expected vNone"):
        apply_moves(store, [stale], who="a", why="")
    assert snapshot(store.path) == before


def test_canary_routes_a_stable_share_of_units(store: RegistryStore, spec: EnsembleSpec) -> None:
    promote(store, E, create_version(store, E, spec).version, who="a", why="")
    v2 = _better_dnn(store, spec)
    canary(store, E, v2.version, share=0.25, who="a", why="")
    units = [f"user-{i}" for i in range(40)]
    first = {u: resolve(store, E, u) for u in units}
    assert all(r.alias == ("canary" if r.bucket is not None and r.bucket < 0.25 else "production")
               for r in first.values())
    assert {r.manifest.version for r in first.values() if r.alias == "canary"} == {v2.version}
    assert all(resolve(store, E, u).alias == first[u].alias for u in units)  # stable per unit


def test_hashing_gives_each_side_its_share() -> None:
    n, share = 20_000, 0.1
    on_canary = sum(unit_bucket(E, f"user-{i}") < share for i in range(n))
    sigma = (n * share * (1 - share)) ** 0.5  # binomial: 42.4
    assert abs(on_canary - n * share) < 4 * sigma, on_canary


def test_canary_needs_production_and_a_valid_share(store: RegistryStore, spec: EnsembleSpec) -> None:
    v1 = create_version(store, E, spec)
    with pytest.raises(RegistryInputError, match="no production version yet"):
        canary(store, E, v1.version, share=0.1, who="a", why="")
    with pytest.raises(RegistryInputError, match=r"share\(=1.5\)"):
        canary(store, E, v1.version, share=1.5, who="a", why="")


def test_rollback_restores_the_previous_ensemble_exactly_and_clears_the_canary(
        store: RegistryStore, spec: EnsembleSpec) -> None:
    v1 = create_version(store, E, spec)
    promote(store, E, v1.version, who="a", why="")
    v2 = _better_dnn(store, spec)
    promote(store, E, v2.version, who="a", why="")
    v3 = _better_dnn(store, spec, ndcg=0.37)
    canary(store, E, v3.version, share=0.5, who="a", why="")
    done = rollback(store, E, who="b", why="CTR dropped")
    assert (done.from_version, done.to_version) == (v2.version, v1.version)
    live = resolve_alias(store, E).manifest
    assert live == v1 == read_manifest(store, E, v1.version)
    assert live.to_json() == v1.to_json()  # every member version and every edge
    assert store.aliases("ensemble.recsys") == {"production": v1.version}
    assert "mlfleet.canary_share" not in store.model_tags("ensemble.recsys")
    with pytest.raises(RegistryInputError, match="no earlier production version"):
        rollback(store, E, who="b", why="")


def test_nothing_to_roll_back_to_is_an_input_error(store: RegistryStore, spec: EnsembleSpec) -> None:
    promote(store, E, create_version(store, E, spec).version, who="a", why="")
    with pytest.raises(RegistryInputError, match="no earlier production version"):
        rollback(store, E, who="a", why="")


def test_unknown_versions_and_repeat_promotions_are_input_errors(
        store: RegistryStore, spec: EnsembleSpec) -> None:
    with pytest.raises(RegistryInputError, match=r"ensemble.recsys@v9 is unknown"):
        promote(store, E, 9, who="a", why="")
    version = create_version(store, E, spec).version
    promote(store, E, version, who="a", why="")
    with pytest.raises(RegistryInputError, match="already production"):
        promote(store, E, version, who="a", why="")


def test_a_zero_share_ends_the_canary_once(store: RegistryStore, spec: EnsembleSpec) -> None:
    promote(store, E, create_version(store, E, spec).version, who="a", why="")
    v2 = _better_dnn(store, spec)
    canary(store, E, v2.version, share=0.1, who="a", why="")
    done = canary(store, E, v2.version, share=0, who="a", why="enough")
    assert (done.from_version, done.to_version) == (v2.version, None)
    assert "canary" not in store.aliases("ensemble.recsys")
    assert resolve(store, E, "anyone").alias == "production"
    with pytest.raises(RegistryInputError, match="no canary to end"):
        canary(store, E, v2.version, share=0, who="a", why="")

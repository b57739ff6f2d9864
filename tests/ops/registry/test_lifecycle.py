"""Deprecation, retirement with traffic migration and reclaimed resources, retention."""

from __future__ import annotations

import dataclasses

import pytest

from mlfleet.ops.registry.ensemble import EnsembleSpec, create_version, with_member
from mlfleet.ops.registry.errors import RegistryInputError
from mlfleet.ops.registry.lifecycle import deprecate, pins, retention, retire
from mlfleet.ops.registry.promote import canary, promote
from mlfleet.ops.registry.resolve import resolve_alias
from mlfleet.ops.registry.store import RegistryStore

E = "recsys"


def _dnn_v2(store: RegistryStore) -> int:
    return store.register(dataclasses.replace(store.card("ranker-dnn", 1),
                                              metrics={"ndcg": 0.36})).version


def test_a_deprecated_member_still_serves_but_blocks_new_versions(
        store: RegistryStore, spec: EnsembleSpec) -> None:
    promote(store, E, create_version(store, E, spec).version, who="a", why="")
    live = deprecate(store, "ranker-light", 1, reason="use ranker-light v2")
    assert [(p.ensemble, p.version, p.aliases) for p in live] == [(E, 1, ("production",))]
    assert resolve_alias(store, E).manifest.members()["ranker-light"] == 1  # still serves
    with pytest.raises(RegistryInputError, match=r"ranker-light@v1 is deprecated \(use "
                                                 r"ranker-light v2\); new ensemble versions"):
        create_version(store, E, spec)


def test_retirement_is_refused_while_a_live_ensemble_pins_the_version(
        store: RegistryStore, spec: EnsembleSpec) -> None:
    promote(store, E, create_version(store, E, spec).version, who="a", why="")
    with pytest.raises(RegistryInputError, match=r"ranker-dnn@v1 serves live ensembles: "
                                                 r"recsys v1 \(production\); retire it with "
                                                 r"--migrate-to"):
        retire(store, "ranker-dnn", 1, who="a", why="old")
    assert store.card("ranker-dnn", 1).status == "active"


def test_retirement_migrates_production_and_canary_and_reclaims_resources(
        store: RegistryStore, spec: EnsembleSpec) -> None:
    promote(store, E, create_version(store, E, spec).version, who="a", why="")
    light2 = store.register(store.card("ranker-light", 1)).version
    v2 = create_version(store, E, with_member(spec, "ranker-light", light2))
    canary(store, E, v2.version, share=0.3, who="a", why="")  # the canary pins ranker-dnn v1 too
    dnn2 = _dnn_v2(store)
    done = retire(store, "ranker-dnn", 1, migrate_to=dnn2, who="ops", why="v2 is better")
    assert {(m.alias, m.from_version) for m in done.migrated} == {("production", 1),
                                                                   ("canary", 2)}
    assert (done.reclaimed.replicas, done.reclaimed.gpus) == (8, 8.0)  # 8 replicas x 1 GPU
    assert [(p.ensemble, p.version) for p in done.pinned_by] == [(E, 1), (E, 2)]
    assert store.card("ranker-dnn", 1).status == "retired"
    assert resolve_alias(store, E).manifest.members()["ranker-dnn"] == dnn2
    assert resolve_alias(store, E, "canary").manifest.members() == {
        **v2.members(), "ranker-dnn": dnn2}
    assert not any(p.live for p in pins(store, "ranker-dnn", 1))
    with pytest.raises(RegistryInputError, match="already retired"):
        retire(store, "ranker-dnn", 1, who="a", why="")


def test_an_idle_version_retires_without_migration(store: RegistryStore) -> None:
    done = retire(store, "ranker-mtl", 1, who="a", why="unused")
    assert done.migrated == () and done.reclaimed.gpus == 6


def test_retention_keeps_live_and_rollback_versions_plus_the_newest_n(
        store: RegistryStore, spec: EnsembleSpec) -> None:
    versions = [_dnn_v2(store) for _ in range(4)]  # ranker-dnn v2..v5
    promote(store, E, create_version(store, E, spec).version, who="a", why="")  # pins v1
    promote(store, E, create_version(store, E, with_member(spec, "ranker-dnn", 3)).version,
            who="a", why="")
    assert versions == [2, 3, 4, 5]
    kept, doomed = retention(store, "ranker-dnn", keep=1)
    assert (kept, doomed) == ([1, 3, 5], [2, 4])  # v3 live, v1 the rollback target, v5 newest
    assert retention(store, "ranker-dnn", keep=0) == ([1, 3], [2, 4, 5])
    assert retention(store, "ensemble.recsys", keep=0) == ([1, 2], [])
    with pytest.raises(RegistryInputError, match=r"keep\(=-1\)"):
        retention(store, "ranker-dnn", keep=-1)
    with pytest.raises(RegistryInputError, match=r"model\(='nope'\) is unknown"):
        retention(store, "nope", keep=1)


def test_rollback_to_an_ensemble_that_pins_a_retired_member_is_refused(
        store: RegistryStore, spec: EnsembleSpec) -> None:
    from mlfleet.ops.registry.errors import GateFailed
    from mlfleet.ops.registry.promote import rollback

    promote(store, E, create_version(store, E, spec).version, who="a", why="")
    retire(store, "ranker-dnn", 1, migrate_to=_dnn_v2(store), who="a", why="")
    with pytest.raises(GateFailed, match=r"rollback of recsys to v1 refused: gate member "
                                         r"ranker-dnn@v1 failed: retired"):
        rollback(store, E, who="a", why="")

"""A one-command tour of the registry on the bundled 12-model recommendation ensemble.

Registers the twelve models, creates ensemble ``recsys`` v1 and promotes it behind a metric
gate, registers a better ranker, canaries v2 at 10% and promotes it, shows a schema gate
refusing v3 with the registry unchanged, rolls back to v1 (checking the manifest is v1's
exactly) and returns the steps; the audit history is then in the store.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from mlfleet.ops.registry.card import Column, ModelCard
from mlfleet.ops.registry.ensemble import (
    EnsembleSpec,
    create_version,
    load_spec,
    read_manifest,
    with_member,
)
from mlfleet.ops.registry.errors import GateFailed
from mlfleet.ops.registry.gates import parse_gate
from mlfleet.ops.registry.model_file import EXAMPLES, load_cards
from mlfleet.ops.registry.promote import canary, promote, rollback
from mlfleet.ops.registry.resolve import canary_share, resolve, resolve_alias, unit_bucket
from mlfleet.ops.registry.store import RegistryStore

ENSEMBLE = "recsys"
UNITS = 10_000
"""Unit ids hashed against the canary's stored share to count its real share."""


@dataclass(frozen=True, kw_only=True)
class DemoStep:
    """One step of the tour and what it showed."""

    action: str
    detail: str


def run_demo(store: RegistryStore, *, who: str = "demo") -> list[DemoStep]:
    """Run the tour against ``store`` (an empty registry); the steps, in order."""
    steps = []
    cards = {c.name: store.register(c) for c in load_cards(EXAMPLES / "recsys-models.yaml")}
    steps.append(DemoStep(action="register", detail=f"{len(cards)} models, v1 each"))
    spec = load_spec(EXAMPLES / "recsys-12.yaml")
    v1 = create_version(store, ENSEMBLE, spec)
    promote(store, ENSEMBLE, v1.version, gates=[parse_gate("ndcg>=0.30")], who=who,
            why="first launch")
    steps.append(DemoStep(action="promote", detail=f"{ENSEMBLE} v{v1.version} "
                          f"({len(spec.members)} members, {len(spec.edges)} edges), gate "
                          "ndcg>=0.30"))
    dnn = store.register(dataclasses.replace(cards["ranker-dnn"], metrics={"ndcg": 0.36}))
    v2 = create_version(store, ENSEMBLE, _swap(spec, dnn))
    canary(store, ENSEMBLE, v2.version, share=0.1, who=who, why="ranker-dnn v2 at 10%")
    aliases, tags = store.registered(f"ensemble.{ENSEMBLE}") or ({}, {})
    share = canary_share(tags, aliases.get("canary"))
    on_canary = sum(unit_bucket(ENSEMBLE, f"user-{i}") < share for i in range(UNITS))
    sample = resolve(store, ENSEMBLE, "user-0")
    steps.append(DemoStep(action="canary", detail=f"v{v2.version} at {share:.0%}: {on_canary} of "
                          f"{UNITS} user ids hash to it (user-0 -> {sample.alias} "
                          f"v{sample.manifest.version})"))
    promote(store, ENSEMBLE, v2.version, gates=[parse_gate("ndcg>=0.30")], who=who,
            why="canary healthy")
    steps.append(DemoStep(action="promote", detail=f"v{v2.version} (ranker-dnn v{dnn.version})"))
    steps.append(_refused(store, cards["ranker-mtl"], _swap(spec, dnn), who=who))
    rollback(store, ENSEMBLE, who=who, why="online metrics dropped")
    live = resolve_alias(store, ENSEMBLE).manifest
    exact = live == read_manifest(store, ENSEMBLE, v1.version)
    steps.append(DemoStep(action="rollback", detail=f"production is v{live.version} "
                          f"again; manifest identical to v{v1.version}: {exact}"))
    return steps


def _refused(store: RegistryStore, mtl: ModelCard, spec: EnsembleSpec, *, who: str) -> DemoStep:
    """Register a ranker-mtl that reads user_emb as float16: the schema gate refuses it."""
    bad_inputs = tuple(Column(name=c.name, dtype="float16[64]") if c.name == "user_emb" else c
                       for c in mtl.inputs)
    bad = store.register(dataclasses.replace(mtl, inputs=bad_inputs))
    v3 = create_version(store, ENSEMBLE, _swap(spec, bad))
    before = store.aliases(f"ensemble.{ENSEMBLE}")
    try:
        promote(store, ENSEMBLE, v3.version, who=who, why="new multi-task ranker")
    except GateFailed as exc:
        unchanged = store.aliases(f"ensemble.{ENSEMBLE}") == before
        return DemoStep(action="refused", detail=f"{str(exc).split('; the registry')[0]}; "
                        f"aliases unchanged: {unchanged}")
    raise AssertionError("the schema gate let a float16 input through")


def _swap(spec: EnsembleSpec, card: ModelCard) -> EnsembleSpec:
    return with_member(spec, card.name, card.version)

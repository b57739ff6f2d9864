"""Ensembles: a dependency graph of registered model versions, pinned as one manifest.

A recommendation pipeline is a DAG of models (feature providers -> rankers ->
post-processing); an edge ``producer -> consumer`` says the consumer reads the producer's
output. An *ensemble version* is a version of the registered model ``ensemble.NAME`` whose
tags pin every member version and every edge (the manifest, with its SHA-256) and are never
changed afterwards; per-member ``pin.MODEL`` tags let retirement find the ensembles that pin
a version. Promoting an ensemble therefore moves one alias and nothing else.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlfleet.ops.registry.card import model_name
from mlfleet.ops.registry.errors import RegistryInputError
from mlfleet.ops.registry.store import RegistryStore
from mlfleet.ops.registry.yaml_file import read_yaml

ENSEMBLE_PREFIX = "ensemble."
MANIFEST_TAG = "mlfleet.manifest"
DIGEST_TAG = "mlfleet.manifest_sha256"
PIN_PREFIX = "pin."


@dataclass(frozen=True, kw_only=True)
class Member:
    """One pinned member: a registered model and the version the ensemble uses."""

    name: str
    version: int


@dataclass(frozen=True, kw_only=True)
class EnsembleSpec:
    """Members and producer -> consumer edges; validated as a DAG on construction."""

    members: tuple[Member, ...]
    edges: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        names = [m.name for m in self.members]
        if not names:
            raise RegistryInputError("ensemble(members=[]) must have at least one member")
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise RegistryInputError(f"member(={repeated[0]!r}) is listed twice; an ensemble "
                                     "pins one version per model")
        for producer, consumer in self.edges:
            for end in (producer, consumer):
                if end not in names:
                    raise RegistryInputError(f"edge(={producer} -> {consumer}) is dangling: "
                                             f"{end!r} is not a member; members: "
                                             f"{', '.join(names)}")
        cycle = find_cycle(names, self.edges)
        if cycle:
            raise RegistryInputError(f"ensemble has a cycle: {' -> '.join(cycle)}; edges must "
                                     "form a DAG (producers before consumers)")

    def producers(self, name: str) -> list[str]:
        """The members whose output ``name`` reads."""
        return [p for p, c in self.edges if c == name]


def with_member(spec: EnsembleSpec, name: str, version: int) -> EnsembleSpec:
    """``spec`` with member ``name`` pinned at ``version`` instead."""
    if name not in {m.name for m in spec.members}:
        raise RegistryInputError(f"member(={name!r}) is not in the ensemble")
    members = tuple(Member(name=name, version=version) if m.name == name else m
                    for m in spec.members)
    return EnsembleSpec(members=members, edges=spec.edges)


def find_cycle(nodes: list[str], edges: tuple[tuple[str, str], ...]) -> list[str] | None:
    """One cycle as ``[a, b, ..., a]`` if the directed graph has one, else None (DFS)."""
    successors: dict[str, list[str]] = {n: [] for n in nodes}
    for producer, consumer in edges:
        successors[producer].append(consumer)
    state = dict.fromkeys(nodes, 0)  # 0 unseen, 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in successors[node]:
            if state[nxt] == 1:
                return [*stack[stack.index(nxt):], nxt]
            if state[nxt] == 0 and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in nodes:
        if state[node] == 0 and (found := visit(node)):
            return found
    return None


def topological_order(spec: EnsembleSpec) -> list[str]:
    """Members with every producer before its consumers (ties in listing order)."""
    done: list[str] = []
    remaining = [m.name for m in spec.members]
    while remaining:
        ready = next(n for n in remaining if all(p in done for p in spec.producers(n)))
        done.append(ready)
        remaining.remove(ready)
    return done


def spec_from_data(data: Any, *, source: str) -> EnsembleSpec:
    """An :class:`EnsembleSpec` from parsed YAML: ``members: [{name, version}]``,
    ``edges: [[producer, consumer]]`` (or ``{from, to}``)."""
    if not isinstance(data, dict) or not isinstance(data.get("members"), list):
        raise RegistryInputError(f"spec(={source!r}) must be a mapping with a 'members' list")
    unknown = sorted(set(data) - {"members", "edges", "description"})
    if unknown:
        raise RegistryInputError(f"spec(={source!r}) has unknown key {unknown[0]!r}; "
                                 "known: members, edges, description")
    members = tuple(_member(item) for item in data["members"])
    edges = tuple(_edge(item) for item in data.get("edges") or [])
    return EnsembleSpec(members=members, edges=edges)


def load_spec(path: Path) -> EnsembleSpec:
    """Read an ensemble spec file (YAML)."""
    return spec_from_data(read_yaml("spec", path), source=str(path))


def _member(item: Any) -> Member:
    if not isinstance(item, dict) or set(item) != {"name", "version"}:
        raise RegistryInputError(f"member(={item!r}) must be a mapping with keys name, version")
    version = item["version"]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise RegistryInputError(f"member {item['name']!r} version(={version!r}) must be an "
                                 "integer >= 1")
    return Member(name=model_name("member", item["name"]), version=version)


def _edge(item: Any) -> tuple[str, str]:
    if isinstance(item, dict) and set(item) == {"from", "to"}:
        item = [item["from"], item["to"]]
    if not isinstance(item, list) or len(item) != 2 or not all(isinstance(e, str) for e in item):
        raise RegistryInputError(f"edge(={item!r}) must be [producer, consumer] or "
                                 "{from: producer, to: consumer}")
    return item[0], item[1]


@dataclass(frozen=True, kw_only=True)
class Manifest:
    """What one ensemble version pins: every member version and every edge."""

    ensemble: str
    version: int
    spec: EnsembleSpec

    def to_json(self) -> str:
        """The canonical JSON the version's tag holds (its SHA-256 is stored beside it)."""
        return manifest_json(self.spec)

    def members(self) -> dict[str, int]:
        """Member name -> pinned version."""
        return {m.name: m.version for m in self.spec.members}


def manifest_json(spec: EnsembleSpec) -> str:
    """Canonical JSON of a spec: members and edges in listing order, no whitespace."""
    return json.dumps({"members": [[m.name, m.version] for m in spec.members],
                       "edges": [list(e) for e in spec.edges]}, separators=(",", ":"))


def sha256(text: str) -> str:
    """Hex SHA-256 of UTF-8 text."""
    return hashlib.sha256(text.encode()).hexdigest()


def ensemble_model(name: str) -> str:
    """The registered model that holds the versions of ensemble ``name``."""
    return ENSEMBLE_PREFIX + model_name("ensemble", name)


def manifest_from_tags(ensemble: str, version: int, tags: dict[str, str]) -> Manifest:
    """Rebuild a manifest from its version's tags, checking the digest (a torn or edited
    manifest raises AssertionError: it is an invariant, not user input)."""
    if MANIFEST_TAG not in tags or DIGEST_TAG not in tags:
        raise RegistryInputError(f"{ENSEMBLE_PREFIX}{ensemble} v{version} has no mlfleet "
                                 "manifest: it was not created by `ensemble create`")
    text = tags[MANIFEST_TAG]
    assert sha256(text) == tags[DIGEST_TAG], f"manifest of {ensemble} v{version} fails its digest"
    data = json.loads(text)
    spec = EnsembleSpec(members=tuple(Member(name=n, version=v) for n, v in data["members"]),
                        edges=tuple((p, c) for p, c in data["edges"]))
    return Manifest(ensemble=ensemble, version=version, spec=spec)


def manifest_tags(spec: EnsembleSpec) -> dict[str, str]:
    """The immutable tags of a new ensemble version."""
    text = manifest_json(spec)
    pins = {PIN_PREFIX + m.name: str(m.version) for m in spec.members}
    return {MANIFEST_TAG: text, DIGEST_TAG: sha256(text), "mlfleet.kind": "ensemble", **pins}


def read_manifest(store: RegistryStore, ensemble: str, version: int) -> Manifest:
    """The manifest of one ensemble version (unknown -> RegistryInputError)."""
    tags = store.version_tags(ensemble_model(ensemble), version)
    return manifest_from_tags(ensemble, version, tags)


def create_version(store: RegistryStore, ensemble: str, spec: EnsembleSpec, *,
                   description: str = "") -> Manifest:
    """Register a new ensemble version pinning ``spec``.

    Every member must exist and be active: a deprecated or retired member blocks new
    versions that pin it (RegistryInputError names it and its reason).
    """
    model = ensemble_model(ensemble)
    for member in spec.members:
        if member.name.startswith(ENSEMBLE_PREFIX):
            raise RegistryInputError(f"member(={member.name!r}) is an ensemble; members are "
                                     "models")
        card = store.card(member.name, member.version)
        if card.status != "active":
            reason = f" ({card.status_reason})" if card.status_reason else ""
            raise RegistryInputError(f"member {card.ref} is {card.status}{reason}; new "
                                     "ensemble versions may not pin it")
    store.ensure_model(model)
    mv = store.client.create_model_version(
        model, source=f"mlfleet-ensemble:{ensemble}", tags=manifest_tags(spec),
        description=description or None)
    return Manifest(ensemble=ensemble, version=int(mv.version), spec=spec)


def ensemble_names(store: RegistryStore) -> list[str]:
    """Every ensemble in the store, sorted."""
    return [m.removeprefix(ENSEMBLE_PREFIX) for m in store.model_names()
            if m.startswith(ENSEMBLE_PREFIX)]

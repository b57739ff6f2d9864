"""Deprecation, retirement with traffic migration, reclaimed resources, version retention.

* A *deprecated* version still serves wherever an ensemble pins it, but no new ensemble
  version may pin it (:func:`~mlfleet.ops.registry.ensemble.create_version` refuses).
* *Retirement* is refused while a live ensemble (one whose ``production`` or ``canary``
  alias pins the version) uses it, unless a successor version is named: then each live
  ensemble gets a new version with the member swapped, promoted through the gates, and the
  retired version's resources (replicas x GPUs / CPUs) are reported as reclaimed.
* *Retention* keeps the newest N versions of a model that nothing live pins and lists the
  rest for deletion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mlfleet.checks import positive_int
from mlfleet.ops.registry import audit
from mlfleet.ops.registry.card import Resources
from mlfleet.ops.registry.ensemble import (
    ENSEMBLE_PREFIX,
    PIN_PREFIX,
    create_version,
    ensemble_model,
    read_manifest,
    with_member,
)
from mlfleet.ops.registry.errors import RegistryInputError
from mlfleet.ops.registry.gates import MetricGate
from mlfleet.ops.registry.promote import CANARY, PRODUCTION, Outcome, canary, promote
from mlfleet.ops.registry.resolve import canary_share
from mlfleet.ops.registry.store import RegistryStore


@dataclass(frozen=True, kw_only=True)
class Pin:
    """An ensemble version that pins a model version, and the aliases it holds."""

    ensemble: str
    version: int
    aliases: tuple[str, ...]

    @property
    def live(self) -> bool:
        """Whether it serves traffic (holds production or canary)."""
        return bool({PRODUCTION, CANARY} & set(self.aliases))


@dataclass(frozen=True, kw_only=True)
class Retirement:
    """What a retirement did."""

    member: str
    version: int
    pinned_by: tuple[Pin, ...]
    """Every ensemble version that pinned it when it was retired (live ones were migrated)."""
    migrated: tuple[Outcome, ...]
    reclaimed: Resources


def deprecate(store: RegistryStore, name: str, version: int, *, reason: str) -> list[Pin]:
    """Mark a version deprecated; returns the live ensembles that still pin it."""
    card = store.card(name, version)
    if card.status == "retired":
        raise RegistryInputError(f"{card.ref} is retired; it cannot be deprecated")
    store.set_version_tag(name, version, "mlfleet.status_reason", reason)
    store.set_version_tag(name, version, "mlfleet.status", "deprecated")
    return [p for p in pins(store, name, version) if p.live]


def pins(store: RegistryStore, name: str, version: int) -> list[Pin]:
    """Every ensemble version that pins ``name@vversion``."""
    key = (PIN_PREFIX + name).replace("`", "")
    found = store.client.search_model_versions(filter_string=f"tags.`{key}` = '{version}'")
    result = []
    for mv in found:
        if not mv.name.startswith(ENSEMBLE_PREFIX):
            continue
        ensemble = mv.name.removeprefix(ENSEMBLE_PREFIX)
        aliases = store.aliases(mv.name)
        held = tuple(sorted(a for a, v in aliases.items() if v == int(mv.version)))
        result.append(Pin(ensemble=ensemble, version=int(mv.version), aliases=held))
    return sorted(result, key=lambda p: (p.ensemble, p.version))


def retire(store: RegistryStore, name: str, version: int, *, migrate_to: int | None = None,
           gates: Sequence[MetricGate] = (), who: str, why: str) -> Retirement:
    """Retire ``name@vversion``; with ``migrate_to`` first move every live ensemble to it."""
    card = store.card(name, version)
    if card.status == "retired":
        raise RegistryInputError(f"{card.ref} is already retired")
    pinned = pins(store, name, version)
    live = [p for p in pinned if p.live]
    if live and migrate_to is None:
        shown = ", ".join(f"{p.ensemble} v{p.version} ({'/'.join(p.aliases)})" for p in live)
        raise RegistryInputError(f"{card.ref} serves live ensembles: {shown}; retire it with "
                                 "--migrate-to VERSION to move them first")
    if migrate_to is not None:
        store.card(name, migrate_to)  # the successor must exist
    migrated = tuple(_migrate(store, pin, name, migrate_to, gates=gates, who=who, why=why)
                     for pin in live if migrate_to is not None)
    store.set_version_tag(name, version, "mlfleet.status_reason", why)
    store.set_version_tag(name, version, "mlfleet.status", "retired")
    return Retirement(member=name, version=version, pinned_by=tuple(pinned), migrated=migrated,
                      reclaimed=card.resources)


def _migrate(store: RegistryStore, pin: Pin, name: str, successor: int, *,
             gates: Sequence[MetricGate], who: str, why: str) -> Outcome:
    spec = read_manifest(store, pin.ensemble, pin.version).spec
    new = create_version(store, pin.ensemble, with_member(spec, name, successor),
                         description=f"{name} v{successor} replaces a retired version")
    if PRODUCTION not in pin.aliases:  # a canary: the successor takes its alias and share
        model = ensemble_model(pin.ensemble)
        share = canary_share(store.model_tags(model), store.aliases(model).get(CANARY))
        return canary(store, pin.ensemble, new.version, share=share, gates=gates, who=who,
                      why=f"migrate: {why}")
    return promote(store, pin.ensemble, new.version, gates=gates, who=who,
                   why=f"migrate: {why}")


def retention(store: RegistryStore, name: str, *, keep: int) -> tuple[list[int], list[int]]:
    """(kept, to delete) for a keep-last-N policy: every version that is live or a rollback
    target (for a member: pinned by such an ensemble version) is kept, plus the newest
    ``keep`` of the others; the rest would be deleted."""
    keep = positive_int("keep", keep, minimum=0, error=RegistryInputError)
    if not store.model_exists(name):
        raise RegistryInputError(f"model(={name!r}) is unknown; known: "
                                 f"{', '.join(store.model_names()) or 'none'}")
    versions = store.versions(name)
    if name.startswith(ENSEMBLE_PREFIX):
        held = _protected(store, name.removeprefix(ENSEMBLE_PREFIX))
    else:
        held = {v for v in versions
                if any(p.version in _protected(store, p.ensemble) for p in pins(store, name, v))}
    others = [v for v in versions if v not in held]
    spare = set(others[len(others) - keep:]) if keep else set()
    return sorted(held | spare), [v for v in others if v not in spare]


def _protected(store: RegistryStore, ensemble: str) -> set[int]:
    """Ensemble versions that hold an alias or that a rollback would restore."""
    held = set(store.aliases(ensemble_model(ensemble)).values())
    target = audit.rollback_target(audit.rows(store, ensemble))
    return held | ({target} if target is not None else set())

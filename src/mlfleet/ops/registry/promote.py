"""Promotion, partial rollout and coordinated rollback of ensemble versions.

Promotion moves one alias, ``production``, on the ensemble's registered model, after the
gates (:mod:`gates`) pass. Because an ensemble version's manifest is immutable, a reader
that resolves the alias and then reads the pinned manifest sees either the old ensemble or
the new one, never a mix. A canary is the ``canary`` alias plus its traffic share; rollback
moves ``production`` back to the version that was live before the current one was promoted
(replayed from the audit history) and clears the canary, in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mlfleet.checks import fraction
from mlfleet.ops.registry import audit
from mlfleet.ops.registry.alias_write import AliasMove, apply_moves
from mlfleet.ops.registry.ensemble import ensemble_model, read_manifest
from mlfleet.ops.registry.errors import RegistryInputError
from mlfleet.ops.registry.gates import GateResult, MetricGate, evaluate, require
from mlfleet.ops.registry.store import RegistryStore

PRODUCTION = "production"
CANARY = "canary"


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What a promotion, canary or rollback did."""

    ensemble: str
    alias: str
    from_version: int | None
    to_version: int | None
    gates: tuple[GateResult, ...] = ()


def promote(store: RegistryStore, ensemble: str, version: int, *,
            gates: Sequence[MetricGate] = (), who: str, why: str,
            before_commit: Callable[[], None] | None = None) -> Outcome:
    """Point ``production`` at ``version`` if every gate passes; else GateFailed, nothing
    written. A canary of the same version is retired with the promotion."""
    model = ensemble_model(ensemble)
    results = _gated(store, ensemble, version, gates, "promotion")
    aliases = store.aliases(model)
    current = aliases.get(PRODUCTION)
    if current == version:
        raise RegistryInputError(f"{ensemble} v{version} is already {PRODUCTION}")
    moves = [AliasMove(ensemble=ensemble, model=model, alias=PRODUCTION, expected=current,
                       target=version, action="promote")]
    if aliases.get(CANARY) == version:
        moves.append(AliasMove(ensemble=ensemble, model=model, alias=CANARY, expected=version,
                               target=None, action="promote"))
    apply_moves(store, moves, who=who, why=why, before_commit=before_commit)
    return Outcome(ensemble=ensemble, alias=PRODUCTION, from_version=current,
                   to_version=version, gates=tuple(results))


def canary(store: RegistryStore, ensemble: str, version: int, *, share: float,
           gates: Sequence[MetricGate] = (), who: str, why: str) -> Outcome:
    """Send ``share`` (0..1) of units to ``version`` via the ``canary`` alias; 0 clears it."""
    share = fraction("share", share, error=RegistryInputError)
    model = ensemble_model(ensemble)
    aliases = store.aliases(model)
    target = None if share == 0 else version
    results = _gated(store, ensemble, version, gates, "canary") if target else []
    if target is not None and PRODUCTION not in aliases:
        raise RegistryInputError(f"{ensemble} has no {PRODUCTION} version yet; promote one "
                                 "before starting a canary")
    if target is None and CANARY not in aliases:
        raise RegistryInputError(f"{ensemble} has no canary to end")
    if target is not None and aliases.get(PRODUCTION) == version:
        raise RegistryInputError(f"{ensemble} v{version} is already {PRODUCTION}")
    move = AliasMove(ensemble=ensemble, model=model, alias=CANARY, expected=aliases.get(CANARY),
                     target=target, action="canary", share=share if target else None)
    apply_moves(store, [move], who=who, why=why)
    return Outcome(ensemble=ensemble, alias=CANARY, from_version=move.expected,
                   to_version=target, gates=tuple(results))


def rollback(store: RegistryStore, ensemble: str, *, who: str, why: str,
             before_commit: Callable[[], None] | None = None) -> Outcome:
    """Move ``production`` back to the version live before the current promotion and clear
    the canary, in one transaction."""
    model = ensemble_model(ensemble)
    target = audit.rollback_target(audit.rows(store, ensemble))
    if target is None:
        raise RegistryInputError(f"{ensemble} has no earlier production version to roll back "
                                 "to (see `mlfleet ops registry history`)")
    require(evaluate(store, read_manifest(store, ensemble, target)),  # e.g. a retired member
            f"rollback of {ensemble} to v{target}")
    aliases = store.aliases(model)
    moves = [AliasMove(ensemble=ensemble, model=model, alias=PRODUCTION,
                       expected=aliases.get(PRODUCTION), target=target, action="rollback")]
    if CANARY in aliases:
        moves.append(AliasMove(ensemble=ensemble, model=model, alias=CANARY,
                               expected=aliases[CANARY], target=None, action="rollback"))
    apply_moves(store, moves, who=who, why=why, before_commit=before_commit)
    return Outcome(ensemble=ensemble, alias=PRODUCTION, from_version=aliases.get(PRODUCTION),
                   to_version=target)


def _gated(store: RegistryStore, ensemble: str, version: int, gates: Sequence[MetricGate],
           what: str) -> list[GateResult]:
    manifest = read_manifest(store, ensemble, version)
    results = evaluate(store, manifest, gates)
    require(results, f"{what} of {ensemble} v{version}")
    return results

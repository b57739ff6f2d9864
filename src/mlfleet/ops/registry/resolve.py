"""Resolve which ensemble version serves a unit (a user, a session, a request id).

A unit id hashes to a point in [0, 1); units below the canary share go to the ``canary``
alias, the rest to ``production``. The hash is SHA-256 of ``ENSEMBLE\\0UNIT``, so a unit keeps
its side for as long as the share does not shrink, and raising the share only moves units
from production to canary. Each alias is read with one MLflow call
(``get_model_version_by_alias``, which returns the version and its immutable manifest tags).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from mlfleet.ops.registry.alias_write import CANARY_SHARE_TAG
from mlfleet.ops.registry.ensemble import Manifest, ensemble_model, manifest_from_tags
from mlfleet.ops.registry.errors import RegistryInputError
from mlfleet.ops.registry.promote import CANARY, PRODUCTION
from mlfleet.ops.registry.store import RegistryStore


@dataclass(frozen=True, kw_only=True)
class Resolution:
    """The ensemble version a unit (or the plain alias) resolves to, with its manifest."""

    alias: str
    manifest: Manifest
    unit_id: str | None = None
    bucket: float | None = None
    """The unit's hash point in [0, 1)."""
    canary_share: float = 0.0


def unit_bucket(ensemble: str, unit_id: str) -> float:
    """The unit's point in [0, 1): the first 8 bytes of SHA-256(ensemble NUL unit) / 2**64."""
    digest = hashlib.sha256(f"{ensemble}\0{unit_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def canary_share(tags: dict[str, str], canary_version: int | None) -> float:
    """The share in the ``SHARE@VERSION`` tag if VERSION is the canary alias's, else 0."""
    share, _, version = tags.get(CANARY_SHARE_TAG, "").partition("@")
    if canary_version is None or version != str(canary_version):
        return 0.0
    return float(share)


def resolve_alias(store: RegistryStore, ensemble: str, alias: str = PRODUCTION) -> Resolution:
    """The manifest ``alias`` points at, from one MLflow read."""
    found = store.by_alias(ensemble_model(ensemble), alias)
    if found is None:
        raise RegistryInputError(f"ensemble {ensemble!r} has no {alias} version; promote one "
                                 "with `mlfleet ops registry promote`")
    version, tags = found
    return Resolution(alias=alias, manifest=manifest_from_tags(ensemble, version, tags))


def resolve(store: RegistryStore, ensemble: str, unit_id: str) -> Resolution:
    """The version that serves ``unit_id``: canary if its bucket is below the share."""
    found = store.registered(ensemble_model(ensemble))
    if found is None:
        raise RegistryInputError(f"ensemble(={ensemble!r}) is unknown; create it with "
                                 "`mlfleet ops registry ensemble create`")
    aliases, tags = found
    share = canary_share(tags, aliases.get(CANARY))
    bucket = unit_bucket(ensemble, unit_id)
    alias = CANARY if bucket < share else PRODUCTION
    try:
        chosen = resolve_alias(store, ensemble, alias)
    except RegistryInputError:
        if alias != CANARY:
            raise
        alias = PRODUCTION  # the canary was cleared between our two reads
        chosen = resolve_alias(store, ensemble, alias)
    return Resolution(alias=alias, manifest=chosen.manifest, unit_id=unit_id, bucket=bucket,
                      canary_share=share)

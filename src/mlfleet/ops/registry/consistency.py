"""A reader that checks, read after read, that production is always one whole ensemble.

Each read resolves the ``production`` alias with one MLflow call and rebuilds the pinned
manifest from that version's tags (its SHA-256 checked). The read is *consistent* if the
manifest is exactly one of the manifests the writer promotes; anything else (a manifest that
fails its digest, pins an unexpected member version, or belongs to no promoted version) is
counted as *mixed*. Runs in its own process (spawn), so readers and the writer contend on the
real SQLite file as separate processes would in production.
"""

from __future__ import annotations

from dataclasses import dataclass
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any


@dataclass(frozen=True, kw_only=True)
class ReaderCounts:
    """What one reader process saw."""

    reads: int
    mixed: int
    failed: int
    """Reads that raised (e.g. the store was busy past its timeout): neither good nor mixed."""
    versions_seen: tuple[int, ...]
    errors: tuple[str, ...] = ()
    """The first few messages of mixed or failed reads."""


def check_read(manifests: dict[int, str], version: int, manifest_json: str) -> bool:
    """Whether a read of ``version`` returned exactly the manifest promoted as that version."""
    return manifests.get(version) == manifest_json


def reader_loop(path: str, ensemble: str, manifests: dict[int, str], started: Any,
                stop: Event, results: Any) -> None:
    """Resolve production until ``stop`` is set; put a :class:`ReaderCounts` on ``results``.

    ``started`` is a queue that gets one item after this reader's first read.
    """
    from mlfleet.ops.registry.resolve import resolve_alias
    from mlfleet.ops.registry.store import RegistryStore

    reads = mixed = failed = 0
    seen: set[int] = set()
    errors: list[str] = []
    with RegistryStore(Path(path), create=False) as store:
        while not stop.is_set() or reads == 0:
            reads += 1
            try:
                found = resolve_alias(store, ensemble).manifest
            except AssertionError as exc:  # a manifest that fails its digest is a mixed read
                mixed += 1
                errors.append(f"mixed: {exc}")
            except Exception as exc:  # noqa: BLE001 - counted and reported, never hidden
                failed += 1
                errors.append(f"failed: {type(exc).__name__}: {exc}")
            else:
                seen.add(found.version)
                if not check_read(manifests, found.version, found.to_json()):
                    mixed += 1
                    errors.append(f"mixed: v{found.version} {found.to_json()}")
            if reads == 1:
                started.put(True)
    results.put(ReaderCounts(reads=reads, mixed=mixed, failed=failed,
                             versions_seen=tuple(sorted(seen)), errors=tuple(errors[:5])))


def promote_loop(path: str, ensemble: str, versions: list[int], attempts: int,
                 results: Any) -> None:
    """Try ``attempts`` promotions, cycling through ``versions``; put (done, refused) on
    ``results``, where refused counts the promotions another writer got to first."""
    from mlfleet.ops.registry.errors import ConcurrentChange, RegistryInputError
    from mlfleet.ops.registry.promote import promote
    from mlfleet.ops.registry.store import RegistryStore

    done = refused = 0
    with RegistryStore(Path(path), create=False) as store:
        for i in range(attempts):
            try:
                promote(store, ensemble, versions[i % len(versions)], who=f"writer-{path[-6:]}",
                        why=f"attempt {i}")
                done += 1
            except (ConcurrentChange, RegistryInputError):  # lost the race, or already live
                refused += 1
    results.put((done, refused))

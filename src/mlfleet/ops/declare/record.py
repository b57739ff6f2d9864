"""Reproducibility records: what a training run or a deployment was made of.

A record holds the data version (content hashes, and the Delta version of a dataset),
the code version (git commit, dirty flag, diff hash; or the package version), the
environment lock, the model artifact's hash and the configuration (a scenario's
canonical form, or a server's configuration) with its hash. :func:`verify_record`
recomputes every part from the paths the record names and says what changed.

``build_record`` / ``write_record`` are the API other commands use (``mlfleet serve
--record``; ``mlfleet run train --record``).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlfleet.ops.declare.code_version import CodeVersion, code_version, running_code_root
from mlfleet.ops.declare.content_hash import ContentVersion, content_version
from mlfleet.ops.declare.environment_lock import EnvironmentLock, environment_lock

RECORD_FORMAT = 1
"""Version of the record's JSON layout."""


@dataclass(frozen=True, kw_only=True)
class Configuration:
    """The configuration a run used, in canonical form, and its hash."""

    source: str | None
    """The scenario file it was read from (verification re-reads it), else None."""
    canonical: dict[str, Any]
    sha256: str


@dataclass(frozen=True, kw_only=True)
class Record:
    """One reproducibility record."""

    kind: str
    """``run``, ``training`` or ``deployment``."""
    created_utc: str
    data: tuple[ContentVersion, ...]
    code: CodeVersion
    environment: EnvironmentLock
    model: ContentVersion | None
    configuration: Configuration | None
    extra: dict[str, Any] = field(default_factory=dict)
    """What the writer adds (a deployment's URL)."""


def canonical_sha256(tree: Mapping[str, Any]) -> str:
    """SHA-256 of ``tree`` as canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(tree, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def configuration_of(tree: Mapping[str, Any], *, source: str | None = None) -> Configuration:
    """A configuration from plain data (a server's ``asdict(config)``, a canonical scenario)."""
    canonical = json.loads(json.dumps(tree, sort_keys=True, allow_nan=False))
    return Configuration(source=source, canonical=canonical, sha256=canonical_sha256(canonical))


def scenario_configuration(source: str) -> Configuration:
    """The canonical form of the scenario at ``source``; ScenarioError if it is invalid."""
    from mlfleet.ops.declare.promote import canonical
    from mlfleet.scenario import load_scenario

    resolved = Path(source)
    where = str(resolved.resolve()) if resolved.exists() else source
    return configuration_of(canonical(load_scenario(source)), source=where)


def build_record(*, data: Sequence[Path] = (), model: Path | None = None,
                 configuration: Configuration | None = None, code_root: Path | None = None,
                 kind: str = "run", extra: Mapping[str, Any] | None = None) -> Record:
    """Record the given data and model paths, the code in ``code_root`` (default: where
    mlfleet runs from), this interpreter's environment and ``configuration``.
    Raises InputError for a path that is not a file or directory."""
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat()
    return Record(kind=kind, created_utc=now, data=tuple(content_version(p) for p in data),
                  code=code_version(code_root if code_root is not None else running_code_root()),
                  environment=environment_lock(),
                  model=None if model is None else content_version(model),
                  configuration=configuration, extra=dict(extra or {}))


def record_json(record: Record) -> dict[str, Any]:
    """The record as JSON-ready data (what the file holds)."""
    body = dataclasses.asdict(record)
    body["environment"]["sha256"] = record.environment.sha256
    return {"mlfleet_record": RECORD_FORMAT, **body}


def record_text(record: Record) -> str:
    """The record file's text."""
    return json.dumps(record_json(record), indent=2, sort_keys=True, allow_nan=False) + "\n"


def write_record(path: Path, record: Record) -> None:
    """Write the record to ``path`` atomically: a temporary file in the same directory
    renamed over it, so ``path`` holds a whole record or none; an existing file is
    replaced. Raises an InputError (one line) when it cannot."""
    from mlfleet.scenario.template import write_template

    write_template(path, record_text(record), force=True)

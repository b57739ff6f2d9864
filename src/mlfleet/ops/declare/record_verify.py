"""Verify a reproducibility record: recompute every part and name what changed.

Data and model paths are hashed again; the code version is read again from the recorded
checkout (or the installed package); the environment lock from this interpreter; the
configuration from its scenario file (a configuration without a file, such as a
server's, is checked against its own hash).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlfleet.errors import InputError
from mlfleet.ops.declare.code_version import CodeVersion, code_version
from mlfleet.ops.declare.content_hash import ContentVersion, changed_files, content_version
from mlfleet.ops.declare.environment_lock import (
    EnvironmentLock,
    environment_lock,
    moved_distributions,
)
from mlfleet.ops.declare.promote import flatten
from mlfleet.ops.declare.record import (
    RECORD_FORMAT,
    Configuration,
    Record,
    canonical_sha256,
    scenario_configuration,
)

MAX_NAMED = 10
"""Most files or packages one line names (then ``... and N more``)."""
MAX_RECORD_BYTES = 64 << 20
"""Largest record file read."""


class RecordFormatError(InputError):
    """A file that is not an mlfleet reproducibility record."""


def read_record(path: Path) -> Record:
    """Parse a record file; :class:`RecordFormatError` (one line) when it is not one."""
    try:
        if path.stat().st_size > MAX_RECORD_BYTES:
            raise RecordFormatError(f"{str(path)!r} is larger than {MAX_RECORD_BYTES:,} bytes; "
                                    "not an mlfleet record")
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or "not JSON"
        raise RecordFormatError(f"cannot read record {str(path)!r}: {reason}") from None
    try:
        return _record_of(payload)
    except (KeyError, TypeError, AttributeError, ValueError):
        raise RecordFormatError(f"{str(path)!r} is not an mlfleet record (written by "
                                "`mlfleet ops record --out`)") from None


def _record_of(payload: Any) -> Record:
    if payload.get("mlfleet_record") != RECORD_FORMAT:
        raise ValueError("format")
    env = {k: v for k, v in payload["environment"].items() if k != "sha256"}
    env["distributions"] = tuple(env["distributions"])
    model, config = payload["model"], payload["configuration"]
    return Record(kind=str(payload["kind"]), created_utc=str(payload["created_utc"]),
                  data=tuple(ContentVersion(**d) for d in payload["data"]),
                  code=CodeVersion(**payload["code"]), environment=EnvironmentLock(**env),
                  model=None if model is None else ContentVersion(**model),
                  configuration=None if config is None else Configuration(**config),
                  extra=dict(payload.get("extra") or {}))


def _named(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_NAMED])
    return shown + (f" ... and {len(items) - MAX_NAMED} more" if len(items) > MAX_NAMED else "")


def _content_changes(label: str, old: ContentVersion) -> list[str]:
    try:
        new = content_version(Path(old.path))
    except InputError:
        return [f"{label} {old.path}: missing"]
    out = []
    if new.sha256 != old.sha256:
        files = changed_files(old, new)
        out.append(f"{label} {old.path}: content changed"
                   + (f" ({_named(files)})" if files else ""))
    if new.delta_version != old.delta_version:
        out.append(f"{label} {old.path}: Delta version {old.delta_version} -> {new.delta_version}")
    return out


def _code_changes(old: CodeVersion) -> list[str]:
    new = code_version(None if old.root is None else Path(old.root))
    names = ("source", "commit", "dirty", "diff_sha256", "package_version")
    return [f"code: {n} {getattr(old, n)} -> {getattr(new, n)}" for n in names
            if getattr(old, n) != getattr(new, n)]


def _environment_changes(old: EnvironmentLock) -> list[str]:
    new = environment_lock()
    out = [f"environment: {n} {getattr(old, n)} -> {getattr(new, n)}"
           for n in ("python", "platform", "torch", "cuda") if getattr(old, n) != getattr(new, n)]
    moved = moved_distributions(old.distributions, new.distributions)
    return out + ([f"environment: packages moved: {_named(moved)}"] if moved else [])


def _configuration_changes(old: Configuration) -> list[str]:
    if old.source is None:
        same = canonical_sha256(old.canonical) == old.sha256
        return [] if same else ["configuration: its canonical form no longer matches its hash"]
    try:
        new = scenario_configuration(old.source)
    except InputError as exc:
        return [f"configuration {old.source}: {exc}"]
    if new.sha256 == old.sha256:
        return []
    return [f"configuration {old.source}: changed ({_named(_changed_fields(old.canonical, new.canonical))})"]


def _changed_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    a, b = flatten(old), flatten(new)
    return [path for path in sorted(set(a) | set(b)) if a.get(path) != b.get(path)]


def verify_record(record: Record) -> list[str]:
    """One line per part that no longer matches (empty: the record reproduces)."""
    out: list[str] = []
    for index, data in enumerate(record.data):
        out += _content_changes(f"data[{index}]", data)
    if record.model is not None:
        out += _content_changes("model", record.model)
    out += _code_changes(record.code)
    out += _environment_changes(record.environment)
    if record.configuration is not None:
        out += _configuration_changes(record.configuration)
    return out

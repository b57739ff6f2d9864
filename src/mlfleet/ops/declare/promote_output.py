"""How ``ops promote`` shows a promotion: text lines, JSON, and the promoted YAML file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mlfleet.ops.declare.promote import FieldChange, Promotion
from mlfleet.scenario.template import write_template


def _change(change: FieldChange) -> dict[str, Any]:
    return {"field": change.field, "from": change.source, "to": change.target}


def promotion_json(result: Promotion, *, out: str | None) -> dict[str, Any]:
    """The JSON ``ops promote --json`` prints."""
    return {"passed": result.passed, "out": out,
            "carried": [_change(c) for c in result.carried],
            "kept": [_change(c) for c in result.kept],
            "blocked": [_change(c) for c in result.blocked],
            "failed_checks": list(result.failed_checks)}


def describe_promotion(result: Promotion) -> list[str]:
    """One line per promoted change, kept field, blocking difference and failed check."""
    lines = [f"promote: {c.field}: {c.target!r} -> {c.source!r}" for c in result.carried]
    lines += [f"keep: {c.field}: {c.target!r} (environment-specific)" for c in result.kept]
    lines += [f"blocked: {c.describe()}" for c in result.blocked]
    lines += [f"failed check: {check}" for check in result.failed_checks]
    if result.passed:
        lines.append(f"every gate passed: {len(result.carried)} deployment field(s) promoted")
    return lines


def write_yaml(path: Path, tree: dict[str, Any], *, header: str) -> None:
    """Write ``tree`` as YAML under a comment line, atomically (no partial file on error);
    an existing file is replaced. Raises ScenarioError (one line) when it cannot."""
    text = f"# {header}\n" + yaml.safe_dump(tree, sort_keys=False, allow_unicode=True)
    write_template(path, text, force=True)

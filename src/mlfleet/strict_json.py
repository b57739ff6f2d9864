"""Strict JSON for every ``--json`` output: no ``Infinity`` or ``NaN``, which strict parsers reject.

Python's :func:`json.dumps` writes ``float("inf")`` as ``Infinity`` by default, which is not
JSON (RFC 8259). :func:`to_strict` turns every non-finite float (numpy scalars and arrays too)
into ``null`` and puts a reason beside it, under the key ``<key>_null_reason``: the caller's
reason for that key if it gave one (``null_reasons={"arithmetic_intensity": "..."}``),
otherwise what the value was. :func:`dumps` then serialises with ``allow_nan=False``, so a
value that slipped through is an error here rather than invalid JSON downstream.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from typing import Any

NULL_REASON_SUFFIX = "_null_reason"
"""Suffix of the key that explains why its sibling is null."""


def dumps(payload: Any, *, null_reasons: Mapping[str, str] | None = None) -> str:
    """``payload`` as strict JSON text (indented, sorted keys); see :func:`to_strict`."""
    return json.dumps(to_strict(payload, null_reasons=null_reasons), indent=2, sort_keys=True,
                      allow_nan=False)


def to_strict(payload: Any, *, null_reasons: Mapping[str, str] | None = None) -> Any:
    """A copy of ``payload`` made of JSON types only, with non-finite floats as ``None``.

    Dataclasses become dicts, tuples and numpy arrays lists, numpy scalars Python numbers.
    Where a dict value is (or, for a list, contains) a non-finite float, a sibling key
    ``<key>_null_reason`` says why, unless the dict already has one. Raises ``TypeError``
    for a value that has no JSON form.
    """
    value, _ = _convert(payload, null_reasons or {})
    return value


def _convert(value: Any, reasons: Mapping[str, str]) -> tuple[Any, str | None]:
    """(JSON-ready value, a reason when a non-finite float was replaced at this level)."""
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value, None
    if isinstance(value, float):
        return (value, None) if math.isfinite(value) else (None, _describe(value))
    if hasattr(value, "tolist"):  # numpy scalar or array
        return _convert(value.tolist(), reasons)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _convert(dataclasses.asdict(value), reasons)
    if isinstance(value, Mapping):
        return _convert_mapping(value, reasons), None
    if isinstance(value, list | tuple):
        pairs = [_convert(item, reasons) for item in value]
        reason = next((r for _, r in pairs if r is not None), None)
        return [item for item, _ in pairs], reason
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def _convert_mapping(mapping: Mapping[Any, Any], reasons: Mapping[str, str]) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    missing: dict[str, str] = {}
    for key, item in mapping.items():
        plain_key = key.item() if hasattr(key, "item") else key
        out[plain_key], reason = _convert(item, reasons)
        if reason is not None and isinstance(plain_key, str):
            missing[plain_key + NULL_REASON_SUFFIX] = reasons.get(plain_key, reason)
    for key, reason in missing.items():
        out.setdefault(key, reason)
    return out


def _describe(value: float) -> str:
    if math.isnan(value):
        return "not a number (NaN): undefined for these inputs"
    return f"{'+' if value > 0 else '-'}infinite: unbounded for these inputs"

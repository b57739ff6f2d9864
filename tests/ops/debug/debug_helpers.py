"""Helpers of the debugging tests (imported by name: tests/ops/debug is on mypy_path)."""

from __future__ import annotations

import math
from typing import Any


def check_trace_format(document: Any) -> list[dict[str, Any]]:
    """Assert ``document`` is a Trace Event Format object of complete and metadata events
    (Duffy, "Trace Event Format", 2016): returns the complete events."""
    assert isinstance(document, dict) and isinstance(document["traceEvents"], list)
    assert document.get("displayTimeUnit", "ms") in ("ms", "ns")
    complete = []
    names: dict[int, str] = {}
    for event in document["traceEvents"]:
        assert event["ph"] in ("X", "M"), event
        assert isinstance(event["pid"], int) and isinstance(event["tid"], int)
        assert isinstance(event["name"], str) and event["name"]
        if event["ph"] == "M":
            assert event["name"] in ("process_name", "process_sort_index"), event
            if event["name"] == "process_name":
                names[event["pid"]] = event["args"]["name"]
            continue
        for key in ("ts", "dur"):
            assert isinstance(event[key], (int, float)) and math.isfinite(event[key])
            assert event[key] >= 0
        assert isinstance(event.get("args", {}), dict)
        complete.append(event)
    assert {e["pid"] for e in complete} <= set(names), "every rank's process is named"
    return complete

"""The scenario's constraints, evaluated against a built plan.

Each check has ``holds``: True, False, or None when the chapter that would produce the
observed value is not implemented yet (then the check is reported, not failed).
"""

from __future__ import annotations

from typing import Any

from mlfleet.report.terminal import format_value

# constraint field -> (chapter, number in that chapter's section, 'max' or 'min')
_CHECKS: dict[str, tuple[str, str, str]] = {
    "max_training_time_s": ("infrastructure", "training_time_s", "max"),
    "max_step_time_s": ("infrastructure", "step_time_s", "max"),
    "max_power_w": ("infrastructure", "facility_power_w", "max"),
    "max_cost_usd": ("infrastructure", "cloud_cost_usd", "max"),
    "min_goodput": ("reliability", "goodput", "min"),
}


def evaluate_checks(scenario: Any, plan: dict[str, Any]) -> list[dict[str, Any]]:
    """One dict per constraint the scenario sets: name, limit, observed, holds, texts."""
    out = []
    for name, (chapter, key, kind) in _CHECKS.items():
        limit = getattr(scenario.constraints, name)
        if limit is None:
            continue
        section = plan[chapter]
        observed = section.get("numbers", {}).get(key) if section["status"] == "ok" else None
        holds = None if observed is None else (observed <= limit if kind == "max" else observed >= limit)
        note = ""
        if observed is None:
            note = (f"not evaluated: {chapter} chapter is {section['status']}"
                    if section["status"] != "ok" else f"not evaluated: the plan has no {key}")
        out.append({"name": name, "chapter": chapter, "limit": limit, "observed": observed,
                    "holds": holds, "limit_text": format_value(name, limit),
                    "observed_text": "n/a" if observed is None else format_value(key, observed),
                    "note": note})
    return out

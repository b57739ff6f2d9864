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


# serving SLO field -> number in the serving section (the SLO is a 'max' check)
_SLO_CHECKS: dict[str, str] = {"p99_s": "p99_s", "p50_s": "p50_s", "ttft_p99_s": "ttft_p99_s",
                               "tpot_p99_s": "tpot_p99_s"}


def _limits(scenario: Any) -> list[tuple[str, float, str, str, str]]:
    """(check name, limit, chapter, plan number, kind) for every constraint and SLO set."""
    out = []
    for name, (chapter, key, kind) in _CHECKS.items():
        limit = getattr(scenario.constraints, name)
        if limit is not None:
            out.append((name, limit, chapter, key, kind))
    slo = scenario.serving.slo if scenario.serving is not None else None
    for name, key in _SLO_CHECKS.items():
        limit = getattr(slo, name) if slo is not None else None
        if limit is not None:
            out.append((f"serving.slo.{name}", limit, "serving", key, "max"))
    return out


def evaluate_checks(scenario: Any, plan: dict[str, Any]) -> list[dict[str, Any]]:
    """One dict per constraint or serving SLO the scenario sets: limit, observed, holds, texts."""
    out = []
    for name, limit, chapter, key, kind in _limits(scenario):
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

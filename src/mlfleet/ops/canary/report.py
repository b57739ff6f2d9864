"""Judge results and rollouts as JSON documents and as text."""

from __future__ import annotations

from typing import Any

from mlfleet.ops.canary.controller import JudgedCanaryController
from mlfleet.ops.canary.judge import JudgeResult


def result_doc(result: JudgeResult) -> dict[str, Any]:
    """The decision, scores and every metric's classification."""
    return {
        "decision": result.decision, "score": result.score,
        "group_scores": result.group_scores, "critical_failure": result.critical_failure,
        "metrics": [{"name": m.name, "group": m.group, "criticality": m.criticality,
                     "classification": m.label, "test": m.test, "reason": m.reason,
                     "ratio": m.ratio, "canary_n": m.canary_n, "baseline_n": m.baseline_n}
                    for m in result.metrics],
    }


def rollout_doc(controller: JudgedCanaryController) -> dict[str, Any]:
    """The rollout's outcome, its stage timeline and each judgement."""
    return {
        "state": controller.state,
        "decision": {"completed": "promoted", "rolled_back": "rolled_back"}.get(
            controller.state, "undecided"),
        "timeline": [{"time_s": t, "event": what} for t, what in controller.events],
        "judgements": [{"time_s": j.time_s, "share": j.share, "action": j.action,
                        **result_doc(j.result)} for j in controller.judgements],
    }


def result_lines(result: JudgeResult) -> list[str]:
    """A few lines for a person: the decision, then one line per metric."""
    lines = [f"decision: {result.decision}  score {result.score:.1f}"
             + ("  (critical metric failed)" if result.critical_failure else "")]
    for m in result.metrics:
        lines.append(f"  {m.name:<18} {m.label:<13} {m.test:<12} {m.reason}")
    return lines


def rollout_lines(controller: JudgedCanaryController) -> list[str]:
    """The timeline, then each judgement's metric lines."""
    lines = [f"state: {controller.state}"]
    lines += [f"  {t:8.1f} s  {what}" for t, what in controller.events]
    for j in controller.judgements:
        lines.append(f"judgement at {j.time_s:.1f} s (share {j.share:g}): {j.action}")
        lines += ["  " + line for line in result_lines(j.result)]
    return lines

"""The scenario's constraints, evaluated against the typed results of a plan.

Each check reads its observed value from a typed field of a chapter's result, so a
renamed field fails the type checker instead of turning the check into "not
evaluated". ``holds`` is True, False, or None when the chapter that would produce
the value is not implemented yet or has nothing for this scenario (then the check is
reported, not failed). A serving fleet larger than the cluster, and a training step whose
memory per GPU exceeds its HBM (:mod:`~mlfleet.plan.training_memory`), are failed checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mlfleet.plan.communication import Communication
from mlfleet.plan.infrastructure import Infrastructure
from mlfleet.plan.reliability import ReliabilityPlan
from mlfleet.plan.serving import ServingPlan
from mlfleet.plan.storage import StoragePlan
from mlfleet.plan.training_memory import TrainingMemory
from mlfleet.report.terminal import format_value
from mlfleet.scenario import Scenario


@dataclass(frozen=True, kw_only=True)
class Results:
    """The typed chapter results the checks read."""

    infrastructure: Infrastructure
    communication: Communication | None
    serving: ServingPlan | None
    reliability: ReliabilityPlan | None
    storage: StoragePlan | None


@dataclass(frozen=True, kw_only=True)
class Check:
    """One constraint or SLO of the scenario against the plan."""

    name: str
    chapter: str
    limit: float
    observed: float | None
    holds: bool | None
    limit_text: str
    observed_text: str
    note: str


Observe = Callable[[Results], float | None]


def _training_time(r: Results) -> float | None:
    t = r.infrastructure.training
    return None if t is None else t.training_time_s


def _step_time(r: Results) -> float | None:
    t = r.infrastructure.training
    return None if t is None else t.step_time_s


def _cost(r: Results) -> float | None:
    """The training job's cloud cost, else a year of the serving fleet's."""
    t = r.infrastructure.training
    if t is not None:
        return t.cloud_cost_usd
    return None if r.serving is None else r.serving.cloud_cost_usd_per_year


def _memory(r: Results) -> TrainingMemory | None:
    t = r.infrastructure.training
    return None if t is None else t.memory


def _serving(get: Callable[[ServingPlan], float | None]) -> Observe:
    return lambda r: None if r.serving is None else get(r.serving)


# constraint field -> (chapter, observed value, 'max' or 'min'); None: chapter not implemented
_CONSTRAINTS: dict[str, tuple[str, Observe | None, str]] = {
    "max_training_time_s": ("infrastructure", _training_time, "max"),
    "max_step_time_s": ("infrastructure", _step_time, "max"),
    "max_power_w": ("infrastructure", lambda r: r.infrastructure.facility_power_w, "max"),
    "max_cost_usd": ("infrastructure", _cost, "max"),
    "min_goodput": ("reliability", lambda r: None if r.reliability is None
                    else r.reliability.goodput, "min"),
}

_SLOS: dict[str, Observe] = {
    "p99_s": _serving(lambda s: s.capacity.p99_s),
    "p50_s": _serving(lambda s: s.capacity.p50_s),
    "ttft_p99_s": _serving(lambda s: s.capacity.ttft_p99_s),
    "tpot_p99_s": _serving(lambda s: s.capacity.tpot_s),
}


def evaluate_checks(scenario: Scenario, results: Results) -> tuple[Check, ...]:
    """One check per constraint and serving SLO the scenario sets, and the fleet's fit."""
    out = []
    for name, (chapter, observe, kind) in _CONSTRAINTS.items():
        limit = getattr(scenario.constraints, name)
        if limit is not None:
            out.append(_check(name, chapter, float(limit), observe, kind, results))
    slo = scenario.serving.slo if scenario.serving is not None else None
    for name, observe in _SLOS.items():
        limit = None if slo is None else getattr(slo, name)
        if limit is not None:
            out.append(_check(f"serving.slo.{name}", "serving", float(limit), observe, "max",
                              results))
    memory = _memory(results)
    if memory is not None:
        out.append(_check("training.memory_bytes_per_gpu", "infrastructure", memory.hbm_bytes,
                          lambda r: memory.need_bytes, "max", results))
    if results.serving is not None:
        out.append(_check("serving.gpus_needed", "serving", float(scenario.cluster.gpus),
                          lambda r: None if r.serving is None
                          else float(r.serving.capacity.gpus_needed), "max", results))
    return tuple(out)


def _check(name: str, chapter: str, limit: float, observe: Observe | None, kind: str,
           results: Results) -> Check:
    observed = None if observe is None else observe(results)
    holds = None if observed is None else (observed <= limit if kind == "max" else observed >= limit)
    note = ""
    if observe is None:
        note = f"not evaluated: {chapter} chapter is not yet implemented"
    elif observed is None:
        note = f"not evaluated: the {chapter} section has no value for {name} in this scenario"
    key = name.rsplit(".", 1)[-1]
    return Check(name=name, chapter=chapter, limit=limit, observed=observed, holds=holds,
                 limit_text=format_value(key, limit),
                 observed_text="n/a" if observed is None else format_value(key, observed),
                 note=note)

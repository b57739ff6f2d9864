"""Validation gates an ensemble version must pass before it takes an alias.

Three kinds, all evaluated before anything is written:

* every member exists and is not retired;
* schema compatibility along the edges: every input column of a consumer that has producers
  is an output column of one of its producers, and every producer that outputs a column of
  that name outputs it with the same type (members without producers read the request);
* metric thresholds, ``ndcg>=0.30`` (every member that reports ``ndcg``; at least one must)
  or ``ranker-dnn.ndcg>=0.30`` (that member only).
"""

from __future__ import annotations

import contextlib
import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mlfleet.ops.registry.card import ModelCard
from mlfleet.ops.registry.ensemble import Manifest
from mlfleet.ops.registry.errors import GateFailed, RegistryInputError
from mlfleet.ops.registry.store import RegistryStore

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "==": operator.eq}
_GATE = re.compile(r"\s*(?:([A-Za-z0-9][A-Za-z0-9_.-]*?)\.)?([A-Za-z_][A-Za-z0-9_]*)\s*"
                   r"(>=|<=|==|>|<)\s*([^\s]+)\s*")


@dataclass(frozen=True, kw_only=True)
class MetricGate:
    """``[member.]metric OP threshold``."""

    metric: str
    op: str
    threshold: float
    member: str | None = None

    def __str__(self) -> str:
        prefix = f"{self.member}." if self.member else ""
        return f"{prefix}{self.metric}{self.op}{self.threshold:g}"


@dataclass(frozen=True, kw_only=True)
class GateResult:
    """One gate's verdict on one ensemble version."""

    gate: str
    passed: bool
    detail: str


def parse_gate(text: str) -> MetricGate:
    """``"ndcg>=0.30"`` or ``"ranker-dnn.ndcg>=0.30"``; bad syntax raises RegistryInputError."""
    match = _GATE.fullmatch(text)
    threshold = math.nan
    if match:
        with contextlib.suppress(ValueError):
            threshold = float(match.group(4))
    if not match or not math.isfinite(threshold):
        raise RegistryInputError(f"gate(={text!r}) must be [MEMBER.]METRIC OP NUMBER with OP "
                                 f"one of {', '.join(_OPS)}, e.g. ndcg>=0.30")
    return MetricGate(member=match.group(1), metric=match.group(2), op=match.group(3),
                      threshold=threshold)


def evaluate(store: RegistryStore, manifest: Manifest,
             gates: Sequence[MetricGate] = ()) -> list[GateResult]:
    """Every gate's result (members, then schema per consumer, then metrics)."""
    cards: dict[str, ModelCard] = {}
    results = []
    for name, version in manifest.members().items():
        try:
            cards[name] = store.card(name, version)
        except RegistryInputError as exc:
            results.append(GateResult(gate=f"member {name}@v{version}", passed=False,
                                      detail=str(exc)))
            continue
        retired = cards[name].status == "retired"
        results.append(GateResult(gate=f"member {name}@v{version}", passed=not retired,
                                  detail="retired" if retired else cards[name].status))
    if len(cards) == len(manifest.members()):
        results += [_schema(manifest, cards, consumer) for consumer in cards
                    if manifest.spec.producers(consumer)]
        results += [_metric(gate, cards) for gate in gates]
    return results


def require(results: list[GateResult], what: str) -> None:
    """Raise GateFailed naming the first failed gate (and how many failed) if any did."""
    failed = [r for r in results if not r.passed]
    if failed:
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        raise GateFailed(f"{what} refused: gate {failed[0].gate} failed: {failed[0].detail}"
                         f"{more}; the registry is unchanged")


def _schema(manifest: Manifest, cards: dict[str, ModelCard], consumer: str) -> GateResult:
    producers = manifest.spec.producers(consumer)
    gate = f"schema {','.join(producers)} -> {consumer}"
    for column in cards[consumer].inputs:
        offered = [(p, c.dtype) for p in producers for c in cards[p].outputs
                   if c.name == column.name]
        if not offered:
            return GateResult(gate=gate, passed=False,
                              detail=f"input {column.name}:{column.dtype} is produced by none "
                                     f"of {', '.join(producers)}")
        for producer, dtype in offered:
            if dtype != column.dtype:
                return GateResult(gate=gate, passed=False,
                                  detail=f"{producer} outputs {column.name}:{dtype}, "
                                         f"{consumer} reads {column.name}:{column.dtype}")
    return GateResult(gate=gate, passed=True, detail="compatible")


def _metric(gate: MetricGate, cards: dict[str, ModelCard]) -> GateResult:
    if gate.member is not None and gate.member not in cards:
        return GateResult(gate=str(gate), passed=False,
                          detail=f"{gate.member!r} is not a member; members: {', '.join(cards)}")
    scope = [cards[gate.member]] if gate.member else list(cards.values())
    reporting = [c for c in scope if gate.metric in c.metrics]
    if not reporting:
        return GateResult(gate=str(gate), passed=False,
                          detail=f"no member reports metric {gate.metric!r}")
    for card in reporting:
        if not _OPS[gate.op](card.metrics[gate.metric], gate.threshold):
            return GateResult(gate=str(gate), passed=False,
                              detail=f"{card.ref} has {gate.metric}={card.metrics[gate.metric]:g}")
    shown = ", ".join(f"{c.name}={c.metrics[gate.metric]:g}" for c in reporting)
    return GateResult(gate=str(gate), passed=True, detail=shown)

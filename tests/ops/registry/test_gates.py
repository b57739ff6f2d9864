"""Gate syntax (pure) — the gates themselves run against a real store in test_promote.py."""

from __future__ import annotations

import pytest

from mlfleet.ops.registry.errors import RegistryInputError
from mlfleet.ops.registry.gates import MetricGate, parse_gate


@pytest.mark.parametrize(("text", "gate"), [
    ("ndcg>=0.30", MetricGate(metric="ndcg", op=">=", threshold=0.30)),
    ("ranker-dnn.ndcg >= 0.3", MetricGate(member="ranker-dnn", metric="ndcg", op=">=",
                                          threshold=0.3)),
    ("ranker.v2.auc<1", MetricGate(member="ranker.v2", metric="auc", op="<", threshold=1)),
    ("p99_s==0.2", MetricGate(metric="p99_s", op="==", threshold=0.2)),
])
def test_gates_parse(text: str, gate: MetricGate) -> None:
    assert parse_gate(text) == gate


@pytest.mark.parametrize("text", ["ndcg=>0.3", "ndcg>=", "ndcg", ">=0.3", "ndcg>=x",
                                  "ndcg>=nan", "ndcg>=inf", "", "ndcg>=0.3 extra"])
def test_bad_gate_syntax_is_one_input_error(text: str) -> None:
    with pytest.raises(RegistryInputError, match=r"gate\(=.*must be \[MEMBER\.\]METRIC OP NUMBER"):
        parse_gate(text)

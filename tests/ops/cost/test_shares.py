"""Shared-cost splits: the three methods and their refusals."""

from __future__ import annotations

import pytest

from mlfleet.ops.cost.shares import Split, SplitError, split_shared

OWN = {"a": 300.0, "b": 100.0}
METRICS = {"a": {"requests": 1.0}, "b": {"requests": 3.0}}


@pytest.mark.parametrize(("text", "want"), [
    ("uniform", {"a": 50.0, "b": 50.0}),
    ("proportional", {"a": 75.0, "b": 25.0}),
    ("metric:requests", {"a": 25.0, "b": 75.0}),
])
def test_methods(text: str, want: dict[str, float]) -> None:
    assert split_shared(100.0, Split.parse(text), workload_usd=OWN, metrics=METRICS) \
        == pytest.approx(want)


@pytest.mark.parametrize(("text", "fragment"), [
    ("even", "split(='even') is unknown"), ("metric", "must name a metric"),
    ("metric:", "must name a metric"), ("ratio:x", "is unknown"),
])
def test_bad_split_text(text: str, fragment: str) -> None:
    with pytest.raises(SplitError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        Split.parse(text)


def test_a_metric_no_tenant_has_is_named() -> None:
    with pytest.raises(SplitError, match="'egress_gb'"):
        split_shared(1.0, Split.parse("metric:egress_gb"), workload_usd=OWN, metrics=METRICS)


def test_no_tenant_to_pay() -> None:
    with pytest.raises(SplitError, match="no tenant"):
        split_shared(1.0, Split(), workload_usd={}, metrics={})

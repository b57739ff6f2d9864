"""The sweep's ``mlfleet validate`` provider: its checks hold and carry the provider's prefix."""

from __future__ import annotations

from mlfleet.sweep.validations import METRICS, provide
from mlfleet.validate.registry import Context


def test_vectorised_sweep_equals_the_plan_at_its_worst_point() -> None:
    checks = provide(Context())
    assert [c.id for c in checks] == [f"sweep.training.{m.replace('_', '-')}" for m in METRICS]
    for check in checks:
        assert check.passed and check.error == 0.0, check
        assert "worst of 24 grid points" in check.quantity

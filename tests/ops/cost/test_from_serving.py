"""Chargeback by model from serving simulations of each model's fleet.

Validation: the ``requests`` metric a model is split by is its simulated throughput over
the window; for a stable fleet that is the offered load ``qps x window``. With n = 2000
Poisson arrivals the Monte-Carlo error of the measured rate is about 1/sqrt(n) = 2.2%; each
model's observed relative error is printed by ``-s`` and asserted within three of those.
"""

from __future__ import annotations

import math

import pytest

from mlfleet.ops.cost.chargeback import chargeback
from mlfleet.ops.cost.cli_options import example
from mlfleet.ops.cost.from_serving import read_models, serving_allocations
from mlfleet.ops.cost.resources import OPENCOST_DEFAULTS, Resource
from mlfleet.ops.cost.shares import Split

WINDOW_H = 730.5


def test_models_are_charged_their_fleet_and_split_by_requests() -> None:
    models = read_models(example("models.csv"))
    found = serving_allocations(models, window_h=WINDOW_H, requests=2000, seed=1)
    for m, a in zip(models, found, strict=True):
        gpus = m.replicas * m.tp
        assert a.requested[Resource.GPU] == gpus
        assert 0.0 < a.used[Resource.GPU] <= gpus
        offered = m.qps * WINDOW_H * 3600
        error = a.metrics["requests"] / offered - 1
        print(f"{m.model}: requests metric vs offered load, relative error {error:+.4f}")
        assert abs(error) < 3 / math.sqrt(2000)
    cb = chargeback(found, rates=OPENCOST_DEFAULTS, by="model",
                    split=Split.parse("metric:requests"), overhead_usd=1000.0)
    parts = {c.tenant: c.shared_usd for c in cb.charges}
    total_requests = sum(a.metrics["requests"] for a in found)
    for a in found:
        assert parts[a.model] == pytest.approx(1000.0 * a.metrics["requests"] / total_requests)


def test_same_seed_same_bill() -> None:
    models = read_models(example("models.csv"))
    one = serving_allocations(models, window_h=1.0, requests=500, seed=7)
    two = serving_allocations(models, window_h=1.0, requests=500, seed=7)
    assert [a.used for a in one] == [a.used for a in two]

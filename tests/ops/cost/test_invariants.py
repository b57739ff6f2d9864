"""The OpenCost invariants on hypothesis-generated allocations (issue 16 acceptance).

* workload + idle + overhead = total, per resource and overall (to float round-off);
* idle >= 0 per resource;
* every split method gives parts that sum to the shared cost;
* chargeback by team (or model) sums to the total (workload + shared, plus any idle left
  unassigned);
* max(request, usage) >= both; fractional GPU amounts never exceed the GPUs.
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.ops.cost.allocation import Allocation
from mlfleet.ops.cost.breakdown import Capacity, breakdown
from mlfleet.ops.cost.chargeback import chargeback
from mlfleet.ops.cost.fractional import time_sliced_gpus
from mlfleet.ops.cost.resources import Rates, Resource
from mlfleet.ops.cost.shares import Split, split_shared

REL = 1e-9
amounts = st.floats(min_value=0.0, max_value=64.0, allow_nan=False)
rates = st.builds(Rates, gpu_usd_per_h=st.floats(0.0, 20.0), cpu_usd_per_core_h=st.floats(0.0, 1.0),
                  ram_usd_per_gb_h=st.floats(0.0, 0.1), storage_usd_per_gb_h=st.floats(0.0, 0.01),
                  network_usd_per_gb=st.floats(0.0, 1.0))


@st.composite
def allocation(draw: st.DrawFn, index: int) -> Allocation:
    resources = st.fixed_dictionaries({r: amounts for r in Resource})
    return Allocation(name=f"a{index}", team=draw(st.sampled_from(["a", "b", "c", "shared"])),
                      model=draw(st.sampled_from(["m1", "m2", "m3"])),
                      duration_h=draw(st.floats(0.01, 744.0)), requested=draw(resources),
                      used=draw(resources), network_gb=draw(st.floats(0.0, 1e4)),
                      metrics={"requests": draw(st.floats(0.0, 1e9))})


@st.composite
def workloads(draw: st.DrawFn) -> tuple[list[Allocation], Capacity, Rates, float]:
    n = draw(st.integers(1, 12))
    found = [draw(allocation(i)) for i in range(n)]
    if all(a.team == "shared" for a in found):  # someone must pay
        found[0] = Allocation(**{**vars(found[0]), "team": "a"})
    window_h = max(a.duration_h for a in found)
    slack = draw(st.floats(1.0, 3.0))
    need = {r: sum(a.unit_hours(r) for a in found) / window_h * slack for r in Resource}
    return found, Capacity(amounts=need, duration_h=window_h), draw(rates), \
        draw(st.floats(0.0, 1e4))


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL, abs_tol=1e-9)


@settings(max_examples=150, deadline=None)
@given(workloads())
def test_workload_plus_idle_plus_overhead_is_the_total(case: tuple) -> None:  # type: ignore[type-arg]
    found, capacity, r, overhead = case
    b = breakdown(found, rates=r, capacity=capacity, overhead_usd=overhead)
    for res in Resource:
        assert b.idle_usd[res.value] >= 0.0
        assets = capacity.unit_hours(res) * r.hourly_usd(res)
        assert close(b.workload_usd[res.value] + b.idle_usd[res.value], assets)
    network = sum(a.network_gb for a in found) * r.network_usd_per_gb
    assets_all = sum(capacity.unit_hours(res) * r.hourly_usd(res) for res in Resource)
    assert close(b.total_usd, assets_all + network + overhead)
    assert 0.0 <= b.idle_fraction <= 1.0


@settings(max_examples=150, deadline=None)
@given(workloads(), st.sampled_from(["uniform", "proportional", "metric:requests"]),
       st.sampled_from(["team", "model"]), st.booleans())
def test_chargeback_sums_to_the_total(case: tuple, split: str, by: str,  # type: ignore[type-arg]
                                      share_idle: bool) -> None:
    found, capacity, r, overhead = case
    if split.startswith("metric") and sum(a.metrics["requests"] for a in found
                                          if a.team != "shared") <= 0:
        split = "uniform"
    cb = chargeback(found, rates=r, by=by, split=Split.parse(split), capacity=capacity,
                    overhead_usd=overhead, share_idle=share_idle)
    assert close(cb.charged_usd + cb.unassigned_idle_usd, cb.breakdown.total_usd)
    assert all(c.workload_usd >= 0 and c.shared_usd >= 0 for c in cb.charges)


@settings(max_examples=200, deadline=None)
@given(st.floats(0.0, 1e6), st.dictionaries(st.text(min_size=1, max_size=3),
                                             st.floats(0.0, 1e6), min_size=1, max_size=8),
       st.sampled_from(["uniform", "proportional", "metric"]))
def test_every_split_sums_to_the_shared_cost(cost: float, weights: dict[str, float],
                                              method: str) -> None:
    metrics = {t: {"m": w} for t, w in weights.items()}
    if method == "metric" and sum(weights.values()) <= 0:
        method = "uniform"
    split = Split(method=method, metric="m" if method == "metric" else None)
    parts = split_shared(cost, split, workload_usd=weights, metrics=metrics)
    assert set(parts) == set(weights)
    assert close(sum(parts.values()), cost)
    assert all(p >= 0 for p in parts.values())


@settings(max_examples=200, deadline=None)
@given(st.fixed_dictionaries({r: amounts for r in Resource}),
       st.fixed_dictionaries({r: amounts for r in Resource}))
def test_amount_is_at_least_request_and_usage(requested: dict, used: dict) -> None:  # type: ignore[type-arg]
    a = Allocation(name="x", team="t", model="m", duration_h=1.0, requested=requested, used=used)
    for r in Resource:
        assert a.amount(r) >= requested[r] and a.amount(r) >= used[r]
        assert a.amount(r) in (requested[r], used[r])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.0, 4.0), max_size=10), st.floats(0.1, 8.0))
def test_time_sliced_gpus_never_exceed_the_gpus(used: list[float], gpus: float) -> None:
    shares = time_sliced_gpus(used, gpus=gpus)
    assert sum(shares) <= gpus * (1 + 1e-12)
    assert all(0.0 <= s <= u + 1e-12 for s, u in zip(shares, used, strict=True))
    if sum(used) <= gpus:
        assert shares == used

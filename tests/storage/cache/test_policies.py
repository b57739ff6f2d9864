"""Each cache policy equals a naive reference, access by access, on small random traces."""

from __future__ import annotations

from collections.abc import Callable

import naive_caches
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.errors import InputError
from mlfleet.storage.cache import CacheInputError, policy, replay

Reference = Callable[[list[int], int], list[bool]]
REFERENCES: dict[str, Reference] = {"lru": naive_caches.lru, "lfu": naive_caches.lfu,
                                    "arc": naive_caches.arc}

traces = st.lists(st.integers(min_value=0, max_value=12), min_size=0, max_size=300)


@pytest.mark.parametrize("name", sorted(REFERENCES))
@settings(max_examples=150, deadline=None)
@given(trace=traces, capacity=st.integers(min_value=1, max_value=8))
def test_policy_equals_naive_reference(name: str, trace: list[int], capacity: int) -> None:
    cache = policy(name, capacity)
    fast = replay(cache, np.asarray(trace, dtype=np.int64)).tolist()
    assert fast == REFERENCES[name](trace, capacity)
    assert len(cache) <= capacity


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_policy_equals_reference_on_a_scan_over_a_hot_set(name: str) -> None:
    rng = np.random.default_rng(3)
    hot = rng.integers(0, 20, size=400)
    trace = np.concatenate([hot, np.arange(100, 400), hot]).astype(np.int64)
    fast = replay(policy(name, 16), trace).tolist()
    assert fast == REFERENCES[name](trace.tolist(), 16)


def test_arc_keeps_the_hot_set_through_a_scan_and_lru_does_not() -> None:
    hot = np.tile(np.arange(10, dtype=np.int64), 30)
    scan = np.arange(1000, 1100, dtype=np.int64)
    trace = np.concatenate([hot, scan, hot[:10]])
    after_scan = {name: replay(policy(name, 20), trace)[-10:].mean() for name in ("lru", "arc")}
    assert after_scan == {"lru": 0.0, "arc": 1.0}


def test_unknown_policy_and_bad_size_are_input_errors() -> None:
    with pytest.raises(CacheInputError, match="lru, lfu, arc"):
        policy("clock", 4)
    with pytest.raises(InputError, match=r"capacity\(=0\)"):
        policy("lru", 0)

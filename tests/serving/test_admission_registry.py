"""The admission registry and chaining policies."""

from __future__ import annotations

from typing import Any

import pytest
from policy_fakes import request, system

from mlfleet.errors import InputError
from mlfleet.serving.admission.chain import AllOf
from mlfleet.serving.admission.coalescing import CoalescingAdmission
from mlfleet.serving.admission.priority import PriorityAdmission
from mlfleet.serving.admission.registry import ADMISSIONS, make_admission
from mlfleet.serving.admission.token_bucket import TokenBucketAdmission


def test_registry_builds_every_policy_and_rejects_unknown_names() -> None:
    params: dict[str, dict[str, Any]] = {"token_bucket": {"rate_per_s": 1.0}, "queue_depth": {"max_queued": 5},
              "priority": {"max_outstanding": 8}, "coalescing": {}}
    assert set(params) == set(ADMISSIONS)
    for name, kwargs in params.items():
        assert make_admission(name, **kwargs).admit(request(), system())
    with pytest.raises(InputError, match=r"'lifo' is unknown; known: coalescing, priority, "
                                         r"queue_depth, token_bucket"):
        make_admission("lifo")
    with pytest.raises(InputError, match=r"bad parameters \['limit'\]"):
        make_admission("queue_depth", limit=3)


def test_chain_duplicates_spend_no_tokens_and_rejections_release_slots() -> None:
    coalesce = CoalescingAdmission()
    bucket = TokenBucketAdmission(rate_per_s=0.001, burst=2)
    slots = PriorityAdmission(max_outstanding=1, n_classes=1)
    chain = AllOf([coalesce, bucket, slots])
    assert chain.admit(request(0, key=5), system())
    assert not chain.admit(request(1, key=5), system())  # coalesced: no token spent
    assert not chain.admit(request(2, key=6), system())  # token ok, no slot: key 6 released
    assert coalesce.in_flight_keys() == 1
    chain.on_finish(request(0, key=5), 1.0)
    assert slots.in_flight() == 0
    assert not chain.admit(request(3, key=6), system(now_s=1.0))  # both tokens spent


def test_chain_needs_a_policy() -> None:
    with pytest.raises(InputError, match=r"policies\(=\[\]\) must hold at least one"):
        AllOf([])

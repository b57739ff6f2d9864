"""The registry of admission policies: name -> constructor, rejecting unknown names.

Compose several with :class:`mlfleet.serving.admission.chain.AllOf`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlfleet.serving.admission.coalescing import CoalescingAdmission
from mlfleet.serving.admission.priority import PriorityAdmission
from mlfleet.serving.admission.queue_depth import QueueDepthAdmission
from mlfleet.serving.admission.token_bucket import TokenBucketAdmission
from mlfleet.serving.policy import Admission
from mlfleet.serving.policy_factory import build_policy

ADMISSIONS: dict[str, Callable[..., Admission]] = {
    "token_bucket": TokenBucketAdmission,
    "queue_depth": QueueDepthAdmission,
    "priority": PriorityAdmission,
    "coalescing": CoalescingAdmission,
}
"""Every admission policy by name; each constructor takes keyword-only parameters."""


def make_admission(name: str, **params: Any) -> Admission:
    """A fresh admission policy ``name`` configured with ``params``.

    Raises :class:`~mlfleet.errors.PolicyConfigError` for an unknown name
    (listing the known ones), an unknown parameter, or a value out of range.
    """
    policy: Admission = build_policy(ADMISSIONS, "admission policy", name, params)
    return policy

"""The scenario's ``deployment:`` section: the declared state of a ``mlfleet serve``
deployment, which ``mlfleet serve --scenario`` applies and ``mlfleet ops diff`` compares
with a running server.

A field left out is not declared: ``serve --scenario`` keeps the server's default for it
and ``ops diff`` does not check it. Field names and units are the server's own
(``ServerConfig``); ``mlfleet.ops.declare.mapping`` is the one place that maps them.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, model_validator

from mlfleet.scenario.base import _Spec
from mlfleet.scenario.parsers import (
    _QUANTITY_SCHEMA,
    Bytes,
    PositiveInt,
    Seconds,
    ShortText,
    _Invalid,
    _quantity,
)

_DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?")
DelaySeconds = Annotated[float, BeforeValidator(_quantity("s", allow_zero=True)), _QUANTITY_SCHEMA]
"""A duration that may be zero (a batch dispatched at once)."""


class RankDeploymentSpec(_Spec):
    """Dynamic batching of the ranker path (``/v1/rank``)."""

    max_batch_size: PositiveInt | None = None
    """Most requests in one batch, e.g. 16."""
    max_queue_delay_s: DelaySeconds | None = None
    """Longest the oldest waiting request waits for a fuller batch, e.g. 4ms (0: none)."""
    queue_capacity: PositiveInt | None = None
    """Most waiting requests before 429, e.g. 64."""
    max_items_per_request: PositiveInt | None = None
    """Most candidate items one rank request may carry (more: 413), e.g. 256."""


class GenerateDeploymentSpec(_Spec):
    """Continuous batching of the generate path (``/v1/generate``)."""

    max_running: PositiveInt | None = None
    """Most sequences decoding at once, e.g. 16."""
    queue_capacity: PositiveInt | None = None
    """Most sequences waiting for a slot before 429, e.g. 64."""
    max_prompt_tokens: PositiveInt | None = None
    """Longest prompt accepted (more: 413), e.g. 128."""
    max_new_tokens: PositiveInt | None = None
    """Most tokens one request may ask for (more: 413), e.g. 128."""


class DeploymentSpec(_Spec):
    """What a running ``mlfleet serve`` should report (its ``/v1/info`` configuration)."""

    replicas: PositiveInt = 1
    """Server processes behind the load balancer, e.g. 2."""
    model_version: ShortText | None = None
    """The model version the server reports, e.g. ranker-2026-12-01."""
    device: str | None = None
    """auto, cpu, cuda or cuda:N."""
    max_body_bytes: Bytes | None = None
    """Largest request body accepted, e.g. 64KiB."""
    default_deadline_s: Seconds | None = None
    """Deadline for requests that carry none, e.g. 500ms."""
    admission: ShortText | None = None
    """A shared admission policy by name (token_bucket, priority, queue_depth, coalescing)."""
    admission_params: dict[ShortText, float | ShortText] | None = None
    """Its keyword parameters, e.g. {rate_per_s: 100}."""
    rank: RankDeploymentSpec | None = None
    """Dynamic batching of the ranker path."""
    generate: GenerateDeploymentSpec | None = None
    """Continuous batching of the generate path."""

    @model_validator(mode="before")
    @classmethod
    def _known_device(cls, data: Any) -> Any:
        device = data.get("device") if isinstance(data, dict) else None
        if device is not None and (not isinstance(device, str) or not _DEVICE.fullmatch(device)):
            raise _Invalid("must be auto, cpu, cuda or cuda:N", value=device, path=("device",))
        return data

    @model_validator(mode="after")
    def _whole_bytes_and_known_admission(self) -> DeploymentSpec:
        if self.max_body_bytes is not None and not float(self.max_body_bytes).is_integer():
            raise _Invalid("must be a whole number of bytes", value=self.max_body_bytes,
                           path=("max_body_bytes",))
        if self.admission_params is not None and self.admission is None:
            raise _Invalid("needs deployment.admission to name the policy they configure",
                           value=self.admission_params, path=("admission_params",))
        if self.admission is not None:
            from mlfleet.errors import InputError
            from mlfleet.serving.admission.registry import make_admission

            try:
                make_admission(self.admission, **(self.admission_params or {}))
            except InputError as exc:
                raise _Invalid(str(exc), verbatim=True, path=("admission",)) from None
        return self

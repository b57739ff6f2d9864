"""Configuration of the real inference server: one frozen, keyword-only spec per part."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlfleet.errors import InputError
from mlfleet.serving.server.models import GPTSpec, RankerSpec
from mlfleet.serving.server.resilience_config import RankFallbackConfig


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise InputError(message)


@dataclass(frozen=True, kw_only=True)
class DynamicBatchingConfig:
    """Dynamic batching for the ranker path (Triton-style: max batch, max queue delay)."""

    max_batch_size: int = 16
    """Most requests in one batch."""
    max_queue_delay_s: float = 0.004
    """When the worker is free and fewer than ``max_batch_size`` wait, dispatch once the
    oldest waiting request has waited this long."""
    queue_capacity: int = 64
    """Most requests waiting (not yet in a batch); more are shed with 429."""
    max_items_per_request: int = 256
    """Most candidate items one rank request may carry (more: 413)."""
    trace_model: bool = False
    """Run the ranker as a TorchScript trace, which takes the GIL once per batch instead of
    once per op, so a batch does not wait for the event loop between ops (eager mode if
    tracing fails)."""

    def __post_init__(self) -> None:
        _require(self.max_batch_size >= 1, f"max_batch_size(={self.max_batch_size}) must be >= 1")
        _require(self.max_queue_delay_s >= 0,
                 f"max_queue_delay_s(={self.max_queue_delay_s}) must be >= 0")
        _require(self.queue_capacity >= 1, f"queue_capacity(={self.queue_capacity}) must be >= 1")
        _require(self.max_items_per_request >= 1,
                 f"max_items_per_request(={self.max_items_per_request}) must be >= 1")


@dataclass(frozen=True, kw_only=True)
class ContinuousBatchingConfig:
    """Iteration-level (continuous) batching for the generate path."""

    max_running: int = 16
    """Most sequences decoding at once (KV cache slots)."""
    queue_capacity: int = 64
    """Most sequences waiting for a slot; more are shed with 429."""
    max_prompt_tokens: int = 128
    """Longest prompt accepted (more: 413)."""
    max_new_tokens: int = 128
    """Most tokens one request may ask for (more: 413)."""

    def __post_init__(self) -> None:
        _require(self.max_running >= 1, f"max_running(={self.max_running}) must be >= 1")
        _require(self.queue_capacity >= 1, f"queue_capacity(={self.queue_capacity}) must be >= 1")
        _require(self.max_prompt_tokens >= 1,
                 f"max_prompt_tokens(={self.max_prompt_tokens}) must be >= 1")
        _require(self.max_new_tokens >= 1, f"max_new_tokens(={self.max_new_tokens}) must be >= 1")


@dataclass(frozen=True, kw_only=True)
class ServerConfig:
    """Everything the server needs; the CLI builds one from its options."""

    host: str = "127.0.0.1"
    """Bind address; loopback by default (expose deliberately)."""
    port: int = 8000
    device: str = "auto"
    """``auto`` (CUDA when present, else CPU), ``cpu``, ``cuda``, ``cuda:1`` ..."""
    max_body_bytes: int = 64 * 1024
    """Largest request body accepted (more: 413)."""
    default_deadline_s: float | None = None
    """Deadline for requests that carry none; ``None``: no deadline."""
    rank: DynamicBatchingConfig = field(default_factory=DynamicBatchingConfig)
    generate: ContinuousBatchingConfig = field(default_factory=ContinuousBatchingConfig)
    ranker: RankerSpec = field(default_factory=RankerSpec)
    gpt: GPTSpec = field(default_factory=GPTSpec)
    admission: str | None = None
    """A shared admission policy by name (``serving/admission``: token_bucket, priority,
    ...) applied behind the queue bound; ``None``: the queue bound alone."""
    admission_params: tuple[tuple[str, Any], ...] = ()
    """Its keyword parameters, as ``(name, value)`` pairs."""
    warmup: bool = True
    """Run a few batches of every size before reporting ready."""
    stats_capacity: int = 200_000
    """Batch records kept for ``/v1/stats`` (calibration reads them)."""
    rank_fallback: RankFallbackConfig = field(default_factory=RankFallbackConfig)
    """Circuit breaker, bulkhead and fallback chain on the rank path, and an injected
    fault (``serving/server/rank_fallback.py``); off by default."""
    model_version: str | None = None
    """The model version this server reports in ``/v1/info`` (``mlfleet ops diff`` checks
    it against the scenario's ``deployment.model_version``); ``None``: not versioned."""

    def __post_init__(self) -> None:
        _require(0 <= self.port <= 65535, f"port(={self.port}) must be in 0..65535")
        _require(self.max_body_bytes >= 256, f"max_body_bytes(={self.max_body_bytes}) must be >= 256")
        _require(self.default_deadline_s is None or self.default_deadline_s > 0,
                 f"default_deadline_s(={self.default_deadline_s}) must be > 0")
        _require(self.generate.max_prompt_tokens + self.generate.max_new_tokens
                 <= self.gpt.max_seq_len,
                 f"max_prompt_tokens + max_new_tokens (={self.generate.max_prompt_tokens}"
                 f"+{self.generate.max_new_tokens}) must fit max_seq_len(={self.gpt.max_seq_len})")

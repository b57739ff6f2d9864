"""A real data-parallel training run with compressed gradient exchange.

Each rank holds the same MLP (:mod:`mlfleet.comm.compression.dp_task`), takes
minibatches from its own shard of the training set, computes its gradient,
compresses it with its own codec instance (its own error-feedback residual),
exchanges over the Transport (:func:`~mlfleet.comm.compression.exchange.aggregate_mean`)
and applies plain SGD to the averaged, decoded gradient. Bytes are the
transport's own payload counters, not estimates. All ranks end bit-identical
(checked through a parameter digest).

:func:`train_rank` is the per-rank body (one transport, one process or thread);
:mod:`mlfleet.comm.compression.study` runs it for every method and tabulates
loss vs bytes.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlfleet.comm.compression.base import compression_ratio
from mlfleet.comm.compression.dp_task import (
    Dataset,
    TaskSpec,
    evaluate,
    init_params,
    loss_and_grad,
    make_data,
)
from mlfleet.comm.compression.exchange import aggregate_mean
from mlfleet.comm.compression.registry import make_compressor, parse_method
from mlfleet.comm.progress import report_progress
from mlfleet.comm.transport.base import Transport
from mlfleet.errors import InputError


@dataclass(frozen=True, kw_only=True)
class DPRunConfig:
    """One data-parallel run: which method, how long, how fast."""

    method: str = "dense"
    """Registry method, e.g. ``"topk+ef"``."""
    codec_params: Mapping[str, Any] = field(default_factory=dict)
    """Keyword parameters of the codec, e.g. ``{"ratio": 0.01}``."""
    steps: int = 300
    """SGD steps (one gradient exchange each)."""
    batch_per_rank: int = 32
    """Minibatch size on each rank (global batch = ranks × this)."""
    lr: float = 0.1
    """Constant SGD learning rate."""
    seed: int = 0
    """Seeds data, initial weights, minibatches and codec randomness."""
    eval_every: int = 10
    """Record a (bytes, loss) point every this many steps."""
    task: TaskSpec = field(default_factory=TaskSpec)
    """Data set and model sizes."""

    def __post_init__(self) -> None:
        parse_method(self.method)  # raises InputError naming the known methods
        for name in ("steps", "batch_per_rank", "eval_every"):
            if getattr(self, name) < 1:
                raise InputError(f"{name}(={getattr(self, name)}) must be >= 1")
        if not self.lr > 0:
            raise InputError(f"lr(={self.lr}) must be > 0")


def shard(data: Dataset, rank: int, world_size: int) -> Dataset:
    """Rank ``rank``'s strided shard of ``data``."""
    return Dataset(x=data.x[rank::world_size], y=data.y[rank::world_size])


StepFn = Callable[[int], None]
"""Called by rank 0 with the number of SGD steps done, at every recorded point."""


def report_step(step: int) -> None:
    """Tell the launcher's ``on_progress`` (if any) that ``step`` steps are done."""
    report_progress(step=step)


def _bytes_sent(transport: Transport) -> int:
    return sum(transport.bytes_sent().values())


def train_rank(transport: Transport, config: DPRunConfig,
               on_step: StepFn = report_step) -> dict[str, Any]:
    """Train on this rank's shard; return a JSON-ready record of the run on this rank.

    Rank 0 calls ``on_step(steps_done)`` at every recorded point (every ``eval_every``
    steps and the last): by default a progress message to the launcher.
    """
    train, test = make_data(config.task, config.seed)
    local = shard(train, transport.rank, transport.world_size)
    params = init_params(config.task, config.seed)
    compressor = make_compressor(config.method, **config.codec_params)
    rng = np.random.default_rng([config.seed, transport.rank])
    bytes0, exchange_s = _bytes_sent(transport), 0.0
    curve = [_point(config, params, train, test, step=0, bytes_sent=0)]
    for step in range(1, config.steps + 1):
        rows = rng.integers(0, local.y.size, config.batch_per_rank)
        _, grad = loss_and_grad(config.task, params, Dataset(x=local.x[rows], y=local.y[rows]))
        start = time.perf_counter()
        mean_grad = aggregate_mean(transport, compressor, grad, rng)
        exchange_s += time.perf_counter() - start
        params -= np.float32(config.lr) * mean_grad
        if step % config.eval_every == 0 or step == config.steps:
            curve.append(
                _point(
                    config,
                    params,
                    train,
                    test,
                    step=step,
                    bytes_sent=_bytes_sent(transport) - bytes0,
                )
            )
            if transport.rank == 0:
                on_step(step)
    return {
        "rank": transport.rank,
        "method": config.method,
        "n_params": int(params.size),
        "compression_ratio": compression_ratio(compressor, params.size),
        "bytes_sent": _bytes_sent(transport) - bytes0,
        "exchange_s": exchange_s,
        "curve": curve,
        "params_sha256": hashlib.sha256(params.tobytes()).hexdigest(),
    }


def _point(
    config: DPRunConfig,
    params: np.ndarray,
    train: Dataset,
    test: Dataset,
    *,
    step: int,
    bytes_sent: int,
) -> dict[str, float]:
    train_loss, _ = evaluate(config.task, params, train)
    _, test_acc = evaluate(config.task, params, test)
    return {"step": step, "bytes_sent": bytes_sent, "loss": train_loss, "accuracy": test_acc}

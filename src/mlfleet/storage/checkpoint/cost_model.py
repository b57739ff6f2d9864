"""Checkpoint cost per model: bytes, write time, bytes written and stored per month.

A full checkpoint is ``checkpoint_bytes`` (size.py). Its write time at a sustained
bandwidth ``B`` is ``S / B`` (the stall of a synchronous save; an asynchronous save moves
it off the training path, see async_writer.py). For an embedding-dominated recommender,
an incremental checkpoint (Check-N-Run, Eisenman et al., NSDI'22) writes the dense part
plus the fraction ``f`` of embedding rows touched since the previous checkpoint, each row
with an 8-byte index per stored tensor (the layout of delta.py); a full checkpoint every
``full_every`` checkpoints bounds the chain a restore must read.

Storage at the end of a month of checkpoints every ``interval_s`` with retention "last K
plus every M-th checkpoint": the M-th checkpoints accumulate (assumed full), and the last
K need the chain back to the newest full checkpoint before them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mlfleet.checks import fraction, positive, positive_int

from .errors import CheckpointError
from .size import CheckpointSize

MONTH_S = 30 * 86400.0
INDEX_BYTES = 8
"""int64 row index per changed row per stored tensor (delta.py)."""


@dataclass(frozen=True, kw_only=True)
class Incremental:
    """An embedding-dominated model checkpointed incrementally."""

    embedding_params: float
    """Parameters in embedding tables (rows x dim)."""
    embedding_dim: int
    changed_rows_fraction: float
    """Fraction of embedding rows updated between two checkpoints."""
    full_every: int
    """A full checkpoint every this many checkpoints (1 = never incremental)."""


@dataclass(frozen=True, kw_only=True)
class CheckpointCost:
    """What checkpointing one model costs in time, bytes and dollars."""

    full_bytes: float
    delta_bytes: float
    """Bytes of one incremental checkpoint (= full_bytes when not incremental)."""
    write_bw_bytes_per_s: float
    full_write_s: float
    delta_write_s: float
    interval_s: float
    checkpoints_per_month: float
    written_bytes_per_month: float
    stored_bytes: float
    """Bytes kept at the end of a month under the retention policy."""
    usd_per_gb_month: float | None
    storage_usd_per_month: float | None
    """stored_bytes priced per GB-month (1 GB = 1e9 B), None without a price."""

    @property
    def keeps_up(self) -> bool:
        """Whether a full checkpoint is written within one interval (else saves pile up)."""
        return self.full_write_s <= self.interval_s


def delta_bytes(size: CheckpointSize, inc: Incremental) -> float:
    """Bytes of one incremental checkpoint (Check-N-Run's changed rows, exact, no quantization)."""
    emb_fraction = inc.embedding_params / size.params
    dense = size.total_bytes * (1.0 - emb_fraction)
    rows = inc.changed_rows_fraction * inc.embedding_params / inc.embedding_dim
    row_bytes = size.bytes_per_param * inc.embedding_dim + INDEX_BYTES * size.tensors_per_param
    return dense + rows * row_bytes


def stored_checkpoints(*, per_month: float, keep_last: int, keep_every: int,
                       full_every: int) -> tuple[float, float]:
    """``(full, delta)`` checkpoints stored after a month (see the module docstring)."""
    long_term = math.floor(per_month / keep_every) if keep_every else 0
    window = min(per_month, keep_last + full_every - 1)
    fulls = min(window, math.ceil(window / full_every))
    return long_term + fulls, max(window - fulls, 0.0)


def checkpoint_cost(size: CheckpointSize, *, write_bw_bytes_per_s: float, interval_s: float,
                    keep_last: int = 3, keep_every: int = 0,
                    usd_per_gb_month: float | None = None,
                    incremental: Incremental | None = None) -> CheckpointCost:
    """The cost of checkpointing a model of ``size``; CheckpointError on a bad argument."""
    bw = positive("write_bw_bytes_per_s", write_bw_bytes_per_s, error=CheckpointError)
    every = positive("interval_s", interval_s, error=CheckpointError)
    positive_int("keep_last", keep_last, error=CheckpointError)
    positive_int("keep_every", keep_every, minimum=0, error=CheckpointError)
    full_every, delta = 1, size.total_bytes
    if incremental is not None:
        fraction("changed_rows_fraction", incremental.changed_rows_fraction, error=CheckpointError)
        full_every = positive_int("full_every", incremental.full_every, error=CheckpointError)
        delta = delta_bytes(size, incremental) if full_every > 1 else size.total_bytes
    per_month = MONTH_S / every
    written = per_month * (size.total_bytes + (full_every - 1) * delta) / full_every
    fulls, deltas = stored_checkpoints(per_month=per_month, keep_last=keep_last,
                                       keep_every=keep_every, full_every=full_every)
    stored = fulls * size.total_bytes + deltas * delta
    usd = None if usd_per_gb_month is None else stored / 1e9 * usd_per_gb_month
    return CheckpointCost(full_bytes=size.total_bytes, delta_bytes=delta,
                          write_bw_bytes_per_s=bw, full_write_s=size.total_bytes / bw,
                          delta_write_s=delta / bw, interval_s=every,
                          checkpoints_per_month=per_month, written_bytes_per_month=written,
                          stored_bytes=stored, usd_per_gb_month=usd_per_gb_month,
                          storage_usd_per_month=usd)

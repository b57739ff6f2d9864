"""Delta (incremental) checkpoints: only the rows that changed since a base checkpoint.

Check-N-Run (Eisenman et al., "Check-N-Run: A Checkpointing System for Training Deep
Learning Recommendation Models", NSDI'22) writes only the embedding rows touched since the
last checkpoint, because between checkpoints a recommender updates a small fraction of its
rows (and adds quantization, not done here: deltas are exact). A tensor of the same
shape and dtype as in the base is stored as ``name@rows`` (int64 row indices) and
``name@values`` (those rows, bit for bit); a tensor that is new, reshaped or changed in more
than ``full_above`` of its rows is stored whole as ``name@full``; a tensor of the base that
is gone is listed in ``removed``. ``apply_delta(base, encode_delta(base, new)) == new`` bit for bit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch

from .errors import CorruptCheckpointError

ROWS, VALUES, FULL = "@rows", "@values", "@full"


@dataclass(frozen=True, kw_only=True)
class Delta:
    """The tensors of a delta shard and the base tensors it drops."""

    tensors: dict[str, torch.Tensor]
    removed: tuple[str, ...]
    changed_rows: int
    """Rows stored (changed rows of row-encoded tensors; all rows of full ones)."""
    total_rows: int
    """Rows in the new state (first dimension; 1 for a scalar)."""


def _rows_view(t: torch.Tensor) -> torch.Tensor:
    """(rows, bytes per row) uint8 view, so that comparison is bitwise (NaN == NaN, -0 != 0)."""
    flat = t.detach().contiguous().reshape(t.shape[0], -1)
    return flat.view(torch.uint8) if flat.shape[1] else flat.to(torch.uint8)


def _rows(t: torch.Tensor) -> int:
    return int(t.shape[0]) if t.dim() else 1


def changed_rows(base: torch.Tensor, new: torch.Tensor) -> torch.Tensor:
    """Indices (int64) of the first-dimension rows where ``new`` differs from ``base`` bitwise."""
    diff = (_rows_view(base) != _rows_view(new)).any(dim=1)
    return torch.nonzero(diff, as_tuple=False).reshape(-1)


def encode_delta(base: Mapping[str, torch.Tensor], new: Mapping[str, torch.Tensor], *,
                 full_above: float = 0.5) -> Delta:
    """The delta from ``base`` to ``new`` (see the module docstring)."""
    out: dict[str, torch.Tensor] = {}
    stored = total = 0
    for name, t in new.items():
        t = t.detach().cpu()
        total += _rows(t)
        b = base.get(name)
        if b is not None and b.shape == t.shape and b.dtype == t.dtype and t.dim() > 0:
            idx = changed_rows(b, t)
            if idx.numel() <= full_above * t.shape[0]:
                if idx.numel():
                    out[name + ROWS], out[name + VALUES] = idx, t[idx].contiguous()
                stored += int(idx.numel())
                continue
        out[name + FULL] = t
        stored += _rows(t)
    removed = tuple(sorted(set(base) - set(new)))
    return Delta(tensors=out, removed=removed, changed_rows=stored, total_rows=total)


def apply_delta(base: Mapping[str, torch.Tensor], delta: Mapping[str, torch.Tensor],
                removed: tuple[str, ...] | list[str] = ()) -> dict[str, torch.Tensor]:
    """The state ``encode_delta`` was given; CorruptCheckpointError if the base does not fit."""
    out = {k: v for k, v in base.items() if k not in set(removed)}
    for key, t in delta.items():
        if key.endswith(FULL):
            out[key[: -len(FULL)]] = t
        elif key.endswith(ROWS):
            name = key[: -len(ROWS)]
            if name not in out or name + VALUES not in delta:
                raise CorruptCheckpointError(f"delta names rows of {name!r}, which its base "
                                             "checkpoint lacks")
            patched = out[name].clone()
            patched[t] = delta[name + VALUES]
            out[name] = patched
    return dict(sorted(out.items()))

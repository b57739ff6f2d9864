"""One rank's share of a training checkpoint, and the state a rank restores from all shares.

The model, optimizer and LR-scheduler state is the same on every data-parallel rank, so it
is written once, split across the ranks' shards (tensor ``i`` in name order goes to rank
``i mod world``): each rank writes 1/world of it, as sharded checkpointing does. Each
shard also holds its rank's own RNG states (torch, numpy, python) and, in its JSON meta,
the step, the loader position and the world size. Restoring reads every shard of the
checkpoint, so a world of another size (elastic) can resume from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from mlfleet.reliability.train.model import RankRandomness
from mlfleet.storage.checkpoint import CheckpointStore, flatten_state, unflatten_state

_COMMON, _RANK = "c:", "r:"


def shard_name(rank: int) -> str:
    """The shard a rank writes: ``rank-00002``."""
    return f"rank-{rank:05d}"


@dataclass(frozen=True, kw_only=True)
class RestoredState:
    """What a rank needs to continue from a checkpoint."""

    step: int
    """Steps completed when the checkpoint was taken."""
    common: dict[str, Any]
    """``{"model", "optim", "sched"}`` state dicts."""
    loader: dict[str, int]
    """The loader's ``{"epoch", "position"}``."""
    lr_scale: float
    """The learning-rate multiplier the run had when it was saved."""
    rng: dict[str, Any] | None
    """This rank's RNG states, or None when the saving world had no such rank."""


def rng_state(rand: RankRandomness) -> dict[str, Any]:
    """Every RNG state of a rank: torch's global generator, numpy's and python's."""
    return {"torch": torch.get_rng_state(), "numpy": rand.numpy_rng.bit_generator.state,
            "python": rand.python_rng.getstate()}


def set_rng_state(rand: RankRandomness, state: Mapping[str, Any]) -> None:
    """Put back what :func:`rng_state` took."""
    torch.set_rng_state(state["torch"])
    rand.numpy_rng.bit_generator.state = state["numpy"]
    rand.python_rng.setstate(state["python"])


def shard_payload(*, common: Mapping[str, Any], rng: Mapping[str, Any], rank: int, world: int,
                  meta: Mapping[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """``(tensors, meta)`` of rank ``rank``'s shard (see the module docstring)."""
    common_tensors, common_meta = flatten_state(dict(common))
    rng_tensors, rng_meta = flatten_state(dict(rng))
    tensors = {_COMMON + name: t for i, (name, t) in enumerate(sorted(common_tensors.items()))
               if i % world == rank}
    tensors.update({_RANK + name: t for name, t in rng_tensors.items()})
    return tensors, {**meta, "common": common_meta, "rng": rng_meta, "world": world}


def restore(store: CheckpointStore, step: int, *, rank: int) -> RestoredState:
    """Read every shard of ``step`` and assemble rank ``rank``'s state (CorruptCheckpointError
    naming the file when a shard does not verify)."""
    info = store.info(step)
    common: dict[str, torch.Tensor] = {}
    first_meta: dict[str, Any] = {}
    rng: dict[str, Any] | None = None
    for name in info.shard_names:
        tensors, meta = store.load_shard(step, name)
        common.update({k[len(_COMMON):]: t for k, t in tensors.items() if k.startswith(_COMMON)})
        first_meta = first_meta or meta
        if name == shard_name(rank):
            rank_tensors = {k[len(_RANK):]: t for k, t in tensors.items() if k.startswith(_RANK)}
            rng = unflatten_state(rank_tensors, meta["rng"])
    return RestoredState(step=step, common=unflatten_state(common, first_meta["common"]),
                         loader=dict(first_meta["loader"]), lr_scale=float(first_meta["lr_scale"]),
                         rng=rng)

"""torch.distributed's own collectives, as a reference "algorithm" (``--algo builtin``).

They run on the default process group that a
:class:`~mlfleet.comm.transport.torch_dist.TorchTransport` initialised (gloo on
CPU, NCCL on GPU), with the same call shape as mlfleet's algorithms, so the
measurement harness and the tests can put gloo's AllReduce beside mlfleet's ring.
Non-root ranks of ``reduce`` return their input unchanged, as mlfleet's reduce
does (torch leaves them unspecified). Byte counts are not visible for these:
they bypass the transport.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from mlfleet.comm.algorithms.alltoall import Counts, check_counts, uniform_counts
from mlfleet.comm.algorithms.chunks import chunk_sizes
from mlfleet.comm.transport.base import Transport
from mlfleet.errors import InputError


def _dist(t: Transport) -> tuple[Any, Any, Any]:
    """The torch transport, torch.distributed, and the device of the transport's backend."""
    module = sys.modules.get("mlfleet.comm.transport.torch_dist")  # never import torch to say no
    if module is None or not isinstance(t, module.TorchTransport):
        raise InputError("algorithm 'builtin' needs the torch backend (--backend torch)")
    import torch
    import torch.distributed as dist

    return t, dist, torch.device("cuda") if t.backend == "nccl" else torch.device("cpu")


def _tensor(x: np.ndarray, device: Any) -> Any:
    import torch

    return torch.from_numpy(np.ascontiguousarray(x.reshape(-1)).copy()).to(device)


def _numpy(tensor: Any) -> np.ndarray:
    return np.asarray(tensor.cpu().numpy())


def allreduce_builtin(t: Transport, x: np.ndarray) -> np.ndarray:
    """``dist.all_reduce`` (sum)."""
    tr, dist, device = _dist(t)
    tensor = _tensor(x, device)
    dist.all_reduce(tensor, group=tr.group)
    return _numpy(tensor).reshape(x.shape)


def allgather_builtin(t: Transport, x: np.ndarray) -> np.ndarray:
    """``dist.all_gather`` of equal-size inputs, concatenated in rank order."""
    tr, dist, device = _dist(t)
    tensor = _tensor(x, device)
    parts = [tensor.new_empty(tensor.shape) for _ in range(t.world_size)]
    dist.all_gather(parts, tensor, group=tr.group)
    return np.concatenate([_numpy(p) for p in parts])


def reducescatter_builtin(t: Transport, x: np.ndarray) -> np.ndarray:
    """``dist.reduce_scatter`` with array_split chunk sizes (chunk ``rank`` of the sum)."""
    tr, dist, device = _dist(t)
    tensor = _tensor(x, device)
    inputs = list(tensor.split(chunk_sizes(tensor.numel(), t.world_size)))
    out = inputs[t.rank].new_empty(inputs[t.rank].shape)
    dist.reduce_scatter(out, [p.contiguous() for p in inputs], group=tr.group)
    return _numpy(out)


def alltoall_builtin(t: Transport, x: np.ndarray, *, counts: Counts | None = None) -> np.ndarray:
    """``dist.all_to_all_single`` with the same per-destination counts."""
    tr, dist, device = _dist(t)
    n, r = t.world_size, t.rank
    matrix = uniform_counts(n, x.size) if counts is None else check_counts(counts, n)
    recv = [matrix[j][r] for j in range(n)]
    tensor = _tensor(x, device)
    out = tensor.new_empty(sum(recv))
    dist.all_to_all_single(out, tensor, output_split_sizes=recv, input_split_sizes=matrix[r],
                           group=tr.group)
    return _numpy(out)


def broadcast_builtin(t: Transport, x: np.ndarray, *, root: int = 0) -> np.ndarray:
    """``dist.broadcast`` from ``root``."""
    tr, dist, device = _dist(t)
    tensor = _tensor(x, device)
    dist.broadcast(tensor, src=tr.global_rank(root), group=tr.group)
    return _numpy(tensor).reshape(x.shape)


def reduce_builtin(t: Transport, x: np.ndarray, *, root: int = 0) -> np.ndarray:
    """``dist.reduce`` (sum) to ``root``; other ranks return their input."""
    tr, dist, device = _dist(t)
    tensor = _tensor(x, device)
    dist.reduce(tensor, dst=tr.global_rank(root), group=tr.group)
    return _numpy(tensor).reshape(x.shape) if t.rank == root else x.copy()


BUILTINS: dict[str, Callable[..., np.ndarray]] = {
    "allreduce": allreduce_builtin,
    "allgather": allgather_builtin,
    "reducescatter": reducescatter_builtin,
    "alltoall": alltoall_builtin,
    "broadcast": broadcast_builtin,
    "reduce": reduce_builtin,
}

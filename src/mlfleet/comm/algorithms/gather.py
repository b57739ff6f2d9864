"""Gather arbitrary picklable objects from every rank (results, not tensors)."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np

from mlfleet.comm.algorithms.ring import allgather_ring
from mlfleet.comm.transport.base import Transport


def gather_objects(t: Transport, obj: Any) -> list[Any]:
    """Every rank's picklable ``obj``, in rank order, on every rank (two ring allgathers)."""
    data = np.frombuffer(pickle.dumps(obj), np.uint8)
    lengths = allgather_ring(t, np.array([data.size], np.int64))
    padded = np.zeros(int(lengths.max()), np.uint8)
    padded[: data.size] = data
    blocks = allgather_ring(t, padded).reshape(t.world_size, -1)
    return [pickle.loads(blocks[r, : lengths[r]].tobytes()) for r in range(t.world_size)]

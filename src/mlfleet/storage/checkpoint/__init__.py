"""The checkpoint store shared by training and storage: sharded, checksummed, atomic, no pickle.

See docs/storage-checkpoint.md for the layout, the commit protocol and measured numbers.

Names are resolved on first use (PEP 562): the size model (``checkpoint_bytes``), which
``mlfleet plan`` reads, must not import torch, an optional extra the store itself needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .async_writer import AsyncCheckpointer, SaveTiming
    from .errors import CheckpointError, CheckpointWriteError, CorruptCheckpointError
    from .manifest import CheckpointInfo, ShardRecord
    from .size import CheckpointSize, checkpoint_bytes, checkpoint_bytes_for_params
    from .state import flatten_state, unflatten_state
    from .store import CheckpointStore

_WHERE = {
    "AsyncCheckpointer": "async_writer", "SaveTiming": "async_writer",
    "CheckpointError": "errors", "CheckpointWriteError": "errors",
    "CorruptCheckpointError": "errors", "CheckpointInfo": "manifest", "ShardRecord": "manifest",
    "CheckpointSize": "size", "checkpoint_bytes": "size", "checkpoint_bytes_for_params": "size",
    "flatten_state": "state", "unflatten_state": "state", "CheckpointStore": "store",
}
"""Public name -> the submodule that defines it."""

__all__ = [
    "AsyncCheckpointer", "CheckpointError", "CheckpointInfo", "CheckpointSize", "CheckpointStore",
    "CheckpointWriteError", "CorruptCheckpointError", "SaveTiming", "ShardRecord",
    "checkpoint_bytes", "checkpoint_bytes_for_params", "flatten_state", "unflatten_state",
]
assert sorted(__all__) == sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)

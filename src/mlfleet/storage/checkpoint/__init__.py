"""The checkpoint store shared by training and storage: sharded, checksummed, atomic, no pickle.

See docs/storage-checkpoint.md for the layout, the commit protocol and measured numbers.
"""

from __future__ import annotations

from .async_writer import AsyncCheckpointer, SaveTiming
from .errors import CheckpointError, CheckpointWriteError, CorruptCheckpointError
from .manifest import CheckpointInfo, ShardRecord
from .size import CheckpointSize, checkpoint_bytes, checkpoint_bytes_for_params
from .state import flatten_state, unflatten_state
from .store import CheckpointStore

__all__ = [
    "AsyncCheckpointer", "CheckpointError", "CheckpointInfo", "CheckpointSize", "CheckpointStore",
    "CheckpointWriteError", "CorruptCheckpointError", "SaveTiming", "ShardRecord",
    "checkpoint_bytes",
    "checkpoint_bytes_for_params", "flatten_state", "unflatten_state",
]

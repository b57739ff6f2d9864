"""Allocations from a real run's per-rank logs (``mlfleet run train --log-dir DIR``).

Each rank held one device (a CPU core under gloo here, a GPU under NCCL) from its first
logged span to the end of its last, its request; it was busy inside its spans (data,
forward, backward, allreduce, checkpoint: :mod:`mlfleet.ops.debug.rank_log`), so
``used = busy / held`` of a device. A slow rank shows as a long allreduce on the others,
which is billed as used: waiting in a collective holds the device as much as computing.
"""

from __future__ import annotations

from pathlib import Path

from mlfleet.checks import one_of
from mlfleet.ops.cost.allocation import Allocation
from mlfleet.ops.cost.from_run import DEVICES, RunLogError
from mlfleet.ops.debug.log_reader import RankSpans, read_logs


def rank_allocations(spans: RankSpans, *, team: str, model: str, device: str = "cpu",
                     source: str = "logs") -> list[Allocation]:
    """One allocation per rank of ``spans``."""
    resource = DEVICES[one_of("device", device, DEVICES)]
    out = []
    for rank, found in sorted(spans.items()):
        if not found:
            raise RunLogError(f"{source}: rank {rank} logged no span")
        start_s = min(s.start_ns for s in found) / 1e9
        end_s = max(s.start_ns / 1e9 + s.dur_s for s in found)
        held_s = end_s - start_s
        if held_s <= 0:
            raise RunLogError(f"{source}: rank {rank}'s spans cover no time")
        busy_s = sum(s.dur_s for s in found)
        out.append(Allocation(name=f"{source}/rank-{rank}", team=team, model=model,
                              duration_h=held_s / 3600, requested={resource: 1.0},
                              used={resource: min(busy_s / held_s, 1.0)}))
    return out


def read_rank_logs(log_dir: Path, *, team: str, model: str,
                   device: str = "cpu") -> list[Allocation]:
    """:func:`rank_allocations` of the ``rank-*.jsonl`` files in ``log_dir``."""
    return rank_allocations(read_logs(log_dir), team=team, model=model, device=device,
                            source=log_dir.name)

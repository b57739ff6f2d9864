"""What a lab's links carry with no algorithm in the way: the ceiling for any ring here.

Every host streams ``size_bytes`` to its right neighbour while receiving as much
from its left, all at once, over the same socket transport the algorithms use
(one ``isend`` and one ``irecv`` per rank, nothing to wait for in between). On an
ideal network each link then runs at its payload rate, ``rate · MSS/(MTU + 14)``.
On this machine every byte is copied and shaped in software by the same CPUs
that run the ranks, so the stream falls short of that by however much the CPUs
cannot keep up: measuring it beside a collective separates what the collective
loses from what the emulated network itself loses.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlfleet.comm.lab.lab import hosts_of
from mlfleet.comm.lab.state import LabState
from mlfleet.errors import InputError


@dataclass(frozen=True, kw_only=True)
class StreamMeasurement:
    """Ring streams of one size: seconds per stream, one entry per repetition."""

    size_bytes: int
    """Bytes each host sends (and receives)."""
    times_s: tuple[float, ...]
    """``max(end) − min(start)`` over ranks, per repetition."""

    @property
    def median_s(self) -> float:
        """Median over the repetitions."""
        return statistics.median(self.times_s)

    def rate_fraction(self, rate_bytes_per_s: float) -> float:
        """Payload bytes per second on each link over the shaped rate (median)."""
        return self.size_bytes / self.median_s / rate_bytes_per_s


def stream_rank(t: Any, *, numel: int, reps: int) -> dict[str, list[float]]:
    """One rank: ``reps`` times, stream ``numel`` float32 to the right while receiving."""
    n, r = t.world_size, t.rank
    out = np.empty(numel, np.float32)
    data = np.full(numel, r, np.float32)
    starts, ends = [], []
    for rep in range(reps + 1):  # the first one warms TCP up and is not reported
        t.barrier()
        start = time.monotonic()
        pending = [t.isend((r + 1) % n, data), t.irecv((r - 1) % n, out)]
        for handle in pending:
            t.wait(handle)
        if rep:
            starts.append(start)
            ends.append(time.monotonic())
    if not np.all(out == (r - 1) % n):
        raise AssertionError(f"rank {r}: stream from rank {(r - 1) % n} arrived corrupted")
    return {"starts": starts, "ends": ends}


def measure_streams(state: LabState, *, size_bytes: int, reps: int = 3,
                    timeout_s: float = 60.0) -> StreamMeasurement:
    """Stream ``size_bytes`` around the ring of ``state``'s hosts, ``reps`` times."""
    from mlfleet.comm.launch import HostSpec, launch

    if size_bytes < 4 or reps < 1:
        raise InputError(f"size_bytes(={size_bytes}) must be >= 4 and reps(={reps}) >= 1")
    hosts = [HostSpec(ip=h.ip, exec_prefix=h.exec_prefix) for h in hosts_of(state)]
    results = launch(len(hosts), stream_rank, hosts=hosts, timeout_s=timeout_s,
                     kwargs={"numel": size_bytes // 4, "reps": reps})
    times = tuple(max(r["ends"][i] for r in results) - min(r["starts"][i] for r in results)
                  for i in range(reps))
    return StreamMeasurement(size_bytes=size_bytes // 4 * 4, times_s=times)

"""Speed of a trace job: a known run time when packed, slower when spread over nodes.

A trace gives each job's duration on its GPUs packed on the fewest nodes. On another
placement, one training iteration is ``compute_s`` plus a gradient AllReduce of
``gradient_bytes``, timed by :mod:`mlfleet.comm`'s collective models (the fastest
algorithm on that placement's topology); the job runs ``T(packed) / T(placement)``
times as fast (at most 1: spreading is never credited), linearly slower on fewer
GPUs than it asked for (elastic jobs), and ``share`` times as fast on a fraction of
each GPU (``JobSpec.gpu_fraction``: a MIG slice or a time-slice).
The defaults describe a ResNet-50-like data-parallel job (25.6 M fp32 parameters,
~0.1 s of compute per step) on PCIe nodes joined by 100 Gb/s RoCE, the hardware class
of the Philly cluster (Jeon et al., ATC'19, Sec. 2: PCIe servers, 100 Gb/s network).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from mlfleet.catalog.types import Interconnect
from mlfleet.comm.select import best_allreduce_time
from mlfleet.comm.topology import Topology
from mlfleet.infra.scheduling.speed.model import packed_counts

FINISH_TOLERANCE_S = 1e-6
"""A job this close to done at the end of a step counts as done then (summing a rate
over many steps leaves float residue; a finish on a round must not slip a round)."""


@dataclass(frozen=True, kw_only=True)
class LocalityModel:
    """How much slower a data-parallel job runs when its GPUs are spread over nodes."""

    gpus_per_node: int = 4
    gradient_bytes: float = 25.6e6 * 4
    """Gradient bytes all-reduced per iteration (ResNet-50, fp32)."""
    compute_s: float = 0.1
    """Forward + backward seconds per iteration, not overlapped with communication."""
    scaleup: str = "PCIe4-x16"
    """Catalog interconnect inside a node."""
    scaleout: str = "RoCE-100G"
    """Catalog interconnect between nodes (one NIC per node)."""
    _cache: dict[tuple[int, ...], float] = field(default_factory=dict, repr=False,
                                                 compare=False)

    def iteration_s(self, counts: tuple[int, ...]) -> float:
        """Seconds per iteration on GPUs-per-node ``counts``."""
        key = tuple(sorted((c for c in counts if c), reverse=True))
        if key not in self._cache:
            self._cache[key] = self.compute_s + self._allreduce_s(key)
        return self._cache[key]

    def _allreduce_s(self, counts: tuple[int, ...]) -> float:
        ranks = sum(counts)
        if ranks < 2:
            return 0.0
        up, out = Interconnect.from_name(self.scaleup), Interconnect.from_name(self.scaleout)
        topo = Topology(name="placement", ranks=ranks, gpus_per_node=counts[0],
                        intra_alpha_s=up.latency_s, intra_bw_bytes_per_s=up.bw_bytes_per_s,
                        inter_alpha_s=out.latency_s, node_bw_bytes_per_s=out.bw_bytes_per_s,
                        scaleup_link=up.name, scaleout_link=out.name)
        return float(best_allreduce_time(topo, self.gradient_bytes)[()])

    def speedup(self, counts: tuple[int, ...], gpus: int) -> float:
        """Speed on ``counts`` relative to ``gpus`` GPUs packed (1.0 when packed; never
        above it: a spread job that the model would credit with more NIC bandwidth than
        packed, e.g. 16 x 1 GPU vs 4 x 4 on one NIC per node, takes that bandwidth from
        the other jobs on those nodes, which a per-job model does not see)."""
        packed = packed_counts(gpus, self.gpus_per_node)
        share = sum(counts) / gpus
        return share * min(1.0, self.iteration_s(packed) / self.iteration_s(counts))


class TraceSpeed:
    """A trace job's fraction done (a :class:`~.model.JobSpeed`)."""

    __slots__ = ("duration_s", "gpus", "locality", "share", "done", "counts", "_rate")

    def __init__(self, *, duration_s: float, gpus: int, locality: LocalityModel,
                 share: float = 1.0) -> None:
        self.duration_s = duration_s
        """Run time on ``gpus`` whole GPUs, packed."""
        self.gpus = gpus
        self.share = share
        """Fraction of each GPU it gets (a MIG slice, a time-slice): speed scales with it."""
        self.locality = locality
        self.done = 0.0
        self.counts: tuple[int, ...] = ()
        self._rate = 0.0

    @property
    def fraction_done(self) -> float:
        return self.done

    def place(self, counts: tuple[int, ...]) -> None:
        self.counts = tuple(c for c in counts if c)
        self._rate = self.rate(self.counts)

    def rate(self, counts: tuple[int, ...]) -> float:
        if not any(counts):
            return 0.0
        return self.share * self.locality.speedup(counts, self.gpus) / self.duration_s

    def advance(self, seconds: float) -> float | None:
        if self._rate <= 0.0:
            return None
        left_s = (1.0 - self.done) / self._rate
        if left_s <= seconds + FINISH_TOLERANCE_S:  # float residue of chunked steps
            self.done = 1.0
            return min(left_s, seconds)
        self.done += self._rate * seconds
        return None

    def remaining_s(self, counts: tuple[int, ...]) -> float:
        speed = self.rate(counts)
        return math.inf if speed <= 0.0 else (1.0 - self.done) / speed

    def time_to_finish_s(self) -> float:
        return math.inf if self._rate <= 0.0 else (1.0 - self.done) / self._rate

    def isolated_s(self) -> float:
        return self.duration_s / self.share


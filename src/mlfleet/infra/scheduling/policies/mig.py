"""GPU sharing for jobs that need less than a GPU: MIG instances, or time-slicing.

**MIG** (NVIDIA Multi-Instance GPU User Guide, "Supported MIG Profiles" and its
placement table): an A100/H100/H200 splits into 7 compute slices and 8 memory slices.
The profiles (``<g>g.<mem>gb``: compute slices, memory slices, bytes) are the isolation
chapter's (:mod:`mlfleet.infra.isolation.mig`); here each also gets the memory-slice
positions it may start at, and two instances conflict when their memory slices
overlap. That admits exactly the guide's layouts, e.g. 4g+3g, 4g+2g+1g, 3g+3g,
3g+2g+1g+1g, 2g+2g+2g+1g and 7 x 1g, and refuses 4g+4g or 3g+3g+1g, which fit by
slice count. A job asking for ``gpu_fraction`` f gets the smallest profile with
g/7 >= f.

**Time-slicing** (the NVIDIA device plugin's ``sharing.timeSlicing.replicas``): up to
``replicas`` jobs share one GPU with no isolation, taking turns; each of k jobs gets
1/k of the GPU's time, less a context-switch overhead. :func:`time_sliced_speed` gives
the speed of a job relative to running alone on a slice of its size.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet.infra.isolation.mig import PROFILES, MigProfile
from mlfleet.infra.scheduling.policies.options import PolicyOptionError

STARTS: dict[tuple[int, int], tuple[int, ...]] = {
    (1, 1): (0, 1, 2, 3, 4, 5, 6), (1, 2): (0, 2, 4, 6), (2, 2): (0, 2, 4), (3, 4): (0, 4),
    (4, 4): (0,), (7, 8): (0,)}
"""(compute slices, memory slices) -> memory-slice positions an instance may start at
(the MIG user guide's placement table, the same for A100, H100 and H200)."""


def starts_of(profile: MigProfile) -> tuple[int, ...]:
    """Where ``profile`` may start."""
    return STARTS[profile.compute_slices, profile.memory_slices]


def profiles_for(gpu: str) -> tuple[MigProfile, ...]:
    """The MIG profiles of ``gpu``; PolicyOptionError naming the known GPUs."""
    if gpu not in PROFILES:
        raise PolicyOptionError(f"mig_gpu(={gpu!r}) is unknown; known: {', '.join(PROFILES)}")
    return PROFILES[gpu]


def profile_for(gpu: str, gpu_fraction: float) -> MigProfile:
    """The smallest profile of ``gpu`` (fewest compute, then memory slices) with at least
    ``gpu_fraction`` of its compute."""
    fitting = [p for p in profiles_for(gpu) if p.compute_slices / 7 >= gpu_fraction - 1e-12]
    return min(fitting, key=lambda p: (p.compute_slices, p.memory_slices))


@dataclass
class MigLayout:
    """The instances carved on one GPU: memory-slice start -> profile."""

    instances: dict[int, MigProfile]

    def free_compute(self) -> int:
        """Compute slices not in an instance."""
        return 7 - sum(p.compute_slices for p in self.instances.values())

    def taken(self) -> set[int]:
        """Memory slices in use."""
        return {s + k for s, p in self.instances.items() for k in range(p.memory_slices)}

    def starts_for(self, profile: MigProfile) -> list[int]:
        """The allowed starts where ``profile`` overlaps no instance."""
        if self.free_compute() < profile.compute_slices:
            return []
        taken = self.taken()
        return [s for s in starts_of(profile)
                if not taken & set(range(s, s + profile.memory_slices))]

    def start_for(self, profile: MigProfile, gpu: str) -> int | None:
        """Where to put ``profile``: the free start that leaves the most (profile, start)
        options of ``gpu`` open afterwards (earliest on ties); None if none is free."""
        def options_left(start: int) -> int:
            trial = MigLayout(instances={**self.instances, start: profile})
            return sum(len(trial.starts_for(p)) for p in profiles_for(gpu))

        starts = self.starts_for(profile)
        return max(starts, key=lambda s: (options_left(s), -s)) if starts else None


def time_sliced_speed(jobs_on_gpu: int, gpu_fraction: float, *,
                      switch_overhead: float = 0.05) -> float:
    """Speed of one of ``jobs_on_gpu`` time-sliced jobs relative to a dedicated slice of
    ``gpu_fraction`` of a GPU: it gets 1/k of the time, minus the context-switch
    overhead (a fraction of the time, only when k > 1), and needs ``gpu_fraction``."""
    share = 1.0 / jobs_on_gpu * (1.0 - (switch_overhead if jobs_on_gpu > 1 else 0.0))
    return min(1.0, share / gpu_fraction)


Slot = tuple[int, int]
"""(node, GPU index on the node) of a GPU in MIG mode."""


class MigPool:
    """The MIG instances on a cluster's GPUs across rounds: which GPU holds each job's.

    A GPU with at least one instance is in MIG mode and takes no whole-GPU job; when
    its last instance goes it returns to the whole-GPU pool (reconfiguration is taken
    as instantaneous).
    """

    def __init__(self, gpu: str) -> None:
        profile_for(gpu, 1.0)  # rejects an unknown GPU
        self.gpu = gpu
        self._where: dict[str, list[tuple[Slot, int, MigProfile]]] = {}

    def sync(self, running: set[str]) -> None:
        """Forget the instances of jobs that no longer run."""
        self._where = {n: w for n, w in self._where.items() if n in running}

    def layouts(self) -> dict[Slot, MigLayout]:
        """Each MIG-mode GPU's instances."""
        gpus: dict[Slot, MigLayout] = {}
        for instances in self._where.values():
            for slot, start, profile in instances:
                gpus.setdefault(slot, MigLayout(instances={})).instances[start] = profile
        return gpus

    def mig_gpus(self, nodes: int) -> list[int]:
        """GPUs in MIG mode per node."""
        count = [0] * nodes
        for node, _ in self.layouts():
            count[node] += 1
        return count

    def place(self, name: str, slices: int, gpu_fraction: float,
              free: list[int]) -> tuple[int, ...] | None:
        """Instances for job ``name`` (``slices`` of them), on GPUs already in MIG mode
        (best fit: fewest free compute slices) before opening a whole GPU from ``free``
        (which it decrements); the nodes, or None (nothing changed) when they do not fit."""
        profile = profile_for(self.gpu, gpu_fraction)
        layouts, opened, chosen = self.layouts(), list(free), []
        for _ in range(slices):
            spot = self._best_fit(layouts, profile, self.gpu) or self._open(layouts, opened)
            if spot is None:
                return None
            slot, start = spot
            layouts.setdefault(slot, MigLayout(instances={})).instances[start] = profile
            chosen.append((slot, start, profile))
        free[:] = opened
        self._where[name] = chosen
        return tuple(sorted(slot[0] for slot, _, _ in chosen))

    @staticmethod
    def _best_fit(layouts: dict[Slot, MigLayout], profile: MigProfile,
                  gpu: str) -> tuple[Slot, int] | None:
        fits = [(layout.free_compute(), slot, start) for slot, layout in layouts.items()
                if (start := layout.start_for(profile, gpu)) is not None]
        return (min(fits)[1], min(fits)[2]) if fits else None

    @staticmethod
    def _open(layouts: dict[Slot, MigLayout], free: list[int]) -> tuple[Slot, int] | None:
        nodes = [n for n in range(len(free)) if free[n] > 0]
        if not nodes:
            return None
        node = min(nodes, key=lambda n: (free[n], n))
        free[node] -= 1
        index = max((i for n, i in layouts if n == node), default=-1) + 1
        return (node, index), 0

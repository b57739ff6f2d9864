"""Backfill: start a lower-priority job now only if it delays no reserved job.

Slurm's sched/backfill (slurm.conf ``SchedulerParameters=bf_*``; "Scheduling
Configuration Guide" and sched_plugins docs): every ``bf_interval`` seconds it walks
the pending jobs in priority order (at most ``bf_max_job_test``), builds a plan of when
each node frees up from the running jobs' *time limits* (not their real durations,
which it cannot know), and for each job finds the earliest time it fits for its whole
time limit. A job that fits now starts now; one that does not gets a reservation at its
earliest start (if within ``bf_window``), which later jobs must not overlap. Slurm
reserves for every blocked job; ``reservations=1`` gives EASY backfill, which protects
only the first blocked job. Simplifications (stated in docs/scheduling-slurm.md): plan
times are exact seconds (``bf_resolution=1``), no job arrays, heterogeneous jobs,
licences or advanced reservations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mlfleet.infra.scheduling.slurm.allocation import FreeNodes, Holding, Request
from mlfleet.infra.scheduling.slurm.nodes import select_nodes

MIN_REMAINING_S = 1.0
"""A running job already past its limit is planned to end this soon (it is being killed)."""


@dataclass(frozen=True, kw_only=True)
class Reservation:
    """Where and when backfill plans a blocked job to start."""

    key: str
    start_s: float
    nodes: tuple[int, ...]


class Plan:
    """Free resources per node as a step function of time, from now on."""

    def __init__(self, *, now_s: float, free: FreeNodes, holdings: Sequence[Holding]) -> None:
        self.now_s = now_s
        self._gpus = list(free.gpus)
        self._cpus = list(free.cpus)
        self._steps: list[tuple[float, int, int, int]] = []  # (time, node, d_gpus, d_cpus)
        self._ends: list[float] = []  # when each running job is planned to end
        for held in holdings:
            end = max(held.expected_end_s, now_s + MIN_REMAINING_S)
            self._ends.append(end)
            for node in held.nodes:
                self._steps.append((end, node, held.gpus_per_node, held.cpus_per_node))

    def add(self, *, nodes: Sequence[int], start_s: float, end_s: float, gpus_per_node: int,
            cpus_per_node: int) -> None:
        """Hold ``nodes`` over ``[start_s, end_s)``."""
        for node in nodes:
            self._steps.append((start_s, node, -gpus_per_node, -cpus_per_node))
            self._steps.append((end_s, node, gpus_per_node, cpus_per_node))

    def minimum_free(self, start_s: float, end_s: float) -> tuple[list[int], list[int]]:
        """Per node, the fewest free GPUs and CPUs at any time in ``[start_s, end_s)``."""
        gpus, cpus = list(self._gpus), list(self._cpus)
        for t, node, dg, dc in sorted(self._steps):
            if t <= start_s:
                gpus[node] += dg
                cpus[node] += dc
        low_g, low_c = list(gpus), list(cpus)
        # at one instant, what ends is free before what starts takes it (a reservation
        # starts exactly when the job it waits for ends: no dip in between)
        for t, node, dg, dc in sorted(self._steps, key=lambda s: (s[0], s[2] < 0, s[1])):
            if start_s < t < end_s:
                gpus[node] += dg
                cpus[node] += dc
                low_g[node] = min(low_g[node], gpus[node])
                low_c[node] = min(low_c[node], cpus[node])
        return low_g, low_c

    def earliest(self, request: Request, *, window_s: float,
                 batch_phase_s: float | None = None) -> Reservation | None:
        """The earliest start (and nodes) of ``request`` within the window, else None.

        ``batch_phase_s`` (a variant): test only at the ends of batches of running jobs,
        as cons_tres's will-run test does (running jobs by end time, removed in batches up
        to a 30-s barrier plus a window that doubles per batch; the start is the batch's
        last end), the barrier at ``batch_phase_s`` modulo 30 s."""
        times = (sorted({self.now_s, *(t for t, *_ in self._steps if t > self.now_s)})
                 if batch_phase_s is None else [self.now_s, *self.batch_ends(batch_phase_s)])
        for t in times:
            if t > self.now_s + window_s:
                break
            gpus, cpus = self.minimum_free(t, t + request.time_limit_s)
            nodes = select_nodes(gpus, cpus, nodes=request.nodes,
                                 gpus_per_node=request.gpus_per_node,
                                 cpus_per_node=request.cpus_per_node)
            if nodes is not None:
                return Reservation(key=request.key, start_s=t, nodes=nodes)
        return None

    def batch_ends(self, phase_s: float, window_s: float = 30.0) -> list[float]:
        """The running jobs' ends at which :meth:`earliest` tests with ``batch_phase_s``:
        the last end of each will-run batch."""
        ends = sorted(e for e in self._ends if e > self.now_s)
        out: list[float] = []
        i, barrier = 0, None
        while i < len(ends):
            if barrier is None:
                barrier = ends[i] + window_s - (ends[i] + phase_s) % window_s
            j = i
            while j + 1 < len(ends) and ends[j + 1] <= barrier + window_s:
                j += 1
            out.append(ends[j])
            window_s *= 2
            while j + 1 < len(ends) and ends[j + 1] > barrier + window_s:
                window_s *= 2
            i = j + 1
        return out


@dataclass(frozen=True, kw_only=True)
class BackfillResult:
    """What one pass decided: jobs to start now, and the reservations it made."""

    starts: list[Reservation]
    reservations: list[Reservation]


def backfill_pass(*, now_s: float, pending: Sequence[Request], holdings: Sequence[Holding],
                  free: FreeNodes, window_s: float = 86400.0, max_job_test: int = 500,
                  reservations: int | None = None,
                  whole_nodes: tuple[int, int] | None = None,
                  batch_phase_s: float | None = None) -> BackfillResult:
    """One backfill pass over ``pending`` (already in priority order); ``free`` is updated
    with the jobs it starts. ``whole_nodes``: (GPUs, CPUs) of a node, to reserve whole
    nodes for a blocked job, as Slurm's node_space plan does (its reservations are node
    bitmaps); None reserves only the GPUs and CPUs the job asks for (the default, a
    variant the real-Slurm comparison's workload is checked against); ``batch_phase_s``:
    see :meth:`Plan.earliest`."""
    plan = Plan(now_s=now_s, free=free, holdings=holdings)
    starts: list[Reservation] = []
    reserved: list[Reservation] = []
    for request in pending[:max_job_test]:
        slot = plan.earliest(request, window_s=window_s, batch_phase_s=batch_phase_s)
        if slot is None:
            continue
        if slot.start_s == now_s:
            starts.append(slot)
            free.take(slot.nodes, request.gpus_per_node, request.cpus_per_node)
        elif reservations is not None and len(reserved) >= reservations:
            continue
        else:
            reserved.append(slot)
        gpus, cpus = request.gpus_per_node, request.cpus_per_node
        if whole_nodes is not None and slot.start_s > now_s:
            gpus, cpus = whole_nodes
        plan.add(nodes=slot.nodes, start_s=slot.start_s,
                 end_s=slot.start_s + request.time_limit_s, gpus_per_node=gpus,
                 cpus_per_node=cpus)
    return BackfillResult(starts=starts, reservations=reserved)

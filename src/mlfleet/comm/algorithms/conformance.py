"""Run a batch of collective calls in one launch and return every output (conformance tests).

Starting processes is the slow part of a real test, so a test sends one list of
:class:`Case` to each launch, every rank runs them all in order, and the parent
checks every output against the definition, torch's built-in collective and the
byte prediction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlfleet.comm.algorithms.definition import make_input
from mlfleet.comm.algorithms.registry import run_collective
from mlfleet.comm.transport.base import Transport
from mlfleet.comm.transport.group import GroupTransport


@dataclass(frozen=True, kw_only=True)
class Case:
    """One collective call."""

    collective: str
    """Which collective."""
    algorithm: str
    """Registered algorithm name (``builtin``: torch's own)."""
    numel: int
    """Elements in each rank's input (AlltoAll with counts: ignored, row sums used)."""
    dtype: str = "float32"
    """numpy dtype of the input."""
    seed: int = 0
    """Seed of the deterministic inputs (:func:`~definition.make_input`)."""
    params: Mapping[str, Any] = field(default_factory=dict)
    """Algorithm parameters (root, counts, ranks_per_node, mode, n_servers)."""

    def input_numel(self, rank: int) -> int:
        """This rank's input size (AlltoAll with counts: the sum of its row)."""
        counts = self.params.get("counts")
        return int(sum(counts[rank])) if counts is not None else self.numel

    def make_input(self, rank: int) -> np.ndarray:
        """Rank ``rank``'s input for this case."""
        return make_input(rank=rank, numel=self.input_numel(rank), dtype=self.dtype,
                          seed=self.seed)


def run_cases(t: Transport, cases: Sequence[Case]) -> list[tuple[np.ndarray, dict[int, int]]]:
    """Per case, this rank's output and the payload bytes it sent to each peer."""
    results = []
    for case in cases:
        x = case.make_input(t.rank)
        x.setflags(write=False)  # an algorithm writing its input fails loudly
        before = t.bytes_sent()
        out = run_collective(t, case.collective, case.algorithm, x, **case.params)
        after = t.bytes_sent()
        results.append((out, {peer: after[peer] - before[peer] for peer in after}))
    return results


def run_cases_by_rank_count(t: Transport,
                            cases: Mapping[int, Sequence[Case]]) -> dict[int, Any]:
    """For each rank count ``n``, :func:`run_cases` on ranks ``0 .. n-1`` only.

    One launch of ``max(n)`` processes then covers every rank count (torch is slow
    to import). The torch backend gets a real ``dist.new_group`` per ``n`` (so
    torch's own collectives run on it); the socket backend a
    :class:`~mlfleet.comm.transport.group.GroupTransport`. Ranks >= ``n`` sit out.
    """
    results: dict[int, Any] = {}
    for n, batch in sorted(cases.items()):
        sub = _subgroup(t, n)
        if sub is not None:
            results[n] = run_cases(sub, batch)
    return results


def _subgroup(t: Transport, n: int) -> Transport | None:
    if n == t.world_size:
        return t
    make = getattr(t, "subgroup", None)
    if make is not None:
        sub: Transport | None = make(range(n))
        return sub
    return GroupTransport(t, range(n)) if t.rank < n else None

"""What each collective computes, by definition, from every rank's input at once.

The reference the algorithms are checked against (tests, ``mlfleet run
collective``'s correctness column). Reduction is a sum. Test inputs are small
integers stored in the requested dtype, so every summation order gives the same
bits and the comparison can be exact.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import accumulate
from typing import Any

import numpy as np

from mlfleet.comm.algorithms.alltoall import Counts, check_counts, uniform_counts
from mlfleet.comm.algorithms.chunks import chunk_bounds
from mlfleet.errors import InputError

COLLECTIVES = ("allreduce", "allgather", "reducescatter", "alltoall", "broadcast", "reduce")


def make_input(*, rank: int, numel: int, dtype: str | np.dtype[Any], seed: int) -> np.ndarray:
    """Rank ``rank``'s deterministic input: ``numel`` integers in [-64, 64] (unsigned: [0, 64])."""
    rng = np.random.default_rng([seed, rank, numel])
    low = 0 if np.dtype(dtype).kind == "u" else -64
    return rng.integers(low, 65, size=numel, dtype=np.int8).astype(dtype)


def _sum(inputs: Sequence[np.ndarray]) -> np.ndarray:
    total = inputs[0].reshape(-1).copy()
    for x in inputs[1:]:
        total += x.reshape(-1)
    return total


def expected_outputs(collective: str, inputs: Sequence[np.ndarray], *, root: int = 0,
                     counts: Counts | None = None) -> list[np.ndarray]:
    """Per rank, the flat output the collective must produce from ``inputs`` (one per rank)."""
    n = len(inputs)
    if collective == "allreduce":
        return [_sum(inputs)] * n
    if collective == "allgather":
        return [np.concatenate([x.reshape(-1) for x in inputs])] * n
    if collective == "reducescatter":
        total = _sum(inputs)
        return [total[lo:hi] for lo, hi in chunk_bounds(total.size, n)]
    if collective == "alltoall":
        return _alltoall(inputs, counts)
    if collective == "broadcast":
        return [inputs[root].reshape(-1)] * n
    if collective == "reduce":
        return [_sum(inputs) if r == root else x.reshape(-1) for r, x in enumerate(inputs)]
    raise InputError(f"unknown collective {collective!r}; known: {', '.join(COLLECTIVES)}")


def _alltoall(inputs: Sequence[np.ndarray], counts: Counts | None) -> list[np.ndarray]:
    n = len(inputs)
    matrix = uniform_counts(n, inputs[0].size) if counts is None else check_counts(counts, n)
    offsets = [[0, *accumulate(row)] for row in matrix]
    return [np.concatenate([inputs[j].reshape(-1)[offsets[j][r]:offsets[j][r + 1]]
                            for j in range(n)]) for r in range(n)]


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal dtype, size and every byte (stricter than ``==``: -0.0 != 0.0, NaN == NaN)."""
    a, b = np.ascontiguousarray(a).reshape(-1), np.ascontiguousarray(b).reshape(-1)
    return a.dtype == b.dtype and a.size == b.size and a.tobytes() == b.tobytes()


def matches_definition(collective: str, output: np.ndarray, *, rank: int, n_ranks: int,
                       input_of: Callable[[int], np.ndarray], root: int = 0,
                       counts: Counts | None = None) -> bool:
    """Whether rank ``rank``'s ``output`` is bit-identical to the definition.

    ``input_of(j)`` regenerates rank ``j``'s input; inputs are made one at a time so
    the check needs memory for two buffers, not ``n_ranks``.
    """
    out = output.reshape(-1)
    if collective in ("allreduce", "reducescatter") or (collective == "reduce" and rank == root):
        total = input_of(0).reshape(-1).copy()
        for j in range(1, n_ranks):
            total += input_of(j).reshape(-1)
        if collective == "reducescatter":
            lo, hi = chunk_bounds(total.size, n_ranks)[rank]
            total = total[lo:hi]
        return same_bits(out, total)
    if collective in ("reduce", "broadcast"):
        return same_bits(out, input_of(rank if collective == "reduce" else root))
    if collective == "allgather":
        blocks = np.array_split(out, n_ranks)
        return all(same_bits(blocks[j], input_of(j)) for j in range(n_ranks))
    if collective == "alltoall":
        return _alltoall_matches(out, rank, n_ranks, input_of, counts)
    raise InputError(f"unknown collective {collective!r}; known: {', '.join(COLLECTIVES)}")


def _alltoall_matches(out: np.ndarray, rank: int, n_ranks: int,
                      input_of: Callable[[int], np.ndarray], counts: Counts | None) -> bool:
    first = input_of(0)
    matrix = (uniform_counts(n_ranks, first.size) if counts is None
              else check_counts(counts, n_ranks))
    recv_off = [0, *accumulate(matrix[j][rank] for j in range(n_ranks))]
    if out.size != recv_off[-1]:
        return False
    for j in range(n_ranks):
        send_off = [0, *accumulate(matrix[j])]
        block = (first if j == 0 else input_of(j)).reshape(-1)[send_off[rank]:send_off[rank + 1]]
        if not same_bits(out[recv_off[j]:recv_off[j + 1]], block):
            return False
    return True

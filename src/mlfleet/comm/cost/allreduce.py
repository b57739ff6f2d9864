"""AllReduce on one class of link: α-β-γ cost models of the classic algorithms.

Symbols (SI units): n ranks; S bytes in each rank's buffer; α seconds of latency per
message; β = 1/B seconds per byte on a link of B bytes/s per direction (full
duplex, one port per rank); γ seconds per byte of reduction arithmetic.

Sources:

* Thakur, Rabenseifner & Gropp 2005, "Optimization of Collective Communication
  Operations in MPICH", IJHPCA 19(1): binomial trees, recursive doubling,
  Rabenseifner's reduce-scatter + allgather, and their non-power-of-two variants.
* Patarasuk & Yuan 2009, "Bandwidth optimal all-reduce algorithms for clusters of
  workstations", JPDC 69(2): the ring moves 2(n-1)/n·S per rank, the lower bound.
* Sanders, Speck & Träff 2009, "Two-tree algorithms for full bandwidth broadcast,
  reduction and scan", Parallel Computing 35(12); NCCL 2.4 blog (Jeaugey 2019,
  "Massively Scale Your Deep Learning Training with NCCL 2.4"): double binary trees.

Every function is vectorised over ``n_ranks`` and ``size_bytes`` (numpy broadcasting)
and returns seconds as a float array (0-d for scalar inputs).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from mlfleet.checks import FloatArray, positive_int
from mlfleet.comm.cost.inputs import link_terms, ranks, sizes
from mlfleet.comm.cost.pipeline import pipelined_time
from mlfleet.comm.cost.rounds import ceil_log2, floor_pow2
from mlfleet.errors import CommInputError


def _args(n_ranks: ArrayLike, size_bytes: ArrayLike, alpha_s: float, bw_bytes_per_s: float,
          gamma_s_per_byte: float) -> tuple[FloatArray, FloatArray, float, float, float]:
    return (ranks(n_ranks), sizes(size_bytes),
            *link_terms(alpha_s, bw_bytes_per_s, gamma_s_per_byte))


def ring_allreduce_time(n_ranks: ArrayLike, size_bytes: ArrayLike, *, alpha_s: float,
                        bw_bytes_per_s: float, gamma_s_per_byte: float = 0.0) -> FloatArray:
    """Ring: reduce-scatter then allgather, n-1 steps each of S/n bytes.

    T = 2(n-1)α + 2(n-1)/n·S·β + (n-1)/n·S·γ  (Patarasuk & Yuan 2009; Thakur et al. 2005).
    """
    n, s, a, b, g = _args(n_ranks, size_bytes, alpha_s, bw_bytes_per_s, gamma_s_per_byte)
    frac = (n - 1.0) / n
    return 2.0 * (n - 1.0) * a + 2.0 * frac * s * b + frac * s * g


def pipelined_ring_allreduce_time(n_ranks: ArrayLike, size_bytes: ArrayLike, *, alpha_s: float,
                                  bw_bytes_per_s: float, blocks: int,
                                  gamma_s_per_byte: float = 0.0) -> FloatArray:
    """Ring with every chunk cut into ``blocks`` pieces that stream through the 2(n-1) steps.

    As NCCL's ring slices its chunks. Blocks of b = S/(n·k) bytes take τ = b·β on
    a link; a block is forwarded α (plus b·γ after a reduce-scatter step) after it
    has arrived, and a link sends its 2(n-1)·k blocks in order. The finish time is
    the longest path through that schedule, the largest of three:

    * the link never idles: 2(n-1)·k·τ + α;
    * block 0 races through the reduce-scatter, then the link streams the rest:
      (n-1)(τ+α+bγ) + (n-1)·k·τ + α;
    * block 0 races through every step, then the last step's k blocks follow:
      (n-1)(τ+α+bγ) + (n-2)(τ+α) + k·τ + α.

    k = 1 is the classic ring, 2(n-1)α + 2(n-1)/n·S·β + (n-1)/n·S·γ. Validated against
    an exact simulation of the schedule (tests/comm/test_cost_allreduce.py).
    """
    n, s, a, b, g = _args(n_ranks, size_bytes, alpha_s, bw_bytes_per_s, gamma_s_per_byte)
    k = float(positive_int("blocks", blocks, error=CommInputError))
    block = s / (n * k)
    tau = block * b
    hop_rs, hop_ag = tau + a + block * g, tau + a
    stream = 2.0 * (n - 1.0) * k * tau + a
    rs_then_stream = (n - 1.0) * hop_rs + (n - 1.0) * k * tau + a
    race = (n - 1.0) * hop_rs + (n - 2.0) * hop_ag + k * tau + a
    return np.asarray(np.maximum(np.maximum(stream, rs_then_stream), race), dtype=np.float64)


def tree_allreduce_time(n_ranks: ArrayLike, size_bytes: ArrayLike, *, alpha_s: float,
                        bw_bytes_per_s: float, gamma_s_per_byte: float = 0.0) -> FloatArray:
    """Binomial-tree reduce to a root, then binomial-tree broadcast, unpipelined.

    T = 2⌈lg n⌉(α + S·β) + ⌈lg n⌉·S·γ  (Thakur et al. 2005 §2, §4: short-message reduce
    and broadcast). Latency O(lg n), but every step moves the whole message.
    """
    n, s, a, b, g = _args(n_ranks, size_bytes, alpha_s, bw_bytes_per_s, gamma_s_per_byte)
    rounds = ceil_log2(n)
    return 2.0 * rounds * (a + s * b) + rounds * s * g


def double_binary_tree_allreduce_time(n_ranks: ArrayLike, size_bytes: ArrayLike, *,
                                      alpha_s: float, bw_bytes_per_s: float,
                                      gamma_s_per_byte: float = 0.0,
                                      chunk_bytes: float | None = None) -> FloatArray:
    """Two complementary binary trees, each carrying S/2, reduce and broadcast pipelined.

    Every rank is interior in one tree and a leaf in the other, so per round of chunk
    c = S/(2k) it sends 4c = 2S/k bytes (up and down both trees): the bandwidth term is
    2·S·β, close to the ring's 2(n-1)/n·S·β, while the pipeline depth is only
    h = 2⌊lg n⌋ (up the tree and down again). With k chunks
    T = (h + k - 1)(α + (2β + γ)·S/k), k optimal unless ``chunk_bytes`` is given
    (Sanders, Speck & Träff 2009; NCCL 2.4 blog).
    """
    n, s, a, b, g = _args(n_ranks, size_bytes, alpha_s, bw_bytes_per_s, gamma_s_per_byte)
    depth = 2.0 * np.floor(np.log2(n) + 1e-12)
    return pipelined_time(steps=depth, size_bytes=s, alpha_s=a, s_per_byte=2.0 * b + g,
                          chunk_bytes=chunk_bytes)


def _non_power_of_two_extra(n: FloatArray, s: FloatArray, a: float, b: float,
                            g: float) -> tuple[FloatArray, FloatArray]:
    """(p', extra seconds) for folding n - p' ranks into p' = 2^⌊lg n⌋ and back.

    The surplus ranks first send their whole vector to a partner (α + Sβ + Sγ) and
    receive the result at the end (α + Sβ)  (Thakur et al. 2005 §4.4).
    """
    p2 = floor_pow2(n)
    extra = np.where(n > p2, 2.0 * a + 2.0 * s * b + s * g, 0.0)
    return p2, extra


def recursive_doubling_allreduce_time(n_ranks: ArrayLike, size_bytes: ArrayLike, *,
                                      alpha_s: float, bw_bytes_per_s: float,
                                      gamma_s_per_byte: float = 0.0) -> FloatArray:
    """Recursive doubling: lg p' rounds of exchanging and reducing the whole vector.

    T = lg p'·(α + S·β + S·γ) + [n ≠ p'](2α + 2Sβ + Sγ), p' = 2^⌊lg n⌋
    (Thakur et al. 2005 §4.4: MPICH's choice for short messages).
    """
    n, s, a, b, g = _args(n_ranks, size_bytes, alpha_s, bw_bytes_per_s, gamma_s_per_byte)
    p2, extra = _non_power_of_two_extra(n, s, a, b, g)
    return np.log2(p2) * (a + s * b + s * g) + extra


def rabenseifner_allreduce_time(n_ranks: ArrayLike, size_bytes: ArrayLike, *, alpha_s: float,
                                bw_bytes_per_s: float,
                                gamma_s_per_byte: float = 0.0) -> FloatArray:
    """Recursive halving reduce-scatter, then recursive doubling allgather (Rabenseifner).

    T = 2 lg p'·α + 2(p'-1)/p'·S·β + (p'-1)/p'·S·γ + [n ≠ p'](2α + 2Sβ + Sγ)
    (Thakur et al. 2005 §4.4: MPICH's choice for long messages).
    """
    n, s, a, b, g = _args(n_ranks, size_bytes, alpha_s, bw_bytes_per_s, gamma_s_per_byte)
    p2, extra = _non_power_of_two_extra(n, s, a, b, g)
    frac = (p2 - 1.0) / p2
    return 2.0 * np.log2(p2) * a + 2.0 * frac * s * b + frac * s * g + extra


AllReduceFn = Callable[..., FloatArray]

ALLREDUCE_ALGORITHMS: dict[str, AllReduceFn] = {
    "ring": ring_allreduce_time,
    "tree": tree_allreduce_time,
    "double_binary_tree": double_binary_tree_allreduce_time,
    "recursive_doubling": recursive_doubling_allreduce_time,
    "rabenseifner": rabenseifner_allreduce_time,
}
"""Single-link AllReduce models by name (hierarchical ones live in ``hierarchy``)."""


"""Measured costs of compression on this machine: codec speed, real exchange times, α and B.

These feed :mod:`~mlfleet.comm.compression.decision` with measured numbers and
check its predictions: :func:`codec_timing` times encode/decode in this
process; :func:`time_exchange_rank` and :func:`time_allreduce_rank` run on
every rank of a real launch (:func:`mlfleet.comm.launch.launch`);
:func:`fit_ring_alpha_beta` fits the α-β ring model to the allreduce times.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlfleet.comm.algorithms.benchmark import add_s_per_byte
from mlfleet.comm.algorithms.ring import allreduce_ring
from mlfleet.comm.compression.base import DENSE_DTYPE, compression_ratio
from mlfleet.comm.compression.exchange import aggregate_mean, combine, finish, prepare
from mlfleet.comm.compression.registry import make_compressor
from mlfleet.comm.transport.base import Transport


@dataclass(frozen=True, kw_only=True)
class CodecTiming:
    """Best-of-repetitions encode and decode seconds of one codec on one gradient size.

    The minimum, as ``timeit`` advises: interference from other processes only adds time.
    """

    method: str
    numel: int
    compression_ratio: float
    encode_s: float
    decode_s: float

    @property
    def encode_gb_per_s(self) -> float:
        """Dense gigabytes encoded per second."""
        return self.numel * DENSE_DTYPE.itemsize / self.encode_s / 1e9

    @property
    def decode_gb_per_s(self) -> float:
        """Dense gigabytes decoded per second."""
        return self.numel * DENSE_DTYPE.itemsize / self.decode_s / 1e9


def sample_gradient(numel: int, seed: int) -> np.ndarray:
    """A heavy-tailed float32 gradient (Student-t, 3 d.o.f., scale 1e-2)."""
    return (np.random.default_rng(seed).standard_t(3, numel) * 1e-2).astype(DENSE_DTYPE)


def codec_timing(method: str, numel: int, *, reps: int = 3, seed: int = 0) -> CodecTiming:
    """Best of ``reps`` encodes and decodes of a ``numel`` gradient (after one warm-up)."""
    codec, grad = make_compressor(method), sample_gradient(numel, seed)
    rng = np.random.default_rng(seed)
    payload = codec.encode(grad, rng)
    codec.decode(payload, grad.shape)
    enc, dec = [], []
    for _ in range(reps):
        start = time.perf_counter()
        payload = codec.encode(grad, rng)
        enc.append(time.perf_counter() - start)
        start = time.perf_counter()
        codec.decode(payload, grad.shape)
        dec.append(time.perf_counter() - start)
    return CodecTiming(
        method=method,
        numel=numel,
        compression_ratio=compression_ratio(codec, numel),
        encode_s=min(enc),
        decode_s=min(dec),
    )


def time_exchange_rank(
    transport: Transport, methods: Sequence[str], numel: int, reps: int, seed: int
) -> dict[str, dict[str, list[float]]]:
    """Per method, ``reps`` timings on this rank: ``encode`` (the exchange's local
    :func:`~exchange.prepare` phase), ``decode`` (its :func:`~exchange.finish` phase
    per payload it decodes: all of it for a summable codec, 1/n of it otherwise),
    ``exchange`` (a whole :func:`aggregate_mean`), and ``gamma`` (seconds per byte of
    the ``+=`` a ring AllReduce of this codec's payload does), each started together
    on every rank.

    Everything is timed on the ranks themselves, so it shares the cores as in the exchange.
    """
    n = transport.world_size
    grad = sample_gradient(numel, seed + transport.rank)
    rng = np.random.default_rng([seed, transport.rank])
    out: dict[str, dict[str, list[float]]] = {}
    for method in methods:
        codec = make_compressor(method)
        aggregate_mean(transport, codec, grad, rng)  # warm-up
        combined = combine(transport, codec, prepare(codec, grad, n, rng))
        decodes = 1 if codec.summable else n
        times: dict[str, list[float]] = {"encode": [], "decode": [], "exchange": [], "gamma": []}
        for _ in range(reps):
            transport.barrier()
            t0 = time.perf_counter()
            wire = prepare(codec, grad, n, rng)
            t1 = time.perf_counter()
            finish(codec, combined, grad.shape, n)
            t2 = time.perf_counter()
            transport.barrier()
            t3 = time.perf_counter()
            aggregate_mean(transport, codec, grad, rng)
            t4 = time.perf_counter()
            times["encode"].append(t1 - t0)
            times["decode"].append((t2 - t1) / decodes)
            times["exchange"].append(t4 - t3)
            times["gamma"].append(add_s_per_byte(wire.dtype, -(-wire.size // n)))
        out[method] = times
    return out


def time_allreduce_rank(
    transport: Transport, sizes_bytes: Sequence[int], reps: int
) -> list[list[float]]:
    """Seconds of ``reps`` float32 ring allreduces per size, on this rank."""
    out = []
    for size in sizes_bytes:
        buf = np.ones(size // DENSE_DTYPE.itemsize, DENSE_DTYPE)
        allreduce_ring(transport, buf)  # warm-up
        times = []
        for _ in range(reps):
            transport.barrier()
            start = time.perf_counter()
            allreduce_ring(transport, buf)
            times.append(time.perf_counter() - start)
        out.append(times)
    return out


def slowest_rank_best(per_rank: Sequence[Sequence[float]]) -> float:
    """Best repetition of the slowest rank's time (a collective ends with its last rank)."""
    return float(np.min(np.max(np.asarray(per_rank), axis=0)))


def fit_ring_alpha_beta(
    n_ranks: int, sizes_bytes: Sequence[float], times_s: Sequence[float],
    gamma_s_per_byte: float = 0.0,
) -> tuple[float, float]:
    """(α s, B bytes/s) least-squares fit of T = 2(n−1)α + 2(n−1)/n · S/B + (n−1)/n · S·γ
    to measured times, γ known (0: the adds are folded into B).

    α is clipped at 0 (a negative intercept means the small sizes are noise-dominated).
    """
    s = np.asarray(sizes_bytes, dtype=np.float64)
    frac = (n_ranks - 1) / n_ranks
    design = np.column_stack([np.full_like(s, 2.0 * (n_ranks - 1)), 2.0 * frac * s])
    wire_s = np.asarray(times_s, dtype=np.float64) - frac * s * gamma_s_per_byte
    (alpha, beta), *_ = np.linalg.lstsq(design, wire_s, rcond=None)
    return max(float(alpha), 0.0), 1.0 / float(beta)


def decision_check_rank(
    transport: Transport,
    methods: Sequence[str],
    numel: int,
    sizes_bytes: Sequence[int],
    reps: int,
    seed: int,
) -> dict[str, Any]:
    """Both measurements of the decision check in one launch, so they see the same machine load."""
    return {
        "allreduce": time_allreduce_rank(transport, sizes_bytes, reps),
        "exchange": time_exchange_rank(transport, methods, numel, reps, seed),
    }

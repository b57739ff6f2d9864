"""Compressed aggregation over a transport: right mean, identical on every rank, exact bytes."""

from __future__ import annotations

import numpy as np
import pytest

from mlfleet.comm.algorithms.ring import predicted_bytes_allreduce_ring
from mlfleet.comm.compression.base import payload_nbytes
from mlfleet.comm.compression.exchange import aggregate_mean
from mlfleet.comm.compression.loopback import LoopbackTransport, run_loopback
from mlfleet.comm.compression.registry import ALL_METHODS, make_compressor
from mlfleet.errors import RunError

RANKS = 4
NUMEL = 1001


def local_grad(rank: int) -> np.ndarray:
    return np.random.default_rng(rank).standard_normal(NUMEL).astype(np.float32)


@pytest.mark.parametrize("method", ALL_METHODS)
def test_mean_of_decoded_payloads_identical_on_every_rank(method: str) -> None:
    def body(t: LoopbackTransport) -> tuple[np.ndarray, np.ndarray, int]:
        codec, rng = make_compressor(method), np.random.default_rng([5, t.rank])
        # What this rank's payload decodes to, with the same generator state as the exchange.
        mine = make_compressor(method).decode(
            make_compressor(method).encode(
                local_grad(t.rank) / (RANKS if codec.summable else 1),
                np.random.default_rng([5, t.rank]),
            ),
            (NUMEL,),
        )
        return aggregate_mean(t, codec, local_grad(t.rank), rng), mine, sum(t.bytes_sent().values())

    results = run_loopback(RANKS, body)
    means = [r[0] for r in results]
    assert all(np.array_equal(means[0], m) for m in means)
    own = np.stack([r[1] for r in results]).astype(np.float64)
    expected = own.sum(0) if make_compressor(method).summable else own.mean(0)
    np.testing.assert_allclose(means[0], expected, rtol=2e-3, atol=2e-3 * np.abs(expected).max())
    codec = make_compressor(method)
    payload = payload_nbytes(codec.layout(NUMEL))
    if codec.summable:
        itemsize = codec.layout(NUMEL)[0].dtype.itemsize
        predicted = [
            sum(c.values()) for c in predicted_bytes_allreduce_ring(RANKS, NUMEL, itemsize)
        ]
    else:
        predicted = [(RANKS - 1) * payload] * RANKS
    assert [r[2] for r in results] == predicted


def test_dense_mean_is_the_mean() -> None:
    results = run_loopback(
        RANKS,
        lambda t: aggregate_mean(
            t, make_compressor("dense"), local_grad(t.rank), np.random.default_rng(0)
        ),
    )
    expected = np.mean([local_grad(r) for r in range(RANKS)], axis=0)
    np.testing.assert_allclose(results[0], expected, rtol=1e-5, atol=1e-6)


def test_a_failing_rank_surfaces_as_run_error() -> None:
    def body(t: LoopbackTransport) -> None:
        if t.rank == 2:
            raise ValueError("boom")

    with pytest.raises(RunError, match="rank 2"):
        run_loopback(RANKS, body)


def test_the_timed_phases_are_the_exchange_and_fit_recovers_the_link() -> None:
    """time_exchange_rank times prepare / finish / the whole exchange on real ranks, and
    the α-β fit with γ apart recovers a known link from exact ring times."""
    from mlfleet.comm.compression.measure import fit_ring_alpha_beta, time_exchange_rank

    out = run_loopback(RANKS, lambda t: time_exchange_rank(t, ["fp16", "topk"], NUMEL, 2, 0))
    for per_rank in out:
        for method, times in per_rank.items():
            assert set(times) == {"encode", "decode", "exchange", "gamma"}, method
            assert all(len(v) == 2 and min(v) > 0 for v in times.values()), (method, times)
    sizes = [2**16, 2**20, 2**24]
    alpha, bw, gamma, n = 40e-6, 2e9, 0.3e-9, 4
    exact = [2 * (n - 1) * alpha + 2 * (n - 1) / n * s / bw + (n - 1) / n * s * gamma
             for s in sizes]
    fit_alpha, fit_bw = fit_ring_alpha_beta(n, sizes, exact, gamma)
    assert fit_alpha == pytest.approx(alpha) and fit_bw == pytest.approx(bw)
    folded_alpha, folded_bw = fit_ring_alpha_beta(n, sizes, exact)  # γ folded into B
    assert folded_bw < bw


@pytest.mark.parametrize("method", ALL_METHODS)
def test_phases_compose_to_the_exchange(method: str) -> None:
    from mlfleet.comm.compression.exchange import combine, finish, prepare

    def body(t: LoopbackTransport) -> tuple[np.ndarray, np.ndarray]:
        whole = aggregate_mean(t, make_compressor(method), local_grad(t.rank),
                               np.random.default_rng([3, t.rank]))
        codec, rng = make_compressor(method), np.random.default_rng([3, t.rank])  # fresh state
        wire = prepare(codec, local_grad(t.rank), t.world_size, rng)
        parts = finish(codec, combine(t, codec, wire), (NUMEL,), t.world_size)
        return whole, parts

    for whole, parts in run_loopback(RANKS, body):
        assert np.array_equal(whole, parts)

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

"""Error feedback: nothing is lost, only delayed (the telescoping invariant)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.comm.compression.error_feedback import ErrorFeedback
from mlfleet.comm.compression.registry import CODECS, make_compressor
from mlfleet.comm.compression.topk import TopK
from mlfleet.errors import InputError


@settings(max_examples=60, deadline=None)
@given(
    codec=st.sampled_from(sorted(CODECS)),
    numel=st.integers(1, 200),
    steps=st.integers(1, 12),
    seed=st.integers(0, 2**32 - 1),
)
def test_transmitted_plus_residual_equals_sum_of_gradients(
    codec: str, numel: int, steps: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    ef = make_compressor(codec + "+ef")
    assert isinstance(ef, ErrorFeedback)
    sent = np.zeros(numel, np.float64)
    total = np.zeros(numel, np.float64)
    for _ in range(steps):
        g = (rng.standard_normal(numel) * rng.uniform(1e-3, 10)).astype(np.float32)
        sent += ef.decode(ef.encode(g, rng), g.shape)
        total += g
    assert ef.residual is not None
    scale = np.abs(total).max() + 1.0
    np.testing.assert_allclose(sent + ef.residual, total, atol=1e-5 * scale * steps)


def test_topk_with_feedback_eventually_sends_every_coordinate() -> None:
    ef = ErrorFeedback(TopK(ratio=0.1))
    g = np.linspace(
        1.0, 2.0, 50, dtype=np.float32
    )  # constant gradient, top-k alone sends the same 5
    plain = TopK(ratio=0.1)
    rng = np.random.default_rng(0)
    seen_ef, seen_plain = set(), set()
    for _ in range(20):
        seen_ef |= set(ef.encode(g, rng).buffers["indices"].tolist())
        seen_plain |= set(plain.encode(g, rng).buffers["indices"].tolist())
    assert len(seen_plain) == 5 and len(seen_ef) == 50


def test_feedback_costs_no_bytes_and_resets() -> None:
    ef = make_compressor("topk+ef")
    assert isinstance(ef, ErrorFeedback) and ef.name == "topk+ef"
    assert ef.layout(1000) == TopK().layout(1000)
    ef.encode(np.ones(1000, np.float32), np.random.default_rng(0))
    with pytest.raises(InputError, match="size"):
        ef.encode(np.ones(10, np.float32), np.random.default_rng(0))
    ef.reset()
    assert ef.residual is None


def relative_error_sq(method: str, *, numel: int = 2048, draws: int = 200) -> float:
    """Mean over draws of ‖C(x) − x‖² / ‖x‖² for the codec ``method`` uses (the inner codec
    under ``+ef``), x a fixed seeded Gaussian gradient."""
    codec = make_compressor(method)
    inner = codec.inner if isinstance(codec, ErrorFeedback) else codec
    rng = np.random.default_rng(3)
    x = rng.standard_normal(numel).astype(np.float32)
    errors = [float(np.sum((inner.decode(inner.encode(x, rng), x.shape) - x) ** 2))
              for _ in range(draws)]
    return float(np.mean(errors)) / float(np.sum(x.astype(np.float64) ** 2))


@pytest.mark.parametrize("codec", ["randomk", "stochastic"])
def test_unbiased_codecs_are_made_contractive_under_feedback(codec: str) -> None:
    """Error feedback needs E‖C(x) − x‖² <= (1 − δ)‖x‖² (Karimireddy et al. 2019). The
    unbiased codecs break it (scaled random-k at 1%: (n/k − 1) = 99, observed 97; QSGD at 4 bits on
    512-element buckets: 1.58), and under ``+ef`` the registry must hand error feedback a
    codec that keeps it (unscaled random-k: 1 − k/n = 0.99; QSGD shrunk by 1/(1 + ω): 0.67)."""
    assert relative_error_sq(codec) > 1.0
    assert relative_error_sq(codec + "+ef") < 1.0

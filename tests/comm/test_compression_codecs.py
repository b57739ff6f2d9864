"""Codec contracts: round-trip bounds, unbiasedness, exact top-k, exact sizes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mlfleet.comm.compression.base import compression_ratio, pack, payload_nbytes, unpack
from mlfleet.comm.compression.fp16 import FP16, FP16_RELATIVE_ERROR
from mlfleet.comm.compression.int8 import INT8_LEVELS, Int8
from mlfleet.comm.compression.randomk import RandomK
from mlfleet.comm.compression.registry import ALL_METHODS, make_compressor
from mlfleet.comm.compression.stochastic import Stochastic, pack_codes, unpack_codes
from mlfleet.comm.compression.topk import TopK
from mlfleet.errors import InputError

DRAWS = 20_000
"""Decodes averaged by the unbiasedness tests; the tolerance is 5 standard errors."""


def gradient(numel: int = 1000, *, seed: int = 0, **overrides: float) -> np.ndarray:
    """A heavy-tailed float32 test gradient (Student-t, like real gradients' outliers)."""
    rng = np.random.default_rng(seed)
    return (rng.standard_t(3, numel) * overrides.get("scale", 1e-2)).astype(np.float32)


grads = hnp.arrays(
    np.float32, st.integers(1, 300), elements=st.floats(-1e3, 1e3, width=32, allow_subnormal=False)
)


def test_fp16_relative_error_within_unit_roundoff() -> None:
    g = gradient(scale=1.0)
    g = g[np.abs(g) > 2.0**-14]  # normal range of float16
    codec = FP16()
    out = codec.decode(codec.encode(g, np.random.default_rng(0)), g.shape)
    assert np.max(np.abs(out - g) / np.abs(g)) <= FP16_RELATIVE_ERROR


@given(grads)
def test_int8_error_at_most_half_a_step(g: np.ndarray) -> None:
    codec = Int8()
    payload = codec.encode(g, np.random.default_rng(0))
    scale = float(payload.buffers["scale"][0])
    err = np.abs(codec.decode(payload, g.shape).astype(np.float64) - g)
    # float32 arithmetic in g/scale and q*scale adds a few ulps of max|g|
    assert np.all(err <= scale / 2 + 4 * np.finfo(np.float32).eps * INT8_LEVELS * scale)


def _mean_and_var_of_decodes(
    codec: Stochastic | RandomK, g: np.ndarray, draws: int = DRAWS
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1234)
    decoded = [codec.decode(codec.encode(g, rng), g.shape) for _ in range(draws)]
    samples = np.stack(decoded).astype(np.float64)
    return samples.mean(axis=0), samples.var(axis=0)


@pytest.mark.slow
def test_stochastic_quantization_is_unbiased() -> None:
    g = gradient(48, seed=3)
    codec = Stochastic(bits=4, bucket_size=16)
    mean, _ = _mean_and_var_of_decodes(codec, g)
    # exact per-element variance of QSGD: (‖v‖/s)² p(1 − p)
    norms = np.repeat(np.linalg.norm(g.reshape(-1, 16).astype(np.float64), axis=1), 16)
    u = np.abs(g) / norms * codec.levels
    var = (norms / codec.levels) ** 2 * (u - np.floor(u)) * (1 - (u - np.floor(u)))
    z = (mean - g) / np.sqrt(var / DRAWS + 1e-30)
    assert np.max(np.abs(z)) < 5.0, np.max(np.abs(z))


def test_stochastic_variance_within_qsgd_bound() -> None:
    g = gradient(512, seed=4)
    codec = Stochastic(bits=4, bucket_size=512)
    rng = np.random.default_rng(0)
    errs = [np.sum((codec.decode(codec.encode(g, rng), g.shape) - g) ** 2) for _ in range(200)]
    assert np.mean(errs) <= codec.variance_bound * float(np.sum(g.astype(np.float64) ** 2))


def test_contractive_stochastic_is_shrunk_by_one_plus_omega() -> None:
    g = gradient(32, seed=5)
    codec = Stochastic(bits=8, bucket_size=32, contractive=True)
    mean, var = _mean_and_var_of_decodes(codec, g, draws=4000)
    expected = g / (1 + codec.variance_bound)
    assert np.max(np.abs(mean - expected) / np.sqrt(var / 4000 + 1e-30)) < 5.0


@given(st.sampled_from([2, 4, 8]), st.integers(0, 200), st.integers(0, 2**32 - 1))
def test_code_packing_round_trips(bits: int, count: int, seed: int) -> None:
    codes = np.random.default_rng(seed).integers(0, 2**bits, count).astype(np.uint8)
    packed = pack_codes(codes, bits)
    assert packed.size == -(-count * bits // 8)
    assert np.array_equal(unpack_codes(packed, bits, count), codes)


@given(grads, st.floats(0.001, 1.0))
def test_topk_keeps_exactly_the_k_largest_magnitudes(g: np.ndarray, ratio: float) -> None:
    codec = TopK(ratio=ratio)
    payload = codec.encode(g, np.random.default_rng(0))
    kept = payload.buffers["indices"].astype(np.int64)
    k = codec.layout(g.size)[0].count
    assert kept.size == k == len(set(kept.tolist()))
    dropped = np.setdiff1d(np.arange(g.size), kept)
    if dropped.size:
        assert np.min(np.abs(g[kept])) >= np.max(np.abs(g[dropped]))
    out = codec.decode(payload, g.shape)
    assert np.array_equal(out[kept], g[kept]) and not np.any(out[dropped])


def test_scaled_randomk_is_unbiased() -> None:
    g = gradient(50, seed=6)
    codec = RandomK(ratio=0.1, scaled=True)
    mean, _ = _mean_and_var_of_decodes(codec, g, draws=4000)
    n_over_k = 50 / 5
    var = g.astype(np.float64) ** 2 * (n_over_k - 1)  # Bernoulli(k/n) · (n/k)·g
    assert np.max(np.abs(mean - g) / np.sqrt(var / 4000 + 1e-30)) < 5.0


def test_randomk_sends_a_seed_not_indices() -> None:
    codec = RandomK(ratio=0.01)
    g = gradient(10_000)
    payload = codec.encode(g, np.random.default_rng(7))
    assert payload.nbytes == 8 + 4 * 100
    out = codec.decode(payload, g.shape)
    kept = np.flatnonzero(out)
    assert kept.size == 100 and np.allclose(out[kept], g[kept] * 100)


@pytest.mark.parametrize("method", ALL_METHODS)
def test_payload_matches_layout_and_ratio_is_exact(method: str) -> None:
    codec = make_compressor(method)
    g = gradient(10_001)
    payload = codec.encode(g, np.random.default_rng(0))
    layout = codec.layout(g.size)
    assert payload.nbytes == payload_nbytes(layout) == pack(payload).nbytes
    assert compression_ratio(codec, g.size) == g.nbytes / payload.nbytes
    decoded = codec.decode(unpack(pack(payload), layout), g.shape)
    assert np.array_equal(decoded, codec.decode(payload, g.shape))
    assert decoded.dtype == np.float32 and decoded.shape == g.shape


@pytest.mark.parametrize(
    ("method", "ratio"),
    [
        ("dense", 1.0),
        ("fp16", 2.0),
        ("topk", 10_000 * 4 / (100 * 8)),
        ("randomk", 10_000 * 4 / (100 * 4 + 8)),
        ("int8", 10_000 * 4 / (10_000 + 4)),
        ("stochastic", 10_000 * 4 / (20 * 4 + 5_000)),
    ],
)
def test_known_compression_ratios(method: str, ratio: float) -> None:
    assert compression_ratio(make_compressor(method), 10_000) == pytest.approx(ratio, rel=1e-12)


@pytest.mark.parametrize("method", ALL_METHODS)
def test_same_generator_state_same_bytes(method: str) -> None:
    g = gradient(2000)
    a = pack(make_compressor(method).encode(g, np.random.default_rng(11)))
    b = pack(make_compressor(method).encode(g, np.random.default_rng(11)))
    assert np.array_equal(a, b)


def test_bad_inputs_raise_input_error_quoting_the_value() -> None:
    with pytest.raises(InputError, match="'nope'.*known: dense, fp16"):
        make_compressor("nope")
    with pytest.raises(InputError, match=r"ratio\(=0\.0\)"):
        TopK(ratio=0.0)
    with pytest.raises(InputError, match=r"bits\(=3\)"):
        Stochastic(bits=3)
    with pytest.raises(InputError, match="float64"):
        FP16().encode(np.zeros(3), np.random.default_rng(0))
    with pytest.raises(InputError, match="bad parameters"):
        make_compressor("fp16", ratio=0.1)


@settings(max_examples=50)
@given(grads.filter(lambda a: a.size > 0))
def test_all_zero_and_tiny_gradients_decode_finite(g: np.ndarray) -> None:
    for method in ALL_METHODS:
        codec = make_compressor(method)
        for x in (np.zeros_like(g), g):
            assert np.all(
                np.isfinite(codec.decode(codec.encode(x, np.random.default_rng(0)), x.shape))
            )


@pytest.mark.parametrize("method", ALL_METHODS)
def test_accumulate_adds_the_decode_bit_for_bit(method: str) -> None:
    codec = make_compressor(method)
    g = gradient(3000, seed=9)
    payload = codec.encode(g, np.random.default_rng(0))
    base = gradient(3000, seed=10)
    out = base.copy()
    codec.accumulate(payload, out)
    assert np.array_equal(out, base + codec.decode(payload, g.shape))

"""When compression pays: bandwidth-bound yes; compute-bound, codec-bound, allgather-bound no."""

from __future__ import annotations

from typing import Any

import pytest

from mlfleet.comm.compression.decision import Decision, compression_pays
from mlfleet.comm.cost.allreduce import ring_allreduce_time
from mlfleet.errors import InputError

GB = 1e9


def decide(**overrides: Any) -> Decision:
    """A 1 GB (250M-parameter fp32) gradient on 8 ranks over a 10 Gb/s link, top-k 1 %."""
    args: dict[str, Any] = dict(
        grad_bytes=1 * GB,
        compression_ratio=50.0,
        encode_s=0.01,
        decode_s=0.002,
        n_ranks=8,
        bw_bytes_per_s=1.25 * GB,
        alpha_s=20e-6,
        backward_compute_s=0.3,
        overlap=True,
        summable=False,
    )
    args.update(overrides)
    return compression_pays(**args)


def test_pays_when_bandwidth_bound() -> None:
    d = decide()
    assert d.pays and d.reason.startswith("bandwidth-bound")
    assert d.comm_dense_s == pytest.approx(
        float(ring_allreduce_time(8, GB, alpha_s=20e-6, bw_bytes_per_s=1.25 * GB))
    )
    assert d.time_compressed_s < d.time_dense_s


def test_hurts_when_compute_bound_on_nvlink() -> None:
    d = decide(bw_bytes_per_s=450 * GB, alpha_s=3e-6, backward_compute_s=0.3)
    assert not d.pays and d.reason.startswith("compute-bound")
    assert d.time_dense_s == pytest.approx(0.3)
    assert d.time_compressed_s == pytest.approx(0.3 + d.codec_s)


def test_hurts_when_the_codec_costs_more_than_it_saves() -> None:
    d = decide(bw_bytes_per_s=50 * GB, backward_compute_s=0.0, encode_s=0.05, decode_s=0.01)
    assert not d.pays and d.reason.startswith("codec-bound")
    assert d.codec_s == pytest.approx(0.05 + 8 * 0.01)


def test_allgather_penalty_makes_int8_lose_at_scale() -> None:
    # ratio 4 but not summable: allgather sends (n-1)/4 S per rank vs the ring's 2(n-1)/n S.
    few = decide(
        compression_ratio=4.0, n_ranks=4, encode_s=0.0, decode_s=0.0, backward_compute_s=0.0
    )
    many = decide(
        compression_ratio=4.0, n_ranks=64, encode_s=0.0, decode_s=0.0, backward_compute_s=0.0
    )
    assert few.pays and not many.pays
    assert many.reason.startswith("exchange-bound") and "n/2 = 32x" in many.reason


def test_allgathered_codec_breaks_even_at_ratio_n_over_2() -> None:
    kwargs = dict(encode_s=0.0, decode_s=0.0, backward_compute_s=0.0, alpha_s=0.0, n_ranks=16)
    assert not decide(compression_ratio=8.0, **kwargs).pays
    assert decide(compression_ratio=8.1, **kwargs).pays


def test_summable_fp16_halves_the_allreduce() -> None:
    d = decide(
        compression_ratio=2.0,
        summable=True,
        encode_s=0.0,
        decode_s=0.0,
        backward_compute_s=0.0,
        alpha_s=0.0,
        overlap=False,
    )
    assert d.comm_compressed_s == pytest.approx(d.comm_dense_s / 2)


def test_without_overlap_everything_adds() -> None:
    d = decide(overlap=False)
    assert d.time_dense_s == pytest.approx(0.3 + d.comm_dense_s)
    assert d.time_compressed_s == pytest.approx(0.3 + d.comm_compressed_s + d.codec_s)


def test_reduction_arithmetic_is_charged_per_dtype_and_only_to_allreduces() -> None:
    base = dict(alpha_s=0.0, encode_s=0.0, decode_s=0.0, backward_compute_s=0.0, overlap=False)
    g32, g16 = 0.1e-9, 3e-9  # s/B: numpy float16 adds run in software, ~30x slower
    dense = decide(gamma_s_per_byte=g32, **base)
    assert dense.comm_dense_s == pytest.approx(float(ring_allreduce_time(
        8, GB, alpha_s=0.0, bw_bytes_per_s=1.25 * GB, gamma_s_per_byte=g32)))
    fp16 = decide(compression_ratio=2.0, summable=True, gamma_s_per_byte=g32,
                  payload_gamma_s_per_byte=g16, **base)
    # (n-1)/n of the half-size payload is added, at the float16 rate
    no_adds = decide(compression_ratio=2.0, summable=True, **base)
    assert fp16.comm_compressed_s - no_adds.comm_compressed_s == pytest.approx(7 / 8 * GB / 2 * g16)
    same = decide(compression_ratio=2.0, summable=True, gamma_s_per_byte=g32, **base)
    assert same.comm_compressed_s - no_adds.comm_compressed_s == pytest.approx(7 / 8 * GB / 2 * g32)
    gathered = decide(gamma_s_per_byte=g32, payload_gamma_s_per_byte=g16, **base)
    assert gathered.comm_compressed_s == decide(**base).comm_compressed_s  # no adds on the way


@pytest.mark.parametrize(
    ("field", "value"),
    [("compression_ratio", 0.5), ("n_ranks", 1), ("encode_s", -1.0), ("grad_bytes", -1.0),
     ("gamma_s_per_byte", -1e-9), ("payload_gamma_s_per_byte", -1e-9)],
)
def test_bad_inputs_raise(field: str, value: float) -> None:
    with pytest.raises(InputError, match=field):
        decide(**{field: value})

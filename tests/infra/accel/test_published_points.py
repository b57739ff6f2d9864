"""The published data points: schema, unique ids, resolvable sources, conversions."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from mlfleet.catalog.types import Accelerator, Workload
from mlfleet.infra.accel import published
from mlfleet.infra.accel.loo_table import defaults_markdown
from mlfleet.infra.accel.published import POINT_KINDS, SHAPE_KEYS, load_points
from mlfleet.infra.accel.types import ENGINE_MODES


def test_at_least_thirty_points_over_several_kinds() -> None:
    points = load_points()
    assert len(points) >= 30
    assert {p.kind for p in points} >= {"gemm", "stream", "h2d", "decode_step", "prefill_step"}
    assert {p.engine for p in points if p.kind.endswith("_step")} == set(ENGINE_MODES)


def test_ids_are_unique() -> None:
    ids = [p.id for p in load_points()]
    assert len(ids) == len(set(ids))


def test_every_source_key_resolves_to_a_citation_with_a_url() -> None:
    table = published.sources()
    for point in load_points():
        assert point.source in table and "https://" in table[point.source]


@pytest.mark.parametrize("point", load_points(), ids=lambda p: p.id)
def test_point_schema(point: published.PublishedPoint) -> None:
    assert point.kind in POINT_KINDS and set(point.shape) == SHAPE_KEYS[point.kind]
    assert Accelerator.from_name(point.accelerator).name == point.accelerator
    assert math.isfinite(point.measured_s) and point.measured_s > 0
    if point.kind.endswith("_step"):
        assert point.engine in ENGINE_MODES
        assert Workload.from_name(str(point.shape["workload"])).name == point.shape["workload"]
    else:
        assert point.engine == ""


def test_conversions_follow_the_module_docstring() -> None:
    by_id = {p.id: p for p in load_points()}
    gemm = by_id["a100-gemm-fp16-8192"]  # 253.7 TFLOP/s
    assert gemm.measured_s == pytest.approx(2 * 8192**3 / 253.7e12, rel=1e-12)
    copy = by_id["h100-stream-copy"]  # 2.90 TB/s over 1 GiB
    assert copy.measured_s == pytest.approx(2**30 / 2.90e12, rel=1e-12)
    decode = by_id["gptfast-a100-llama3-8b-tp1"]  # 93.83 tok/s at batch 1
    assert decode.measured_s == pytest.approx(1 / 93.83, rel=1e-12)
    per_gpu = by_id["trtllm-h100-llama2-70b-decode-b512"]  # 2725 tok/s/GPU, batch 512, tp 4
    assert per_gpu.measured_s == pytest.approx(512 / (2725 * 4), rel=1e-12)
    first_token = by_id["trtllm-h100-llama2-7b-prefill-128"]  # 6.3 ms, one prefill step
    assert first_token.measured_s == pytest.approx(6.3e-3, rel=1e-12)


def test_a_malformed_point_is_refused_with_its_id() -> None:
    with pytest.raises(published.PublishedDataError, match="point bad: shape keys"):
        published._point({"id": "bad", "kind": "gemm", "shape": {"m": 1}, "source": "x",
                          "accelerator": "H100", "precision": "bf16", "published": 1,
                          "per": "tflop_per_s"})


def test_points_of_filters_by_kind_and_accelerator() -> None:
    h100_gemms = published.points_of(kind="gemm", accelerator="H100-SXM")
    assert h100_gemms and all(p.kind == "gemm" and p.accelerator == "H100-SXM"
                              for p in h100_gemms)


def test_docs_hold_the_steps_with_the_defaults() -> None:
    """docs/accelerators.md quotes every step's error with the defaults from this table."""
    docs = Path(__file__).resolve().parents[3] / "docs" / "accelerators.md"
    assert defaults_markdown(load_points()) in docs.read_text(), (
        "regenerate it with: python -m mlfleet.infra.accel.loo_table defaults")

"""The sweep's grid: --set parsing, ranges, per-field validation, product size and order."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlfleet.sweep.grid import SweepInputError, parse_axis, parse_grid


def test_values_are_parsed_by_the_fields_scenario_type() -> None:
    axis = parse_axis("training.global_batch_tokens=8Mi,16Mi")
    assert axis.values == (8 * 2**20, 16 * 2**20)
    assert parse_axis("training.mfu=0.3,45%").values == (0.3, 0.45)
    assert parse_axis("training.precision=bf16,fp8").values == ("bf16", "fp8")


def test_arithmetic_and_geometric_ranges_include_their_end() -> None:
    assert parse_axis("training.zero_stage=0:3:1").values == (0, 1, 2, 3)
    assert parse_axis("cluster.gpus=1024:8192:x2").values == (1024, 2048, 4096, 8192)
    assert parse_axis("training.mfu=0.3:0.5:0.1").values == pytest.approx((0.3, 0.4, 0.5))
    assert parse_axis("cluster.gpus=8:100:x2").values == (8, 16, 32, 64)


@pytest.mark.parametrize(("setting", "fragments"), [
    ("cluster.gpu=8", ("cluster.gpu", "did you mean", "cluster.gpus")),
    ("trainning.mfu=0.4", ("trainning.mfu", "training.mfu")),
    ("nonsense=1", ("nonsense", "not a scenario field")),
    ("cluster.gpus=abc", ("cluster.gpus", "'abc'", "positive integer")),
    ("training.zero_stage=4", ("training.zero_stage", "'4'", "0, 1, 2 or 3")),
    ("training.mfu=1.5", ("training.mfu", "'1.5'")),
    ("cluster.gpus=", ("cluster.gpus", "empty")),
    ("cluster.gpus=,", ("cluster.gpus", "empty")),
    ("cluster.gpus", ("FIELD=V1,V2",)),
    ("cluster.gpus=8:1:1", ("range",)),
    ("cluster.gpus=1:8:x1", ("range",)),
    ("cluster.gpus=a:8:1", ("range bound",)),
    ("cluster.gpus=1:1e9:1", ("at most",)),
    ("cluster.gpus={a: 1}", ("single value",)),
])
def test_bad_settings_name_the_field_and_value(setting: str, fragments: tuple[str, ...]) -> None:
    with pytest.raises(SweepInputError) as caught:
        parse_grid([setting])
    message = str(caught.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_no_set_and_a_repeated_field_are_refused() -> None:
    with pytest.raises(SweepInputError, match="no --set"):
        parse_grid([])
    with pytest.raises(SweepInputError, match="twice"):
        parse_grid(["cluster.gpus=8", "cluster.gpus=16"])


_VALUES = st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=5, unique=True)


@given(st.lists(_VALUES, min_size=1, max_size=4))
def test_grid_size_is_the_product_and_the_first_axis_varies_slowest(
        lists: list[list[int]]) -> None:
    fields = ["cluster.gpus", "training.seq_len", "training.global_batch_samples",
              "training.total_tokens"][:len(lists)]
    grid = parse_grid([f"{f}={','.join(map(str, v))}" for f, v in zip(fields, lists, strict=True)])
    assert grid.size == math.prod(len(v) for v in lists)
    assert list(grid.points()) == list(itertools.product(*lists))
    assert grid.fields == tuple(fields)

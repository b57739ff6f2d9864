"""flatten_state / unflatten_state: exact inverses, JSON-only metadata, no pickle."""

from __future__ import annotations

import json
import random
from typing import Any

import numpy as np
import pytest
import torch
from ckpt_builders import assert_same, training_state
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.storage.checkpoint import CheckpointError, flatten_state, unflatten_state

_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                     st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5))
_tensors = st.builds(lambda n, d: torch.arange(n, dtype=d) if d != torch.bool else
                     torch.arange(n) % 2 == 0, st.integers(0, 5),
                     st.sampled_from([torch.float32, torch.bfloat16, torch.int64, torch.uint8,
                                      torch.bool]))
_keys = st.one_of(st.text(max_size=4), st.integers(-3, 3), st.sampled_from(["__tuple__",
                                                                             "__tensor__"]))
_states = st.recursive(st.one_of(_scalars, _tensors),
                       lambda inner: st.one_of(st.lists(inner, max_size=3),
                                               st.tuples(inner, inner),
                                               st.dictionaries(_keys, inner, max_size=3)),
                       max_leaves=12)


@given(_states)
@settings(max_examples=200, deadline=None)
def test_flatten_is_exactly_inverted(state: Any) -> None:
    tensors, meta = flatten_state(state)
    json.dumps(meta, allow_nan=False)  # strict JSON: no NaN, big ints tagged
    assert_same(state, unflatten_state(tensors, json.loads(json.dumps(meta))))


def test_real_training_state_round_trips() -> None:
    state = training_state(3)
    tensors, meta = flatten_state(state)
    back = unflatten_state(tensors, json.loads(json.dumps(meta, allow_nan=False)))
    assert_same(state, back)
    rng = random.Random()
    rng.setstate(back["python_rng"])  # the restored states are usable, not just equal
    gen = np.random.default_rng()
    gen.bit_generator.state = back["numpy_rng"]
    assert gen.random() == np.random.default_rng(3).random()
    torch.set_rng_state(back["torch_rng"])


def test_optimizer_restores_from_flattened_state() -> None:
    state = training_state(1)
    tensors, meta = flatten_state(state)
    back = unflatten_state(tensors, meta)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model.load_state_dict(back["model"])
    opt.load_state_dict(back["optimizer"])
    assert opt.state_dict()["param_groups"] == state["optimizer"]["param_groups"]


def test_unsupported_leaf_is_one_line_error() -> None:
    with pytest.raises(CheckpointError, match=r"state/x\(=object\) is not a tensor"):
        flatten_state({"x": object()})

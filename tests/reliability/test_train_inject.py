"""``--inject`` specs: parsing, the checks against the run, and the random-kill draw."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.reliability.train.inject import (
    InjectError,
    Injection,
    check_injections,
    draw_random_kill,
    parse_injection,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("kill:rank=2,step=137", Injection(kind="kill", rank=2, step=137)),
    ("random-kill:rate=0.01", Injection(kind="random-kill", rate_per_rank_step=0.01)),
    ("hang:rank=1,step=50", Injection(kind="hang", rank=1, step=50)),
    ("corrupt:step=40", Injection(kind="corrupt", step=40)),
    ("disk-full:step=60", Injection(kind="disk-full", step=60)),
    ("slow:rank=3,factor=3", Injection(kind="slow", rank=3, factor=3.0)),
])
def test_specs_parse_and_print_back(text: str, expected: Injection) -> None:
    parsed = parse_injection(text)
    assert parsed == expected
    assert parse_injection(parsed.text()) == parsed


@pytest.mark.parametrize(("text", "fragment"), [
    ("boom:rank=1", "kind 'boom' is unknown"),
    ("kill:rank=1", "kill needs step="),
    ("kill:rank=1,step=2,rank=3", "each once"),
    ("kill:rank=x,step=2", "rank='x' must be an integer"),
    ("slow:rank=1,factor=nan", "must be a finite number"),
    ("kill:rank=1,steps=2", "is not one of"),
])
def test_malformed_specs_name_the_problem(text: str, fragment: str) -> None:
    with pytest.raises(InjectError, match=fragment):
        parse_injection(text)


@pytest.mark.parametrize(("text", "fragment"), [
    ("kill:rank=9,step=10", "rank=9 must be a rank in 0..3"),
    ("kill:rank=1,step=201", "step=201 must be in 1..200"),
    ("corrupt:step=30", "must be a checkpoint step"),
    ("random-kill:rate=1.5", "must be a probability"),
    ("slow:rank=0,factor=0.5", "factor=0.5 must be in 1..100"),
])
def test_specs_the_run_rules_out_are_refused(text: str, fragment: str) -> None:
    with pytest.raises(InjectError, match=fragment):
        check_injections([parse_injection(text)], ranks=4, steps=200, ckpt_every=20)


@settings(max_examples=50, deadline=None)
@given(rate=st.floats(1e-4, 0.5), world=st.integers(1, 16), first=st.integers(1, 1000),
       length=st.integers(0, 1000), seed=st.integers(0, 2**32))
def test_a_random_kill_lands_inside_the_attempt(rate: float, world: int, first: int,
                                               length: int, seed: int) -> None:
    draw = draw_random_kill(np.random.default_rng(seed), rate_per_rank_step=rate, world=world,
                            first_step=first, last_step=first + length)
    if draw is not None:
        rank, step = draw
        assert 0 <= rank < world
        assert first <= step <= first + length


def test_random_kill_steps_are_geometric_with_the_per_step_failure_probability() -> None:
    """Exact reference: the mean step of the first failure is 1 / (1 - (1 - p)^world)."""
    rng = np.random.default_rng(5)
    draws = [draw_random_kill(rng, rate_per_rank_step=0.01, world=4, first_step=1,
                              last_step=10**9) for _ in range(20000)]
    mean_step = np.mean([d[1] for d in draws if d is not None])
    expected = 1.0 / (1.0 - 0.99 ** 4)
    assert mean_step == pytest.approx(expected, rel=0.03)

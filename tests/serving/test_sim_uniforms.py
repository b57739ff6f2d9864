"""Block-drawn uniforms: the generator's own sequence, whatever the blocks and releases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.serving.sim.uniforms import BlockUniforms

BIT_GENERATORS = [np.random.PCG64, np.random.PCG64DXSM, np.random.Philox, np.random.SFC64,
                  np.random.MT19937]


@pytest.mark.parametrize("bit_generator", BIT_GENERATORS)
@settings(max_examples=40, deadline=None)
@given(steps=st.lists(st.one_of(st.integers(1, 3000), st.sampled_from(["release", "direct"])),
                      max_size=12))
def test_takes_releases_and_direct_draws_follow_one_sequence(
        bit_generator: type, steps: list[int | str]) -> None:
    """Taking k doubles, releasing, or drawing straight from the generator (after a
    release, as the engine does) yields exactly what plain ``random()`` calls would."""
    rng = np.random.Generator(bit_generator(11))
    uniforms = BlockUniforms(rng)
    got: list[float] = []
    for step in steps:
        if step == "release":
            uniforms.release()
        elif step == "direct":
            uniforms.release()
            got.append(rng.random())
        else:
            got.extend(uniforms.random() for _ in range(int(step)))
    uniforms.release()
    got.append(rng.random())  # the generator itself is where plain calls would leave it
    want = np.random.Generator(bit_generator(11)).random(len(got)).tolist()
    assert got == want


def test_a_draw_by_someone_else_while_values_are_held_is_never_repeated() -> None:
    """Someone sharing the generator draws behind the stream's back: the release then
    leaves the generator alone rather than hand the same numbers out twice."""
    rng = np.random.default_rng(3)
    uniforms = BlockUniforms(rng)
    taken = [uniforms.random() for _ in range(5)]
    foreign = rng.random(4).tolist()
    uniforms.release()
    after = rng.random(50).tolist()
    assert not set(after) & set(taken + foreign)

"""MIG slices are charged their compute fraction; time-sliced shares by usage."""

from __future__ import annotations

import pytest

from mlfleet.errors import InputError
from mlfleet.infra.isolation.mig import PROFILES
from mlfleet.ops.cost.fractional import mig_gpu_fraction, time_sliced_gpus


def test_a100_1g_slice_is_one_seventh_and_seven_make_a_gpu() -> None:
    assert mig_gpu_fraction("A100-80GB:1g.10gb") == pytest.approx(1 / 7)
    assert 7 * mig_gpu_fraction("A100-80GB:1g.10gb") == pytest.approx(1.0)
    assert mig_gpu_fraction("H100-SXM:3g.40gb") == pytest.approx(3 / 7)


@pytest.mark.parametrize("gpu", sorted(PROFILES))
def test_every_profile_is_at_most_one_gpu(gpu: str) -> None:
    fractions = [mig_gpu_fraction(f"{gpu}:{p.name}") for p in PROFILES[gpu]]
    assert all(0 < f <= 1 for f in fractions)
    assert max(fractions) == 1.0  # 7g is the whole GPU


@pytest.mark.parametrize("spec", ["A100-80GB", "A100-80GB:9g.90gb", "T4:1g.10gb"])
def test_bad_mig_specs_name_the_value(spec: str) -> None:
    with pytest.raises(InputError, match="(mig|MIG|accelerator)"):
        mig_gpu_fraction(spec)


def test_oversubscribed_time_slices_are_scaled_to_the_gpu() -> None:
    assert time_sliced_gpus([0.6, 0.6]) == pytest.approx([0.5, 0.5])
    assert time_sliced_gpus([0.2, 0.3]) == [0.2, 0.3]
    with pytest.raises(InputError, match="used_gpus"):
        time_sliced_gpus([-0.1])

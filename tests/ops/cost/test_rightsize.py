"""Right-sizing: percentile x headroom, rounded to the resource's step, and the saving."""

from __future__ import annotations

import numpy as np
import pytest

from mlfleet.errors import InputError
from mlfleet.ops.cost.rightsize import recommended_request, rightsize


def test_recommendation_is_percentile_times_headroom() -> None:
    usage = np.arange(1.0, 101.0)  # p95 (linear) = 95.05
    assert recommended_request(usage, percentile=95, headroom=1.2) == pytest.approx(95.05 * 1.2)


def test_gpu_requests_round_up_to_whole_gpus_or_mig_slices() -> None:
    usage = np.full(24, 2.5)
    assert recommended_request(usage, headroom=1.2, step=1.0) == 3.0
    assert recommended_request(np.full(5, 0.1), headroom=1.2, step=1 / 7) == pytest.approx(1 / 7)


def test_saving_per_month() -> None:
    r = rightsize(name="train", resource="gpu", requested=8, usage=np.full(24, 2.5),
                  usd_per_unit_h=4.0, step=1.0, hours_per_month=730)
    assert (r.recommended, r.action) == (3.0, "shrink")
    assert r.saving_usd_per_month == pytest.approx(5 * 4.0 * 730)
    grow = rightsize(name="s", resource="gpu", requested=1, usage=np.full(3, 1.0),
                     usd_per_unit_h=1.0, step=1.0, hours_per_month=730)
    assert grow.action == "grow" and grow.saving_usd_per_month == pytest.approx(-730)


@pytest.mark.parametrize(("usage", "kwargs", "fragment"), [
    ([], {}, "no samples"), ([-1.0], {}, "usage"), ([1.0], {"percentile": 0}, "percentile"),
    ([1.0], {"headroom": 0}, "headroom"),
])
def test_bad_inputs(usage: list[float], kwargs: dict[str, float], fragment: str) -> None:
    with pytest.raises(InputError, match=fragment):
        recommended_request(np.array(usage), **kwargs)

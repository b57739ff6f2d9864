"""Memory-bandwidth use by model type: the roofline's own arithmetic, by hand."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlfleet.errors import CatalogError, InputError
from mlfleet.infra.power import bandwidth_use as bw


def test_decode_at_batch_1_is_memory_bound_and_saturates_bandwidth() -> None:
    r = bw.bandwidth_use("llm-decode", accelerator="H100", batch=1)
    assert r.bound == "memory" and r.bandwidth_utilisation == pytest.approx(1.0)
    assert r.compute_utilisation == pytest.approx(r.arithmetic_intensity / r.ridge_flop_per_byte)


def test_embedding_lookup_intensity_by_hand() -> None:
    # Per sample: 214 rows x 128 read (1 add each) and 26 x 128 written, 2 B per element:
    # intensity = 214 / ((214 + 26) x 2) = 0.4458 FLOP/byte.
    r = bw.bandwidth_use("recsys-embedding", accelerator="H100", batch=4096)
    assert r.arithmetic_intensity == pytest.approx(214 / (240 * 2))


def test_conv_intensity_by_hand() -> None:
    # 3x3 conv, 128 -> 128 at 28x28, batch 32, bf16:
    # FLOP = 2 * 32*784 * 128 * 1152; bytes = (2 * 32*784*128 + 1152*128) * 2.
    flop = 2 * 32 * 784 * 128 * 1152
    mem = (2 * 32 * 784 * 128 + 1152 * 128) * 2
    r = bw.bandwidth_use("cnn-conv", accelerator="A100", batch=32)
    assert r.arithmetic_intensity == pytest.approx(flop / mem)
    assert r.bound == "compute"
    assert r.bandwidth_utilisation == pytest.approx(r.ridge_flop_per_byte / (flop / mem))


def test_training_is_compute_bound_and_leaves_bandwidth_idle() -> None:
    r = bw.bandwidth_use("llm-train", accelerator="H100", batch=8)
    assert r.bound == "compute" and r.bandwidth_utilisation < 0.1


def test_table_has_every_type() -> None:
    rows = bw.bandwidth_table(accelerator="MI300X")
    assert {r.model_type for r in rows} == set(bw.MODEL_TYPES)


@given(st.sampled_from(bw.MODEL_TYPES), st.integers(1, 10_000),
       st.sampled_from(["H100", "A100", "B200", "MI300X"]))
def test_one_resource_is_saturated(model_type: str, batch: int, acc: str) -> None:
    r = bw.bandwidth_use(model_type, accelerator=acc, batch=batch)
    assert max(r.bandwidth_utilisation, r.compute_utilisation) == pytest.approx(1.0)
    assert 0 < min(r.bandwidth_utilisation, r.compute_utilisation) <= 1.0 + 1e-12


def test_bad_input() -> None:
    with pytest.raises(InputError, match="model_type"):
        bw.bandwidth_use("gnn", accelerator="H100", batch=1)
    with pytest.raises(InputError, match=r"batch\(=0\)"):
        bw.bandwidth_use("llm-decode", accelerator="H100", batch=0)
    with pytest.raises(CatalogError, match="closest"):
        bw.bandwidth_use("llm-decode", accelerator="H1OO", batch=1)

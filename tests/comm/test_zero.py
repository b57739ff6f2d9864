"""ZeRO / FSDP memory and communication (Rajbhandari et al. 2020)."""

from __future__ import annotations

import pytest

from mlfleet.comm.cost import CommInputError
from mlfleet.comm.zero import zero_comm_bytes, zero_memory_bytes, zero_stages


def test_paper_example_7_5b_on_64_gpus() -> None:
    # Rajbhandari et al. 2020, Fig. 1: Ψ = 7.5B, N_d = 64, K = 12
    psi, n = 7.5e9, 64
    got = [zero_memory_bytes(psi, n, stage=s) / 1e9 for s in ("ddp", "zero1", "zero2", "zero3")]
    assert got == pytest.approx([120.0, 31.4, 16.6, 1.9], abs=0.05)


def test_communication_volumes() -> None:
    psi, n = 1e9, 8
    ddp = zero_comm_bytes(psi, n, stage="ddp")
    assert ddp == pytest.approx(2 * psi * 2 * 7 / 8)
    assert zero_comm_bytes(psi, n, stage="zero1") == pytest.approx(ddp)
    assert zero_comm_bytes(psi, n, stage="zero2") == pytest.approx(ddp)
    assert zero_comm_bytes(psi, n, stage="zero3") == pytest.approx(1.5 * ddp)


def test_stage_table_and_fsdp_names() -> None:
    rows = zero_stages(1e9, 8)
    assert [r.stage for r in rows] == ["ddp", "zero1", "zero2", "zero3"]
    assert "FSDP FULL_SHARD" in rows[3].label and "SHARD_GRAD_OP" in rows[2].label
    assert rows[3].collectives == (("allgather", 2e9), ("allgather", 2e9),
                                   ("reduce_scatter", 2e9))
    memory = [r.memory_bytes_per_gpu for r in rows]
    assert memory == sorted(memory, reverse=True)


def test_bad_input() -> None:
    with pytest.raises(CommInputError, match="stage"):
        zero_memory_bytes(1e9, 8, stage="zero4")
    with pytest.raises(CommInputError, match="n_gpus"):
        zero_memory_bytes(1e9, 0, stage="ddp")
    with pytest.raises(CommInputError, match="params"):
        zero_memory_bytes(-1.0, 8, stage="ddp")

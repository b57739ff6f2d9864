"""Checkpoint cost model: write time, monthly bytes, retention, incremental checkpoints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from cli_helpers import run_main
from mlfleet.catalog.types import Workload
from mlfleet.storage.checkpoint import CheckpointStore, checkpoint_bytes_for_params
from mlfleet.storage.checkpoint.cost_model import (
    Incremental,
    checkpoint_cost,
    delta_bytes,
    stored_checkpoints,
)


def test_full_checkpoints() -> None:
    size = checkpoint_bytes_for_params(1e9)  # 14 GB
    cost = checkpoint_cost(size, write_bw_bytes_per_s=7e9, interval_s=3600, keep_last=3,
                           keep_every=24, usd_per_gb_month=0.02)
    assert cost.full_write_s == pytest.approx(2.0) and cost.keeps_up
    assert cost.checkpoints_per_month == 720
    assert cost.written_bytes_per_month == pytest.approx(720 * 14e9)
    assert cost.stored_bytes == pytest.approx((3 + 30) * 14e9)  # last 3 + one a day for 30 days
    assert cost.storage_usd_per_month == pytest.approx(33 * 14 * 0.02)


def test_stored_checkpoints_under_delta_chains() -> None:
    assert stored_checkpoints(per_month=720, keep_last=3, keep_every=0, full_every=1) == (3, 0)
    # last 3 may reach back to a full one 9 deltas earlier: 12 checkpoints, 2 of them full
    assert stored_checkpoints(per_month=720, keep_last=3, keep_every=0, full_every=10) == (2, 10)
    assert stored_checkpoints(per_month=2, keep_last=3, keep_every=0, full_every=1) == (2, 0)


def test_delta_bytes_match_the_store_on_a_real_table(tmp_path: Path) -> None:
    """The model's incremental size against a delta shard the store writes (exact layout)."""
    rows, dim, changed = 20_000, 32, 0.05
    table = torch.randn(rows, dim)
    store = CheckpointStore(tmp_path)
    store.write_shard(1, "r", {"emb": table})
    store.commit(1, ["r"])
    new = table.clone()
    new[torch.randperm(rows, generator=torch.Generator().manual_seed(0))[:int(changed * rows)]] += 1
    rec = store.write_shard(2, "r", {"emb": new}, delta_from=1)
    size = checkpoint_bytes_for_params(rows * dim, precision="fp32", optimizer="none")
    model = delta_bytes(size, Incremental(embedding_params=rows * dim, embedding_dim=dim,
                                          changed_rows_fraction=changed, full_every=10))
    assert abs(rec.bytes - model) / model < 0.01  # only the safetensors header differs


def test_dlrm_incremental_writes_fewer_bytes() -> None:
    w = Workload.from_name("DLRM-DCNv2")
    size = checkpoint_bytes_for_params(w.params, precision="fp32", optimizer="adagrad")
    inc = Incremental(embedding_params=w.shape["rows_total"] * 128, embedding_dim=128,
                      changed_rows_fraction=0.05, full_every=10)
    full = checkpoint_cost(size, write_bw_bytes_per_s=10e9, interval_s=3600)
    part = checkpoint_cost(size, write_bw_bytes_per_s=10e9, interval_s=3600, incremental=inc)
    ratio = full.written_bytes_per_month / part.written_bytes_per_month
    assert 6 < ratio < 7  # Check-N-Run (NSDI'22) reports 6-17x less write bandwidth


def test_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "storage", "checkpoint", "-w", "Llama-3-405B",
                            "--write-bw", "100GB/s", "--json")
    assert code == 0
    row = json.loads(out)["checkpoints"][0]
    assert row["full_bytes"] == pytest.approx(405.85e9 * 14, rel=1e-3)
    assert row["full_write_s"] == pytest.approx(row["full_bytes"] / 100e9)


@pytest.mark.parametrize(("args", "fragment"), [
    (["-w", "Llama-3-8B", "--changed-rows", "0.1"], "needs embedding tables"),
    (["-w", "DLRM-DCNv2", "--changed-rows", "1.5"], "--changed-rows(=1.5)"),
    (["-w", "Llama-3-8B", "--keep-last", "0"], "--keep-last(=0)"),
    (["-w", "Llama-3-8B", "--every", "0s"], "--every(='0s')"),
    (["-w", "Llama-3-8B", "--write-bw", "-1GB/s"], "--write-bw"),
])
def test_cli_bad_input_is_one_line(capsys: pytest.CaptureFixture[str], args: list[str],
                                   fragment: str) -> None:
    code, out, err = run_main(capsys, "storage", "checkpoint", *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and fragment in err

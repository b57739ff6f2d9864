"""`mlfleet run train --record`: a reproducibility record of a real run that
`mlfleet ops record --verify` checks, and names what changed afterwards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_helpers import assert_one_line_error, run_cli


@pytest.mark.slow
def test_a_real_run_records_its_checkpoint_and_verify_names_a_changed_one(
        tmp_path: Path) -> None:
    record, ckpt = tmp_path / "run.json", tmp_path / "ck"
    proc = run_cli("run", "train", "--ranks", "2", "--steps", "10", "--ckpt-every", "5",
                   "--ckpt-dir", str(ckpt), "--record", str(record), "--json")
    assert proc.returncode == 0, proc.stderr
    body = json.loads(record.read_text())
    assert body["kind"] == "training"
    assert body["model"]["path"].endswith("step-00000010")
    assert body["extra"]["final_weights_sha256"] == json.loads(proc.stdout)["sha256"]
    assert body["configuration"]["canonical"]["run train"]["seed"] == 0
    assert run_cli("ops", "record", "--verify", str(record)).returncode == 0
    shard = next(p for p in sorted((ckpt / "step-00000010").rglob("*")) if p.is_file())
    shard.write_bytes(shard.read_bytes() + b"x")
    changed = run_cli("ops", "record", "--verify", str(record))
    assert changed.returncode == 3
    assert shard.name in changed.stdout + changed.stderr


def test_a_record_path_in_a_missing_directory_is_refused_before_the_run(
        tmp_path: Path) -> None:
    proc = run_cli("run", "train", "--ranks", "2", "--steps", "2",
                   "--record", str(tmp_path / "no" / "run.json"))
    assert_one_line_error(proc, "--record")

"""Reproducibility records: exact hashes, a changed data file named by --verify, real git."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from cli_helpers import assert_one_line_error, run_cli, run_main
from mlfleet.errors import InputError
from mlfleet.ops.declare.code_version import code_version
from mlfleet.ops.declare.content_hash import (
    CHUNK_BYTES,
    MAX_LISTED_FILES,
    content_version,
    file_sha256,
)
from mlfleet.ops.declare.environment_lock import environment_lock, moved_distributions
from mlfleet.ops.declare.record import (
    build_record,
    configuration_of,
    record_json,
    write_record,
)
from mlfleet.ops.declare.record_verify import read_record, verify_record

ENVIRONMENTS = Path(__file__).resolve().parents[3] / "src" / "mlfleet" / "examples" / "environments"


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t",
                    *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A real git checkout with one commit (the code of the run)."""
    root = tmp_path / "code"
    root.mkdir()
    (root / "train.py").write_text("print('train')\n")
    git(root, "init", "-q")
    git(root, "add", "train.py")
    git(root, "commit", "-q", "-m", "first")
    return root


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    (root / "part").mkdir(parents=True)
    for i in range(3):
        (root / "part" / f"shard-{i}.csv").write_text(f"id,label\n{i},1\n")
    (root / "schema.json").write_text("{}")
    return root


def test_file_hash_equals_sha256sum(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(bytes(range(256)) * 20_000)  # 5 MB: several 1 MiB chunks
    sha256sum = subprocess.run(["sha256sum", str(path)], capture_output=True, text=True,
                               check=True).stdout.split()[0]
    assert file_sha256(path) == sha256sum == hashlib.sha256(path.read_bytes()).hexdigest()


def test_hashing_memory_is_bounded(tmp_path: Path) -> None:
    import tracemalloc

    path = tmp_path / "64mb.bin"
    with open(path, "wb") as handle:
        for _ in range(64):
            handle.write(bytes(1 << 20))
    tracemalloc.start()
    try:
        file_sha256(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * CHUNK_BYTES, peak  # one chunk in flight, not the 64 MiB file


def test_directory_hash_covers_names_sizes_and_contents(dataset: Path) -> None:
    before = content_version(dataset)
    assert before.kind == "directory" and before.files == 4 and before.file_sha256 is not None
    assert set(before.file_sha256) == {"part/shard-0.csv", "part/shard-1.csv",
                                       "part/shard-2.csv", "schema.json"}
    (dataset / "part" / "shard-1.csv").rename(dataset / "part" / "shard-9.csv")
    assert content_version(dataset).sha256 != before.sha256
    (dataset / "part" / "shard-9.csv").rename(dataset / "part" / "shard-1.csv")
    assert content_version(dataset).sha256 == before.sha256
    assert MAX_LISTED_FILES >= 1000


def test_record_then_change_one_data_file_and_verify_names_it(
        repo: Path, dataset: Path, tmp_path: Path) -> None:
    model = tmp_path / "model.pt"
    model.write_bytes(b"weights")
    record = build_record(data=[dataset], model=model, code_root=repo,
                          configuration=configuration_of({"lr": 0.1}))
    assert verify_record(record) == []
    (dataset / "part" / "shard-2.csv").write_text("id,label\n2,0\n")
    assert verify_record(record) == [f"data[0] {dataset}: content changed (part/shard-2.csv)"]


def test_code_version_reads_real_git(repo: Path) -> None:
    clean = code_version(repo)
    assert clean.source == "git" and clean.dirty is False and clean.diff_sha256 is None
    assert clean.commit is not None and len(clean.commit) == 40
    (repo / "train.py").write_text("print('train v2')\n")
    dirty = code_version(repo)
    assert dirty.commit == clean.commit and dirty.dirty is True and dirty.diff_sha256
    (repo / "notes.txt").write_text("untracked")
    assert code_version(repo).diff_sha256 != dirty.diff_sha256
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "second")
    after = code_version(repo)
    assert after.dirty is False and after.commit != clean.commit


def test_code_outside_git_is_the_package_version(tmp_path: Path) -> None:
    version = code_version(tmp_path)
    assert version.source == "package" and version.commit is None


def test_an_uncommitted_change_is_named_by_verify(repo: Path, tmp_path: Path) -> None:
    record = build_record(code_root=repo, configuration=configuration_of({}))
    (repo / "train.py").write_text("print('train v2')\n")
    changes = verify_record(record)
    assert [c.split(" ")[1] for c in changes] == ["dirty", "diff_sha256"]


def test_environment_lock_lists_installed_packages() -> None:
    lock = environment_lock()
    names = {d.split("==")[0].lower() for d in lock.distributions}
    assert {"numpy", "click", "pydantic"} <= names
    assert list(lock.distributions) == sorted(lock.distributions, key=lambda d: d.split("==")[0]
                                              .lower().replace("_", "-").replace(".", "-"))
    assert lock.sha256 == environment_lock().sha256
    assert moved_distributions(["a==1", "b==2"], ["a==2", "c==1"]) == ["a 1 -> 2", "+ c 1",
                                                                        "- b 2"]


def test_record_file_round_trips(repo: Path, dataset: Path, tmp_path: Path) -> None:
    record = build_record(data=[dataset], code_root=repo, configuration=configuration_of({"a": 1}))
    path = tmp_path / "record.json"
    write_record(path, record)
    assert read_record(path) == record
    assert json.loads(path.read_text())["mlfleet_record"] == 1
    assert record_json(record)["environment"]["sha256"] == record.environment.sha256


def test_a_missing_data_directory_is_named(repo: Path, dataset: Path) -> None:
    record = build_record(data=[dataset], code_root=repo)
    shutil.rmtree(dataset)
    assert verify_record(record) == [f"data[0] {dataset}: missing"]


# --- the command --------------------------------------------------------------------------


def test_cli_record_and_verify(repo: Path, dataset: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "dev.yaml"
    shutil.copy(ENVIRONMENTS / "dev.yaml", scenario)
    out = tmp_path / "record.json"
    code, stdout, err = run_main(capsys, "ops", "record", "--data", str(dataset), "--config",
                                 str(scenario), "--code", str(repo), "--out", str(out))
    assert code == 0 and stdout.startswith(f"wrote {out}"), err
    assert run_main(capsys, "ops", "record", "--verify", str(out))[0] == 0
    scenario.write_text(scenario.read_text().replace("max_batch_size: 32", "max_batch_size: 64"))
    (dataset / "schema.json").write_text('{"v": 2}')
    code, stdout, err = run_main(capsys, "ops", "record", "--verify", str(out), "--json")
    assert code == 3
    assert json.loads(stdout)["changes"] == [
        f"data[0] {dataset}: content changed (schema.json)",
        f"configuration {scenario}: changed (deployment.rank.max_batch_size)"]
    assert err.strip() == f"error: {out}: 2 part(s) changed since the record was written"


def test_cli_bad_input_is_one_line(tmp_path: Path) -> None:
    not_record = tmp_path / "x.json"
    not_record.write_text("[1, 2]")
    assert_one_line_error(run_cli("ops", "record", "--verify", str(not_record)),
                          "is not an mlfleet record")
    assert_one_line_error(run_cli("ops", "record", "--data", str(tmp_path / "nope")),
                          "is not a file or directory")
    out = tmp_path / "missing-dir" / "r.json"
    assert_one_line_error(run_cli("ops", "record", "--data", str(not_record), "--out", str(out)),
                          "cannot write")
    assert not out.parent.exists()
    assert_one_line_error(run_cli("ops", "record"), "give what the run used")


@pytest.mark.parametrize("path", ["/proc", "/dev/zero", "/sys/kernel"])
def test_kernel_pseudo_files_are_refused_not_hashed_forever(path: str) -> None:
    with pytest.raises(InputError, match="pseudo-file system"):
        content_version(Path(path))

"""``mlfleet scenario init``, ``plan -`` and every scenario error on its own line, as a user
runs them: exit status, one line per error, no traceback, no partial file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cli_helpers import ENTRY, assert_one_line_error, run_cli
from mlfleet.scenario import bundled_scenarios, load_scenario
from mlfleet.scenario.template import template_text, write_template

MISSPELLED = "name: x\nworkload: DLRM\ncluster: DGX-H100\nservng:\n  qps: 5\nprics: {}\n"


def run_stdin(data: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-c", ENTRY, *args], input=data, capture_output=True,
                          timeout=120, check=False)


def test_every_misspelled_key_gets_its_own_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(MISSPELLED)
    proc = run_cli("scenario", "check", str(path))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.splitlines() == [
        f"error: {path}:4: servng: unknown field is not allowed; did you mean 'serving'? "
        "allowed at the top level are fields name, description, workload, cluster, training, "
        "serving, storage, scheduling, deployment, ops, prices, constraints",
        f"error: {path}:6: prics: unknown field is not allowed; did you mean 'prices'? "
        "allowed at the top level are fields name, description, workload, cluster, training, "
        "serving, storage, scheduling, deployment, ops, prices, constraints"]
    assert "more error" not in proc.stderr
    assert run_cli("plan", str(path)).stderr == proc.stderr


def test_plan_reads_the_scenario_from_stdin() -> None:
    example = next(p for p in bundled_scenarios() if p.stem == "recsys-serving")
    from_stdin = run_stdin(example.read_bytes(), "plan", "-", "--json")
    from_file = run_cli("plan", str(example), "--json")
    assert from_stdin.returncode == from_file.returncode == 0, from_stdin.stderr
    assert from_stdin.stdout.decode() == from_file.stdout


@pytest.mark.parametrize(("data", "fragment"), [
    (b"\xff\xfe\x00junk", "<stdin>: not UTF-8 text"),
    (MISSPELLED.encode(), "<stdin>:4: servng: unknown field"),
    (b"", "<stdin>: empty scenario"),
])
def test_plan_from_bad_stdin_is_exit_2(data: bytes, fragment: str) -> None:
    proc = run_stdin(data, "plan", "-")
    assert proc.returncode == 2 and b"Traceback" not in proc.stderr
    assert proc.stderr.decode().splitlines()[0].startswith(f"error: {fragment}")


@pytest.mark.parametrize("example", [p.stem for p in bundled_scenarios()])
def test_init_writes_a_commented_example_that_checks(tmp_path: Path, example: str) -> None:
    path = tmp_path / "my.yaml"
    proc = run_cli("scenario", "init", str(path), "--example", example)
    assert proc.returncode == 0, proc.stderr
    text = path.read_text()
    assert text.startswith(f"# Written by `mlfleet scenario init --example {example}`")
    bundled = next(p for p in bundled_scenarios() if p.stem == example)
    assert text.endswith(bundled.read_text())  # comments kept, byte for byte
    assert load_scenario(path) == load_scenario(bundled)
    assert run_cli("scenario", "check", str(path)).returncode == 0


def test_init_default_path_and_stdout(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", ENTRY, "scenario", "init"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "scenario.yaml").read_text() == template_text()
    assert run_cli("scenario", "init", "-").stdout == template_text()


def test_init_keeps_an_existing_file_unless_forced(tmp_path: Path) -> None:
    path = tmp_path / "my.yaml"
    path.write_text("mine\n")
    assert_one_line_error(run_cli("scenario", "init", str(path)), "already exists", "--force")
    assert path.read_text() == "mine\n"
    assert run_cli("scenario", "init", str(path), "--force").returncode == 0
    assert path.read_text() == template_text()


@pytest.mark.parametrize(("args", "fragment"), [
    (["--example", "nope"], "--example(='nope') is not a bundled example; known: "),
    (["/nonexistent-dir/my.yaml"], "cannot write '/nonexistent-dir/my.yaml'"),
])
def test_init_bad_input_is_one_line(args: list[str], fragment: str) -> None:
    assert_one_line_error(run_cli("scenario", "init", *args), fragment)


def test_a_failed_write_leaves_no_partial_file(tmp_path: Path) -> None:
    from mlfleet.errors import ScenarioError

    target = tmp_path / "my.yaml"
    with pytest.raises(ScenarioError, match="cannot write"):
        write_template(target, "a: \ud800\n")  # not encodable: fails half-way through writing
    assert list(tmp_path.iterdir()) == []
